"""Review flows over real HTTP, as the guides describe them: any/all stewards, prerequisites,
auto-approval, temporary access, cancel, revoke, expiry and the permission checks around them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from marketplace_slack.infra.clock import FakeClock
from marketplace_slack_standins.sandbox.ids import iso
from marketplace_slack_standins.sandbox.world import (
    ADMIN,
    CUSTOMER_360,
    FINANCE_LEDGER,
    GINA,
    MARKETING_EVENTS,
    NORA,
    OMAR,
    RICK,
    SALES_PIPELINE,
    SARA,
    WEB_ANALYTICS,
)

from .conftest import Api


def _answers(api: Api, product: str) -> dict[str, Any]:
    """Valid answers to a product's current data-access form, keyed by field id."""
    state = api.server.state
    version = state.current_form(state.product_named(product), "DATA_ACCESS")
    answers: dict[str, Any] = {}
    for field in version.fields:
        if field.type == "ACCESS_DURATION":
            answers[str(field.id)] = {"duration": 2, "durationUnit": "WEEKS"}
        elif field.type == "SHORT_ANSWER":
            answers[str(field.id)] = "Pipeline review"
        elif field.type == "DROPDOWN":
            answers[str(field.id)] = field.options[0].value
        else:
            answers[str(field.id)] = [field.options[0].value]
    return answers


async def test_any_steward_request_then_approve(api: Api, clock: FakeClock) -> None:
    answers = _answers(api, SALES_PIPELINE)
    created = await api.request_access(SALES_PIPELINE, RICK, form=answers)
    assert created["status"] == "PENDING" and created["form"] == answers
    assert created["requestingUser"]["username"] == RICK == created["user"]["username"]
    [record] = await api.records(created["id"], RICK)
    assert record["status"] == "PENDING" and record["prerequisites"] == []
    assert {a["displayName"] for a in record["approvers"]} == {"Sara Stone", "Omar Haddad"}
    assert record["approverCriteriaMet"] is None and record["duration"] is None

    clock.advance(timedelta(hours=3))
    response = await api.decide(
        record["id"], OMAR, "APPROVED", reason="ok for Q3", duration=3, durationUnit="MONTHS"
    )
    assert response.status_code == 200, response.text
    decided = response.json()
    assert decided["status"] == "APPROVED" and decided["actionBy"]["username"] == OMAR
    assert decided["approverCriteriaMet"] == [
        {"type": "USER", "id": api.gid(OMAR), "displayName": "Omar Haddad"}
    ]
    assert (decided["reason"], decided["duration"], decided["durationUnit"]) == ("ok for Q3", 3, "MONTHS")

    request = await api.access_request(created["id"], RICK)
    assert request["status"] == "APPROVED"
    assert request["expiration"] == "2027-02-23T12:00:00.000Z"  # three calendar months after the decision
    product = (await api.get(f"/api/data-product/{api.product_id(SALES_PIPELINE)}", RICK)).json()
    assert (product["status"], product["requestId"]) == ("APPROVED", created["id"])


async def test_any_steward_deny(api: Api) -> None:
    created = await api.request_access(SALES_PIPELINE, RICK)
    [record] = await api.records(created["id"])
    response = await api.decide(record["id"], SARA, "DENIED", reason="Use the forecast product")
    assert response.status_code == 200 and response.json()["status"] == "DENIED"
    request = await api.access_request(created["id"], RICK)
    assert request["status"] == "DENIED" and request["expiration"] is None


async def test_only_approvers_may_decide(api: Api) -> None:
    created = await api.request_access(SALES_PIPELINE, RICK)
    [record] = await api.records(created["id"])
    for outsider in (NORA, GINA, ADMIN, RICK):
        response = await api.decide(record["id"], outsider, "APPROVED")
        assert response.status_code == 403, outsider
        body = response.json()
        assert body["statusCode"] == 403 and body["error"] == "Forbidden"
        assert outsider in body["message"] and "approver criteria" in body["message"]
    assert (await api.records(created["id"]))[0]["status"] == "PENDING"


async def test_a_second_determination_conflicts(api: Api) -> None:
    created = await api.request_access(SALES_PIPELINE, RICK)
    [record] = await api.records(created["id"])
    assert (await api.decide(record["id"], SARA, "APPROVED")).status_code == 200
    response = await api.decide(record["id"], OMAR, "DENIED")
    assert response.status_code == 409
    message = response.json()["message"]
    assert "APPROVED" in message and "Sara Stone" in message
    assert (await api.access_request(created["id"]))["status"] == "APPROVED"


async def test_all_stewards_any_denial_denies(api: Api) -> None:
    created = await api.request_access(CUSTOMER_360, RICK, form=_answers(api, CUSTOMER_360))
    records = await api.records(created["id"])
    assert [r["approvers"][0]["type"] for r in records] == ["USER", "GROUP"]
    assert all(r["status"] == "PENDING" and len(r["approvers"]) == 1 for r in records)
    assert (await api.decide(records[0]["id"], SARA, "APPROVED")).status_code == 200
    assert (await api.access_request(created["id"]))["status"] == "PENDING"
    assert (await api.decide(records[1]["id"], GINA, "DENIED", reason="PII")).status_code == 200
    assert (await api.access_request(created["id"]))["status"] == "DENIED"


async def test_all_stewards_shortest_duration_wins(api: Api, clock: FakeClock) -> None:
    created = await api.request_access(CUSTOMER_360, RICK)
    sara_record, group_record = await api.records(created["id"])
    assert (
        await api.decide(sara_record["id"], SARA, "APPROVED", duration=1, durationUnit="MONTHS")
    ).status_code == 200
    clock.advance(timedelta(days=1))
    response = await api.decide(group_record["id"], GINA, "APPROVED", duration=2, durationUnit="WEEKS")
    assert response.status_code == 200
    request = await api.access_request(created["id"])
    settled = clock.now()
    assert request["status"] == "APPROVED"
    assert request["expiration"] == iso(settled + timedelta(weeks=2))


async def test_a_steward_of_several_sources_decides_them_all(api: Api) -> None:
    # Gina is named and also in the named group: her one determination counts for both sources.
    form = await api.post(
        "/api/request-form",
        json={
            "name": "Gina twice",
            "fields": [],
            "policy": {
                "rules": [],
                "defaultEvent": {
                    "type": "review",
                    "params": {
                        "stages": [
                            {
                                "all": [
                                    {"type": "USER", "id": api.gid(GINA)},
                                    {"type": "GROUP", "name": "Finance Stewards"},
                                ]
                            }
                        ]
                    },
                },
            },
        },
    )
    assert form.status_code == 201, form.text
    finance = next(d for d in api.server.state.domains.values() if d.name == "Finance")
    source = next(s for s in api.server.state.sources.values() if s.name == "Budget Plans")
    product = await api.post(
        "/api/data-product",
        json={
            "name": "Budget Plans",
            "metadata": None,
            "domains": [finance.id],
            "dataSources": [{"sourceId": str(source.source_id)}],
            "dataAccessRequestFormId": form.json()["id"],
        },
    )
    assert product.status_code == 201, product.text
    created = await api.request_access("Budget Plans", RICK)
    first, second = await api.records(created["id"])
    assert (await api.decide(first["id"], GINA, "APPROVED")).status_code == 200
    second = (await api.records(created["id"]))[1]
    assert second["status"] == "APPROVED" and second["actionBy"]["username"] == GINA
    assert second["approverCriteriaMet"][0]["type"] == "GROUP"
    assert (await api.access_request(created["id"]))["status"] == "APPROVED"


async def test_prerequisites_block_the_later_stage(api: Api) -> None:
    created = await api.request_access(FINANCE_LEDGER, RICK)
    group_record, governance_record = await api.records(created["id"])
    assert group_record["status"] == "PENDING"
    assert governance_record["status"] == "BLOCKED"
    assert governance_record["prerequisites"] == [group_record["id"]]

    blocked = await api.decide(governance_record["id"], ADMIN, "APPROVED")
    assert blocked.status_code == 409 and "BLOCKED" in blocked.json()["message"]
    assert (
        await api.decide(group_record["id"], ADMIN, "APPROVED")
    ).status_code == 403  # not a Finance Steward
    assert (await api.decide(group_record["id"], GINA, "APPROVED")).status_code == 200

    governance_record = (await api.records(created["id"]))[1]
    assert governance_record["status"] == "PENDING"
    assert (await api.decide(governance_record["id"], GINA, "APPROVED")).status_code == 403
    assert (await api.decide(governance_record["id"], ADMIN, "APPROVED")).status_code == 200
    assert (await api.access_request(created["id"]))["status"] == "APPROVED"


async def test_denied_prerequisite_cancels_the_blocked_stage(api: Api) -> None:
    created = await api.request_access(FINANCE_LEDGER, RICK)
    group_record, governance_record = await api.records(created["id"])
    assert (await api.decide(group_record["id"], GINA, "DENIED", reason="no")).status_code == 200
    governance_record = (await api.records(created["id"]))[1]
    assert governance_record["status"] == "CANCELED"
    assert (await api.access_request(created["id"]))["status"] == "DENIED"


async def test_auto_approve_without_expiration(api: Api) -> None:
    created = await api.request_access(MARKETING_EVENTS, NORA)
    assert created["status"] == "APPROVED" and created["expiration"] is None
    assert await api.records(created["id"], NORA) == []


async def test_auto_approve_with_expiration(api: Api, clock: FakeClock) -> None:
    created = await api.request_access(WEB_ANALYTICS, NORA)
    assert created["status"] == "APPROVED"
    assert created["expiration"] == iso(clock.now() + timedelta(days=30))


async def test_requesting_for_someone_else(api: Api) -> None:
    created = await api.request_access(SALES_PIPELINE, SARA, user=NORA)
    assert created["requestingUser"]["username"] == SARA and created["user"]["username"] == NORA
    # the person it is for can follow it
    assert (await api.access_request(created["id"], NORA))["id"] == created["id"]


async def test_cancel_cascades_to_open_records(api: Api) -> None:
    created = await api.request_access(FINANCE_LEDGER, RICK)
    assert (await api.delete(f"/api/access-request/{created['id']}", NORA)).status_code == 403
    assert (await api.delete(f"/api/access-request/{created['id']}", RICK)).status_code == 204
    assert [r["status"] for r in await api.records(created["id"])] == ["CANCELED", "CANCELED"]
    assert (await api.access_request(created["id"]))["status"] == "CANCELED"
    again = await api.delete(f"/api/access-request/{created['id']}", RICK)
    assert again.status_code == 409 and "CANCELED" in again.json()["message"]
    record_id = (await api.records(created["id"]))[0]["id"]
    late = await api.decide(record_id, GINA, "APPROVED")
    assert late.status_code == 409 and "Rick Moreno" in late.json()["message"]


async def test_admin_may_cancel_for_anyone(api: Api) -> None:
    created = await api.request_access(SALES_PIPELINE, RICK)
    assert (await api.delete(f"/api/access-request/{created['id']}", ADMIN)).status_code == 204


async def test_revoke_ends_membership(api: Api) -> None:
    product_id = api.product_id(SALES_PIPELINE)
    created = await api.request_access(SALES_PIPELINE, RICK)
    [record] = await api.records(created["id"])
    assert (await api.decide(record["id"], SARA, "APPROVED")).status_code == 200
    members = (await api.get(f"/api/data-product/{product_id}/members", SARA, params={"limit": 100})).json()
    assert created["id"] in {m["id"] for m in members["data"]}

    assert (
        await api.delete(f"/api/data-product/{product_id}/request/{created['id']}", RICK)
    ).status_code == 403
    assert (
        await api.delete(f"/api/data-product/{product_id}/request/{created['id']}", OMAR)
    ).status_code == 204
    assert (await api.access_request(created["id"]))["status"] == "REVOKED"
    members = (await api.get(f"/api/data-product/{product_id}/members", SARA, params={"limit": 100})).json()
    assert created["id"] not in {m["id"] for m in members["data"]}
    again = await api.delete(f"/api/data-product/{product_id}/request/{created['id']}", OMAR)
    assert again.status_code == 409


async def test_temporary_access_expires_with_the_clock(api: Api, clock: FakeClock) -> None:
    created = await api.request_access(WEB_ANALYTICS, NORA)
    clock.advance(timedelta(days=30) - timedelta(seconds=1))
    await api.server.tick()
    assert (await api.access_request(created["id"]))["status"] == "APPROVED"
    clock.advance(timedelta(seconds=1))
    await api.server.tick()
    assert api.server.state.requests[created["id"]].status == "EXPIRED"
    assert (await api.access_request(created["id"]))["status"] == "EXPIRED"
    # expired access no longer blocks a new request
    assert (await api.request_access(WEB_ANALYTICS, NORA))["status"] == "APPROVED"


async def test_duplicate_pending_request_conflicts(api: Api) -> None:
    await api.request_access(SALES_PIPELINE, RICK)
    response = await api.post(
        f"/api/data-product/{api.product_id(SALES_PIPELINE)}/request", RICK, json={"user": api.gid(RICK)}
    )
    assert response.status_code == 409 and "PENDING" in response.json()["message"]


async def test_form_answers_are_checked(api: Api) -> None:
    path = f"/api/data-product/{api.product_id(SALES_PIPELINE)}/request"
    answers = _answers(api, SALES_PIPELINE)
    duration_field = next(k for k, v in answers.items() if isinstance(v, dict))
    missing = {k: v for k, v in answers.items() if k != duration_field}
    response = await api.post(path, RICK, json={"user": api.gid(RICK), "form": missing})
    assert response.status_code == 400 and "How long do you need access" in response.json()["message"]
    bad = {**answers, duration_field: {"duration": 0, "durationUnit": "DAYS"}}
    assert (await api.post(path, RICK, json={"user": api.gid(RICK), "form": bad})).status_code == 400
    unknown = {**answers, "not-a-field": "x"}
    assert (await api.post(path, RICK, json={"user": api.gid(RICK), "form": unknown})).status_code == 400


async def test_bad_determinations_are_400s(api: Api) -> None:
    created = await api.request_access(SALES_PIPELINE, RICK)
    [record] = await api.records(created["id"])
    for body in (
        {"status": "PENDING"},
        {"status": "MAYBE"},
        {"status": "APPROVED", "duration": 2},
        {"status": "APPROVED", "duration": 0, "durationUnit": "DAYS"},
        {"status": "DENIED", "duration": 2, "durationUnit": "DAYS"},
        {"status": "APPROVED", "extra": True},
    ):
        response = await api.put(f"/api/approval-record/{record['id']}", SARA, json=body)
        assert response.status_code == 400, body
        assert response.json()["error"] == "Bad Request"
    garbage = await api.put(
        f"/api/approval-record/{record['id']}",
        SARA,
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert garbage.status_code == 400
    missing = await api.put(
        "/api/approval-record/cnotarecord000000000000000", SARA, json={"status": "APPROVED"}
    )
    assert missing.status_code == 404 and missing.json()["statusCode"] == 404


async def test_masking_exception_flow(api: Api) -> None:
    state = api.server.state
    product = state.product_named(CUSTOMER_360)
    profiles = next(state.sources[s] for s in product.source_ids if state.sources[s].column("ssn"))
    path = f"/api/data-product/{product.id}/request/masking-exception"
    unmasked = await api.post(
        path,
        RICK,
        json={
            "user": api.gid(RICK),
            "columns": [{"columnName": "segment", "sourceId": str(profiles.source_id)}],
        },
    )
    assert unmasked.status_code == 400 and "not masked" in unmasked.json()["message"]
    created = await api.post(
        path,
        RICK,
        json={"user": api.gid(RICK), "columns": [{"columnName": "ssn", "sourceId": str(profiles.source_id)}]},
    )
    assert created.status_code == 201 and created.json()["type"] == "MASKING_EXCEPTION"
    request_id = created.json()["id"]
    columns = (await api.get(f"/api/access-request/{request_id}/masking-exception-columns")).json()["data"]
    assert (
        columns[0]["name"] == "ssn"
        and "PII" in columns[0]["tags"]
        and columns[0]["globalPolicyInfo"]["maskingType"] == "NULL"
    )
    for record, approver in zip(await api.records(request_id), (SARA, GINA), strict=True):
        assert (await api.decide(record["id"], approver, "APPROVED")).status_code == 200
    approved = (
        await api.get(
            "/api/access-request/approved-masking-exception-columns", RICK, params={"userId": api.gid(RICK)}
        )
    ).json()
    assert approved == [{"columnName": "ssn", "sourceId": str(profiles.source_id)}]
    other = await api.get(
        "/api/access-request/approved-masking-exception-columns", NORA, params={"userId": api.gid(RICK)}
    )
    assert other.status_code == 403


async def test_risk_assessment_reflects_history(api: Api) -> None:
    state = api.server.state
    product = state.product_named(FINANCE_LEDGER)
    history = [r for r in state.product_requests(product) if r.type == "DATA_ACCESS"]
    denied = sum(r.status == "DENIED" for r in history)
    allowed = sum(r.status in ("APPROVED", "REVOKED", "EXPIRED") for r in history)
    created = await api.request_access(FINANCE_LEDGER, RICK)
    assert (await api.get(f"/api/access-request/{created['id']}/risk-assessment", RICK)).status_code == 403
    risk = (await api.get(f"/api/access-request/{created['id']}/risk-assessment", GINA)).json()
    assert (risk["nAllowed"], risk["nDenied"]) == (allowed, denied)
    assert risk["riskValue"] == round(denied / (denied + allowed), 2)
    assert risk["approvalRisk"] == ("HIGH" if denied / (denied + allowed) >= 0.5 else "MODERATE")
    assert risk["denialReasons"] and not risk["conflictDetected"]
    assert risk["medianApprovalTimeWindowInDays"] > 0

    [first, _] = await api.records(created["id"])
    assert (await api.decide(first["id"], GINA, "DENIED", reason="Outside finance")).status_code == 200
    again = await api.request_access(FINANCE_LEDGER, RICK)
    risk = (await api.get(f"/api/access-request/{again['id']}/risk-assessment", GINA)).json()
    assert risk["conflictDetected"] is True and risk["denialReasons"][0] == "Outside finance"
    assert "Rick Moreno" in risk["explanation"]


async def test_request_searches_are_scoped_to_the_caller(api: Api) -> None:
    mine = await api.request_access(SALES_PIPELINE, NORA)
    nora = (await api.get("/api/access-request", NORA, params={"limit": 100})).json()
    assert [r["id"] for r in nora["data"]] == [mine["id"]]

    sara = (
        await api.get(
            "/api/access-request", SARA, params={"limit": 100, "reviewStatus": "awaitingReviewFromYou"}
        )
    ).json()
    assert mine["id"] in {r["id"] for r in sara["data"]}
    assert {r["dataProduct"]["name"] for r in sara["data"]} <= {SALES_PIPELINE, CUSTOMER_360, "Churn Signals"}
    everything = (await api.get("/api/access-request", ADMIN, params={"limit": 1})).json()
    assert everything["meta"]["totalCount"] == len(api.server.state.requests)
    oldest_first = (
        await api.get(
            "/api/access-request", ADMIN, params={"sortBy": "createdAt", "sortOrder": "asc", "limit": 50}
        )
    ).json()
    stamps = [r["createdAt"] for r in oldest_first["data"]]
    assert stamps == sorted(stamps)
    bad = await api.get("/api/access-request", ADMIN, params={"sortBy": "colour"})
    assert bad.status_code == 400 and "sortBy" in bad.json()["message"]


async def test_publishing_needs_the_right_permission(api: Api) -> None:
    state = api.server.state
    sales = next(d for d in state.domains.values() if d.name == "Sales")
    finance = next(d for d in state.domains.values() if d.name == "Finance")
    price_book = next(s for s in state.sources.values() if s.name == "Price Book")
    form_id = state.product_named(SALES_PIPELINE).data_access_form_id
    body = {
        "name": "Price Book",
        "metadata": None,
        "domains": [sales.id],
        "dataSources": [{"sourceId": str(price_book.source_id)}],
        "requestFormId": form_id,
    }
    assert (await api.post("/api/data-product", NORA, json=body)).status_code == 403
    assert (
        await api.post("/api/data-product", "paula", json={**body, "domains": [finance.id]})
    ).status_code == 403
    created = await api.post("/api/data-product", "paula", json=body)
    assert created.status_code == 201 and created.json()["createdBy"] == api.gid("paula")
    assert (
        await api.post("/api/data-product", "paula", json={**body, "name": "price book"})
    ).status_code == 409
    wrong_domain = await api.post(
        "/api/data-product", ADMIN, json={**body, "name": "X", "domains": [finance.id]}
    )
    assert wrong_domain.status_code == 400 and "domain" in wrong_domain.json()["message"]


async def test_suspension_restricts_members(api: Api) -> None:
    product_id = api.product_id(MARKETING_EVENTS)
    await api.request_access(MARKETING_EVENTS, NORA)
    sources = (await api.get(f"/api/data-product/{product_id}/datasources", NORA)).json()
    assert {s["status"] for s in sources["data"]} == {"SUBSCRIBED"}
    assert (
        await api.put(f"/api/data-product/{product_id}", NORA, json={"suspended": True})
    ).status_code == 403
    suspended = await api.put(f"/api/data-product/{product_id}", "paula", json={"suspended": True})
    assert suspended.status_code == 200 and suspended.json()["suspended"] is True
    sources = (await api.get(f"/api/data-product/{product_id}/datasources", NORA)).json()
    assert {s["status"] for s in sources["data"]} == {"RESTRICTED"}
    await api.put(f"/api/data-product/{product_id}", "paula", json={"suspended": False})
    sources = (await api.get(f"/api/data-product/{product_id}/datasources", NORA)).json()
    assert {s["status"] for s in sources["data"]} == {"SUBSCRIBED"}


async def test_rules_decide_before_the_default(api: Api) -> None:
    elena = await api.request_access("Payroll Summary", "elena")  # in HR Partners: standing access by rule
    assert elena["status"] == "APPROVED" and elena["expiration"]
    nora = await api.request_access("Payroll Summary", NORA)
    [record] = await api.records(nora["id"])
    assert {a["type"] for a in record["approvers"]} == {"ATTRIBUTE", "PERMISSION"}
    assert (await api.decide(record["id"], "priya", "APPROVED")).status_code == 200  # Role=Privacy Officer


async def test_delegated_flow_uses_the_products_own_policy(api: Api) -> None:
    created = await api.request_access("Quarterly Forecast", NORA)
    [record] = await api.records(created["id"])
    assert record["approvers"] == [{"type": "DOMAIN PERMISSION", "permission": "Manage Data Products"}]
    assert (await api.decide(record["id"], "keiko", "APPROVED")).status_code == 403  # manages other domains
    assert (await api.decide(record["id"], "paula", "APPROVED")).status_code == 200


async def test_request_keeps_the_form_version_it_was_made_under(api: Api) -> None:
    state = api.server.state
    form_id = state.product_named(SALES_PIPELINE).data_access_form_id
    created = await api.request_access(SALES_PIPELINE, RICK)
    changed = await api.put(f"/api/request-form/{form_id}", json={"name": "Sales Access Request v2"})
    assert changed.status_code == 201
    assert changed.json()["version"] != created["formVersion"]
    old = (await api.get(f"/api/request-form/version/{created['formVersion']}")).json()
    assert old["name"] == "Sales Access Request"


def test_now_is_the_fake_clock(clock: FakeClock) -> None:
    # The review-flow expectations above assume the fixture's fixed start.
    assert clock.now() == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
