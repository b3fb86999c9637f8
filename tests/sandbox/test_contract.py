"""Contract: every seed operation (and GET /api/auth/user), called on the running sandbox over HTTP,
with requests and responses validated against the vendor's OpenAPI spec.

The spec is repaired for its self-contradictions first (see tests/sandbox/spec.py and
docs/sandbox.md); nothing is skipped. The operations exercised are read back from the spec's own
path matching, so a missing or misrouted operation fails the final comparison.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from openapi_core import OpenAPI

from marketplace_slack_standins.sandbox.world import (
    ADMIN,
    CUSTOMER_360,
    FINANCE_STEWARDS,
    GINA,
    RICK,
    SALES_PIPELINE,
    SARA,
)

from . import spec
from .conftest import Api, Contract, Receiver


async def test_every_seed_operation_conforms_to_the_vendor_spec(
    api: Api, openapi: OpenAPI, receiver: Receiver
) -> None:
    c = Contract(api, openapi)
    state = api.server.state

    # identity, settings, directory
    me = await c.call("GET", "/api/auth/user")
    assert me["username"] == ADMIN and "GOVERNANCE" in me["globalPermissions"]
    await c.call("GET", "/api/settings/frontend")
    domains = (await c.call("GET", "/api/metadata/domain"))["domains"]
    sales = next(d for d in domains if d["name"] == "Sales")
    assert (await c.call("GET", f"/api/metadata/domain/{sales['id']}"))["name"] == "Sales"
    sources = await c.call("GET", f"/api/metadata/domain/{sales['id']}/datasources", params={"limit": 20})
    source_ids = [str(s["dataSourceId"]) for s in sources["data"]]
    users = (await c.call("GET", "/api/metadata/users", params={"filter": "sara"}))["users"]
    assert [u["username"] for u in users] == [SARA]
    groups = (await c.call("GET", "/api/metadata/groups", params={"filter": "Finance"}))["groups"]
    assert [g["name"] for g in groups] == [FINANCE_STEWARDS]
    assert (await c.call("GET", "/api/metadata/attributes", params={"type": "Role"}))["attributes"]
    assert await c.call(
        "GET", "/api/metadata/tags", params={"searchText": "Discovered", "fuzzySearch": "true"}
    )

    # data use agreements and request forms
    agreement = await c.call(
        "POST", "/api/data-use-agreement", expect=201, json={"name": "Contract DUA", "body": "Be nice."}
    )
    await c.call("GET", "/api/data-use-agreement", params={"nameFilter": "Contract", "limit": 5})
    await c.call("GET", f"/api/data-use-agreement/{agreement['id']}")
    await c.call(
        "PUT", f"/api/data-use-agreement/{agreement['id']}", expect=201, json={"body": "Be very nice."}
    )
    form_body = {
        "name": "Contract Form",
        "fields": [
            {"id": str(uuid.uuid4()), "type": "SHORT_ANSWER", "label": "Why?", "required": True},
            {
                "id": str(uuid.uuid4()),
                "type": "DROPDOWN",
                "label": "Team",
                "required": False,
                "options": [{"value": "A"}, {"value": "B"}],
            },
        ],
        "policy": {
            "rules": [],
            "defaultEvent": {
                "type": "review",
                "params": {"stages": [{"any": [{"type": "USER", "id": api.gid(SARA)}]}]},
            },
        },
        "dataUseAgreementIds": [agreement["id"]],
    }
    form = await c.call("POST", "/api/request-form", expect=201, json=form_body)
    assert [
        a["id"] for a in await c.call("GET", f"/api/data-use-agreement/{agreement['id']}/request-forms")
    ] == [form["id"]]
    await c.call("GET", "/api/request-form", params={"sortBy": "createdAt", "sortOrder": "desc"})
    await c.call("GET", f"/api/request-form/{form['id']}")
    updated = await c.call(
        "PUT", f"/api/request-form/{form['id']}", expect=201, json={"name": "Contract Form v2"}
    )
    assert updated["version"] != form["version"]
    old = await c.call("GET", f"/api/request-form/version/{form['version']}")
    assert old["name"] == "Contract Form"

    # data products
    product_body = {
        "name": "Contract Product",
        "description": "Made by the contract test",
        "metadata": {"subjectMatterExpert": {"id": api.gid(SARA)}},
        "domains": [sales["id"]],
        "dataSources": [{"sourceId": source_ids[0]}],
        "dataAccessRequestFormId": form["id"],
    }
    product = await c.call("POST", "/api/data-product", expect=201, json=product_body)
    assert product["status"] == "PUBLISHER"
    linked = await c.call("GET", f"/api/request-form/{form['id']}/data-products")
    assert linked == [
        {
            "id": product["id"],
            "name": "Contract Product",
            "requestTypes": ["DATA_ACCESS", "MASKING_EXCEPTION"],
        }
    ]
    page = await c.call("GET", "/api/data-product", params={"limit": 5, "sortBy": "name"})
    assert page["meta"]["nextToken"]
    await c.call("GET", f"/api/data-product/{product['id']}")
    await c.call("GET", "/api/data-product/Contract Product/byName")
    await c.call("PUT", f"/api/data-product/{product['id']}", json={"description": "Edited"})
    await c.call(
        "PUT",
        f"/api/data-product/{product['id']}/datasources",
        json={"dataSources": [{"sourceId": s} for s in source_ids[:2]]},
    )
    await c.call("GET", f"/api/data-product/{product['id']}/datasources", params={"limit": 1})
    assert (
        len((await c.call("GET", f"/api/data-product/{product['id']}/datasources/all"))["dataSources"]) == 2
    )
    customer = api.product_id(CUSTOMER_360)
    columns = await c.call(
        "GET", f"/api/data-product/{customer}/columns", params={"maskedOnly": "true", "limit": 50}
    )
    masked = {col["name"]: col for col in columns["data"]}
    assert {"email", "phone", "ssn"} <= set(masked)
    forms = await c.call("GET", f"/api/data-product/{customer}/request-forms")
    assert [f["requestType"] for f in forms] == ["DATA_ACCESS", "MASKING_EXCEPTION"]

    # requests, determinations, risk
    sales_pipeline = api.product_id(SALES_PIPELINE)
    created = await c.call(
        "POST",
        f"/api/data-product/{sales_pipeline}/request",
        as_user=RICK,
        expect=201,
        json={"user": api.gid(RICK)},
    )
    exception = await c.call(
        "POST",
        f"/api/data-product/{customer}/request/masking-exception",
        as_user=RICK,
        expect=201,
        json={
            "user": api.gid(RICK),
            "columns": [{"columnName": "email", "sourceId": masked["email"]["sourceId"]}],
        },
    )
    await c.call(
        "GET", "/api/access-request", params={"status": "PENDING", "sortBy": "dataProduct", "limit": 5}
    )
    await c.call("GET", f"/api/access-request/{created['id']}", as_user=RICK)
    records = (await c.call("GET", f"/api/access-request/{exception['id']}/records"))["approvalRecords"]
    assert [r["status"] for r in records] == ["PENDING", "PENDING"]
    risk = await c.call("GET", f"/api/access-request/{created['id']}/risk-assessment", as_user=SARA)
    assert risk["nAllowed"] + risk["nDenied"] > 0
    await c.call("GET", f"/api/access-request/{exception['id']}/masking-exception-columns")
    for record, approver in zip(records, (SARA, GINA), strict=True):
        decided = await c.call(
            "PUT",
            f"/api/approval-record/{record['id']}",
            as_user=approver,
            json={"status": "APPROVED", "reason": "ok"},
        )
        assert decided["actionBy"]["username"] == approver
    columns_now = await c.call(
        "GET", "/api/access-request/approved-masking-exception-columns", params={"userId": api.gid(RICK)}
    )
    assert columns_now == [{"columnName": "email", "sourceId": masked["email"]["sourceId"]}]
    sales_records = (await c.call("GET", f"/api/access-request/{created['id']}/records"))["approvalRecords"]
    await c.call(
        "PUT",
        f"/api/approval-record/{sales_records[0]['id']}",
        as_user=SARA,
        json={"status": "APPROVED", "duration": 2, "durationUnit": "WEEKS"},
    )
    await c.call("GET", f"/api/data-product/{sales_pipeline}/members", params={"searchText": "rick"})
    determinations = await c.call("GET", f"/api/data-product/{sales_pipeline}/recent-determinations")
    assert determinations["determinations"][0]["id"] == created["id"]
    await c.call(
        "GET",
        f"/api/data-product/{sales_pipeline}/request",
        params={"status": ["APPROVED", "DENIED"], "limit": 3},
    )
    await c.call(
        "DELETE", f"/api/data-product/{sales_pipeline}/request/{created['id']}", as_user=SARA, expect=204
    )
    to_cancel = await c.call(
        "POST",
        f"/api/data-product/{product['id']}/request",
        as_user=RICK,
        expect=201,
        json={"user": api.gid(RICK)},
    )
    await c.call("DELETE", f"/api/access-request/{to_cancel['id']}", as_user=RICK, expect=204)

    # notification preferences
    await c.call("GET", "/api/notification/user-preferences", as_user=SARA)
    change = {
        "preferences": [
            {
                "provider": "slack",
                "typePreferences": [{"notificationType": "ACCESS_REQUEST_CREATED", "enabled": True}],
            }
        ]
    }
    await c.call("PUT", "/api/notification/user-preferences", as_user=SARA, json=change)

    # webhooks
    hook = await c.call("POST", "/api/notification/webhook", json={"url": receiver.url, "signingKey": "k3y"})
    assert hook["signingKey"] is True
    await c.call("GET", "/api/notification/webhook")
    await c.call("GET", f"/api/notification/webhook/{hook['id']}")
    await c.call(
        "PUT", f"/api/notification/webhook/{hook['id']}", json={"url": receiver.url, "verifyTls": False}
    )
    assert (await c.call("POST", f"/api/notification/webhook/{hook['id']}/test"))["status"] == "SUCCESS"
    assert (await c.call("POST", "/api/notification/webhook/test", json={"url": receiver.url}))[
        "status"
    ] == "SUCCESS"
    await api.server.webhooks.drain()
    history = await c.call("GET", f"/api/notification/webhook/{hook['id']}/history")
    assert history["meta"]["totalCount"] >= 1
    await c.call("DELETE", f"/api/notification/webhook/{hook['id']}", expect=204)

    # deletions
    spare_form = await c.call(
        "POST",
        "/api/request-form",
        expect=201,
        json={**form_body, "name": "Spare Form", "dataUseAgreementIds": []},
    )
    await c.call("DELETE", f"/api/request-form/{spare_form['id']}", expect=204)
    spare_agreement = await c.call(
        "POST", "/api/data-use-agreement", expect=201, json={"name": "Spare DUA", "body": "-"}
    )
    await c.call("DELETE", f"/api/data-use-agreement/{spare_agreement['id']}", expect=204)
    await c.call("DELETE", f"/api/data-product/{product['id']}")
    assert product["id"] not in state.products

    assert c.exercised == spec.seed_operations() | {"GET /api/auth/user"}


async def test_the_contract_check_rejects_what_the_spec_forbids(api: Api, openapi: OpenAPI) -> None:
    """The check above is only worth something if it fails on a body that breaks the spec."""
    c = Contract(api, openapi)
    response = await api.get(f"/api/data-product/{api.product_id(SALES_PIPELINE)}", RICK)
    c.check(response)  # the real answer passes
    good = response.json()
    for broken in (
        {k: v for k, v in good.items() if k != "domains"},  # a required field missing
        {**good, "status": "MAYBE"},  # outside the enum
        {**good, "createdAt": good["createdAt"].replace("Z", "")},  # not the ISO-8601 Z form
        {**good, "createdBy": "not-a-uuid"},  # wrong format
    ):
        fake = httpx.Response(200, json=broken, request=response.request)
        with pytest.raises(AssertionError):
            c.check(fake)
