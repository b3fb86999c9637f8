"""The sandbox answers like the vendor's API reference: every GET operation's example body has its
counterpart in the sandbox's body, with the same keys and JSON kinds (see ``shapes``).

Each operation is asked of the seeded world, plus what the seed has no instance of: a webhook with a
delivery, and a product whose own review flows approve (with a rule) and whose sources include an S3
one. Every body is validated against the spec too, so the sandbox answers with the union of the two,
and parsed by the client's model of the operation.
"""

from __future__ import annotations

import json
import typing
from pathlib import Path
from typing import Any

import pytest
from openapi_core import OpenAPI
from pydantic import TypeAdapter

from marketplace_slack.marketplace import models as m
from marketplace_slack.marketplace.client import OPERATIONS, MarketplaceClient
from marketplace_slack_standins.sandbox.world import ADMIN, CUSTOMER_360, RICK, SARA, WEB_ANALYTICS

from .conftest import Api, Contract, Receiver
from .shapes import Comparison

TAGS = frozenset(str(v) for enum in (m.ApproverType, m.PolicyEventType, m.FormFieldType) for v in enum)
# The reference's example bodies, as tests/marketplace/seeds.py extracts them.
EXAMPLES = Path(__file__).parents[1] / "marketplace" / "data" / "seed_examples.json"
GET_EXAMPLES = {
    e["path"]: e["responses"][0] for e in json.loads(EXAMPLES.read_text()) if e["method"] == "GET"
}

Call = tuple[str, dict[str, Any], str]  # path, query, as user
# The client's model of each GET operation's body: the return annotation of the method for it.
MODELS = {
    op.path: typing.get_type_hints(getattr(MarketplaceClient, op.client_method))["return"]
    for op in OPERATIONS.values()
    if op.method == "GET"
}


def _approve(comment: str, days: int) -> dict[str, Any]:
    return {"type": "approve", "params": {"comment": comment, "duration": days, "durationUnit": "DAYS"}}


# A product's own flow as the reference shows one: a rule, and an approving default with every param.
OWN_FLOW = {
    "rules": [
        {
            "conditions": {
                "all": [{"fact": "groups", "operator": "contains", "value": "Marketing Analysts"}]
            },
            "event": _approve("Analysts have standing access", 90),
        }
    ],
    "defaultEvent": _approve("Self-service, reviewed monthly", 30),
}


async def _additions(c: Contract, receiver: Receiver) -> dict[str, str]:
    """What the seeded world has no instance of, made through the API; returns the new ids."""
    state = c.api.server.state
    marketing = next(d.id for d in state.domains.values() if d.name == "Marketing")
    sources = [s for s in state.sources.values() if s.name in ("Web Sessions", "Clickstream Archive")]
    form = next(f for f in state.forms.values() if f.name == "Open Access for 30 Days")
    product = await c.call(
        "POST",
        "/api/data-product",
        expect=201,
        json={
            "name": "Reference Shapes",
            "description": "Made by the reference comparison",
            "metadata": {"subjectMatterExpert": {"id": c.api.gid(SARA)}},
            "domains": [marketing],
            "dataSources": [{"sourceId": str(s.source_id)} for s in sources],
            "dataAccessRequestFormId": form.id,
            "dataAccessPolicy": OWN_FLOW,
            "maskingExceptionPolicy": OWN_FLOW,
        },
    )
    await c.call(
        "POST",
        f"/api/data-product/{product['id']}/request",
        as_user=RICK,
        expect=201,
        json={"user": c.api.gid(RICK)},
    )
    hook = await c.call("POST", "/api/notification/webhook", json={"url": receiver.url, "signingKey": "k3y"})
    await c.call("POST", f"/api/notification/webhook/{hook['id']}/test")
    await c.api.server.webhooks.drain()
    return {"product": product["id"], "hook": hook["id"]}


def _plan(api: Api, new: dict[str, str]) -> dict[str, list[Call]]:
    """Requests equivalent to each example's: enough of them that every value it shows turns up."""
    state = api.server.state
    products = list(state.products.values())
    requests = list(state.requests.values())
    exceptions = [r for r in requests if r.type == "MASKING_EXCEPTION"]
    granted = next(r for r in exceptions if r.status == "APPROVED")
    temporary = next(r for r in requests if r.expiration is not None)
    staged = next(r for r in requests if r.status == "APPROVED" and any(x.prerequisites for x in r.records))
    for_a_time = next(r for r in requests if any(x.duration for x in r.records))
    pending = next(r for r in requests if r.status == "PENDING" and r.type == "DATA_ACCESS")
    customer = api.product_id(CUSTOMER_360)
    forms = list(state.forms.values())
    product = f"/api/data-product/{new['product']}"
    hook = f"/api/notification/webhook/{new['hook']}"

    def each(
        template: str, ids: list[str], query: dict[str, Any] | None = None, user: str = ADMIN
    ) -> list[Call]:
        return [(template.format(i), query or {}, user) for i in ids]

    product_ids = [p.id for p in products]
    return {
        "/api/access-request": [("/api/access-request", {"limit": 100}, ADMIN)],
        "/api/access-request/approved-masking-exception-columns": [
            (
                "/api/access-request/approved-masking-exception-columns",
                {"userId": granted.user.global_user_id},
                ADMIN,
            )
        ],
        "/api/access-request/{id}": each("/api/access-request/{}", [temporary.id, pending.id]),
        "/api/access-request/{id}/masking-exception-columns": each(
            "/api/access-request/{}/masking-exception-columns", [exceptions[0].id]
        ),
        "/api/access-request/{id}/records": each(
            "/api/access-request/{}/records", [staged.id, for_a_time.id]
        ),
        "/api/access-request/{id}/risk-assessment": each(
            "/api/access-request/{}/risk-assessment", [pending.id]
        ),
        "/api/data-product": [
            ("/api/data-product", {"limit": 100}, RICK),
            ("/api/data-product", {"limit": 2}, RICK),  # a page with a next token
        ],
        "/api/data-product/{id}": each("/api/data-product/{}", product_ids, user=RICK),
        "/api/data-product/{id}/columns": [(f"/api/data-product/{customer}/columns", {"limit": 100}, ADMIN)],
        # a first page of one (with a next token), and all of them (the S3 source has a prefix)
        "/api/data-product/{id}/datasources": [
            (f"{product}/datasources", {"limit": 1}, RICK),
            (f"{product}/datasources", {"limit": 10}, RICK),
        ],
        "/api/data-product/{id}/datasources/all": [
            (f"/api/data-product/{customer}/datasources/all", {}, ADMIN)
        ],
        "/api/data-product/{id}/members": each("/api/data-product/{}/members", product_ids),
        "/api/data-product/{id}/recent-determinations": each(
            "/api/data-product/{}/recent-determinations", product_ids
        ),
        "/api/data-product/{id}/request": each("/api/data-product/{}/request", product_ids, {"limit": 100}),
        "/api/data-product/{id}/request-forms": each("/api/data-product/{}/request-forms", product_ids),
        "/api/data-product/{name}/byName": each(
            "/api/data-product/{}/byName", [WEB_ANALYTICS, "Reference Shapes"], user=RICK
        ),
        "/api/data-use-agreement": [("/api/data-use-agreement", {}, ADMIN)],
        "/api/data-use-agreement/{id}": each("/api/data-use-agreement/{}", list(state.agreements)),
        "/api/data-use-agreement/{id}/request-forms": each(
            "/api/data-use-agreement/{}/request-forms", list(state.agreements)
        ),
        "/api/metadata/attributes": [("/api/metadata/attributes", {"type": "Role"}, ADMIN)],
        "/api/metadata/domain": [("/api/metadata/domain", {}, ADMIN)],
        "/api/metadata/domain/{id}": each("/api/metadata/domain/{}", list(state.domains)),
        "/api/metadata/domain/{id}/datasources": each(
            "/api/metadata/domain/{}/datasources", list(state.domains)
        ),
        "/api/metadata/groups": [("/api/metadata/groups", {}, ADMIN)],
        "/api/metadata/tags": [("/api/metadata/tags", {}, ADMIN)],
        "/api/metadata/users": [("/api/metadata/users", {}, ADMIN)],
        "/api/notification/user-preferences": [("/api/notification/user-preferences", {}, SARA)],
        "/api/notification/webhook": [("/api/notification/webhook", {}, ADMIN)],
        "/api/notification/webhook/{id}": [(hook, {}, ADMIN)],
        "/api/notification/webhook/{id}/history": [(f"{hook}/history", {}, ADMIN)],
        "/api/request-form": [("/api/request-form", {"limit": 100}, ADMIN)],
        "/api/request-form/{id}": each("/api/request-form/{}", [f.id for f in forms]),
        "/api/request-form/{id}/data-products": each(
            "/api/request-form/{}/data-products", [f.id for f in forms]
        ),
        "/api/request-form/version/{version}": each(
            "/api/request-form/version/{}", [f.version for f in forms]
        ),
        "/api/settings/frontend": [("/api/settings/frontend", {}, ADMIN)],
    }


async def test_every_get_example_of_the_reference_has_its_counterpart(
    api: Api, openapi: OpenAPI, receiver: Receiver
) -> None:
    c = Contract(api, openapi)
    plan = _plan(api, await _additions(c, receiver))
    assert set(plan) == set(GET_EXAMPLES)
    problems: dict[str, list[str]] = {}
    for template, calls in plan.items():
        comparison = Comparison(GET_EXAMPLES[template], TAGS)
        model = TypeAdapter(MODELS[template])
        for path, query, user in calls:
            body = await c.call("GET", path, as_user=user, params=query)
            comparison.add(body)
            model.validate_python(body)  # the client reads what the sandbox sends
        if found := comparison.problems():
            problems[template] = found
    assert problems == {}


async def test_frontend_settings_need_no_token(api: Api) -> None:
    answered = await api.client.get("api/settings/frontend")
    assert answered.status_code == 200
    assert answered.json()["theme"]["primaryColor"]
    refused = await api.client.get("api/auth/user")
    assert refused.status_code == 401


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"a": 1, "b": None, "c": [{"d": "x"}]}, None),
        ({"a": 1, "c": [{"d": "x"}]}, "$.b: missing"),
        ({"a": "1", "b": None, "c": [{"d": "x"}]}, "$.a: string where the reference has number"),
        ({"a": None, "b": None, "c": [{"d": "x"}]}, "$.a: never shown with a value"),
        ({"a": 1, "b": None, "c": []}, "$.c[]: never shown with a value"),
        ({"a": 1, "b": None, "c": [{"d": "x"}, {}]}, "$.c[].d: missing"),
    ],
)
def test_the_comparison_catches_what_it_is_meant_to(body: Any, problem: str | None) -> None:
    comparison = Comparison({"a": 1, "b": None, "c": [{"d": "text"}]}, TAGS)
    comparison.add(body)
    assert (problem in comparison.problems()) if problem else comparison.problems() == []


def test_union_members_are_compared_with_their_own_kind() -> None:
    example = {"event": {"type": "approve", "params": {"comment": "text"}}}
    comparison = Comparison(example, TAGS)
    comparison.add({"event": {"type": "review", "params": {"stages": []}}})
    assert "$.event.params.comment: never shown with a value" in comparison.problems()
    comparison.add({"event": {"type": "approve", "params": {"comment": "ok"}}})
    assert comparison.problems() == []
