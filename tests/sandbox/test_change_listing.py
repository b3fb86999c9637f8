"""What reconciliation relies on: `updatedAt` moves with every status change, the request search sorts
and filters by it, and a webhook delivery can be lost on the way (the Marketplace records the failure,
no receiver hears of it)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from marketplace_slack.infra.clock import FakeClock
from marketplace_slack_standins.sandbox.ids import iso
from marketplace_slack_standins.sandbox.model import REQUEST_REVOKED
from marketplace_slack_standins.sandbox.world import (
    ADMIN,
    FINANCE_LEDGER,
    GINA,
    NORA,
    RICK,
    SALES_PIPELINE,
    SARA,
    WEB_ANALYTICS,
)

from .conftest import Api, Receiver

MINUTE = timedelta(minutes=1)
PREFIX = "marketplace.data_product.access_requests."


async def _updated(api: Api, request_id: str) -> str:
    return str((await api.access_request(request_id))["updatedAt"])


async def _listing(api: Api, **params: Any) -> list[dict[str, Any]]:
    response = await api.get("/api/access-request", params={"limit": 500, **params})
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


async def test_updated_at_moves_with_every_status_change(api: Api, clock: FakeClock) -> None:
    product_id = api.product_id(SALES_PIPELINE)
    approved = await api.request_access(SALES_PIPELINE, RICK)
    canceled = await api.request_access(SALES_PIPELINE, NORA)
    assert approved["updatedAt"] == approved["createdAt"] == iso(clock.now())

    clock.advance(MINUTE)
    [record] = await api.records(approved["id"])
    assert (await api.decide(record["id"], SARA, "APPROVED")).status_code == 200
    assert await _updated(api, approved["id"]) == iso(clock.now())
    clock.advance(MINUTE)
    assert (await api.delete(f"/api/access-request/{canceled['id']}", NORA)).status_code == 204
    assert await _updated(api, canceled["id"]) == iso(clock.now())
    clock.advance(MINUTE)
    revoked = await api.delete(f"/api/data-product/{product_id}/request/{approved['id']}", SARA)
    assert revoked.status_code == 204
    assert await _updated(api, approved["id"]) == iso(clock.now())

    temporary = await api.request_access(WEB_ANALYTICS, NORA)  # auto-approved for 30 days
    clock.advance(timedelta(days=31))
    await api.server.tick()
    assert (await api.access_request(temporary["id"]))["status"] == "EXPIRED"
    assert await _updated(api, temporary["id"]) == iso(clock.now())


async def test_a_stage_decided_on_a_pending_request_leaves_its_updated_at(api: Api, clock: FakeClock) -> None:
    # The vendor does not say whether deciding one stage touches the request; the sandbox assumes
    # the stricter case, so the app cannot rely on it (its reconciler sweeps pending cards instead).
    created = await api.request_access(FINANCE_LEDGER, RICK)
    clock.advance(MINUTE)
    first, _ = await api.records(created["id"])
    assert (await api.decide(first["id"], GINA, "APPROVED")).status_code == 200
    request = await api.access_request(created["id"])
    assert (request["status"], request["updatedAt"]) == ("PENDING", created["updatedAt"])


async def test_the_search_sorts_by_updated_at_and_filters_by_status_and_history(
    api: Api, clock: FakeClock
) -> None:
    clock.advance(MINUTE)
    old = await api.request_access(SALES_PIPELINE, RICK)
    clock.advance(MINUTE)
    new = await api.request_access(SALES_PIPELINE, NORA)
    clock.advance(MINUTE)
    [record] = await api.records(old["id"])
    await api.decide(record["id"], SARA, "APPROVED")  # `old` is now the most recently changed

    newest = await _listing(api, sortBy="updatedAt", sortOrder="desc")
    assert [r["id"] for r in newest[:2]] == [old["id"], new["id"]]
    stamps = [r["updatedAt"] for r in newest]
    assert stamps == sorted(stamps, reverse=True)
    oldest = await _listing(api, sortBy="updatedAt", sortOrder="asc")
    assert [r["id"] for r in oldest] == [r["id"] for r in reversed(newest)]

    pending = await _listing(api, historical="false")
    assert {r["status"] for r in pending} == {"PENDING"}
    assert new["id"] in {r["id"] for r in pending}
    settled = await _listing(api, status=["APPROVED", "REVOKED"])
    assert {r["status"] for r in settled} == {"APPROVED", "REVOKED"}  # the seeded history has both
    assert old["id"] in {r["id"] for r in settled}
    everything = await _listing(api)
    assert len(everything) == len(api.server.state.requests)  # historical by default


async def test_a_lost_delivery_is_failed_in_history_and_never_arrives(api: Api, receiver: Receiver) -> None:
    hook = (await api.post("/api/notification/webhook", ADMIN, json={"url": receiver.url})).json()
    product_id = api.product_id(SALES_PIPELINE)
    created = await api.request_access(SALES_PIPELINE, RICK)
    [record] = await api.records(created["id"])
    await api.decide(record["id"], SARA, "APPROVED")
    api.server.webhooks.lose_deliveries(event_type=REQUEST_REVOKED)
    await api.delete(f"/api/data-product/{product_id}/request/{created['id']}", SARA)
    await api.server.webhooks.drain()

    assert receiver.events(created["id"]) == [PREFIX + "created", PREFIX + "consumer.updated"]
    assert [e.access_request_id for e in api.server.webhooks.lost] == [created["id"]]
    latest = (await api.get(f"/api/notification/webhook/{hook['id']}/history")).json()["data"][0]
    assert (latest["eventType"], latest["status"], latest["httpStatusCode"]) == (
        PREFIX + "revoked",
        "FAILED",
        0,
    )
    assert api.server.webhooks.losses == []  # `times` defaults to one


async def test_losses_are_set_and_cleared_over_http(api: Api, receiver: Receiver) -> None:
    await api.post("/api/notification/webhook", ADMIN, json={"url": receiver.url})
    set_ = await api.control("POST", "webhooks/losses", json={"times": None})
    assert set_.status_code == 200
    assert set_.json()["losses"] == [{"eventType": None, "accessRequestId": None, "times": None}]
    for user in (RICK, NORA):
        await api.request_access(SALES_PIPELINE, user)
    await api.server.webhooks.drain()
    assert receiver.deliveries == []
    assert (await api.control("GET", "webhooks/losses")).json()["lost"] == 2
    assert (await api.control("DELETE", "webhooks/losses")).json()["losses"] == []
    await api.request_access(WEB_ANALYTICS, RICK)
    await api.server.webhooks.drain()
    assert len(receiver.deliveries) == 1
    bad = await api.control("POST", "webhooks/losses", json={"times": 0, "colour": "red"})
    assert bad.status_code == 400
