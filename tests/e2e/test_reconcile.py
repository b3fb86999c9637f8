"""Reconciliation end to end: what the Marketplace did while its webhooks were lost reaches the cards,
and a pass with nothing new costs one page of the change listing. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta

from marketplace_slack.slack import ids
from marketplace_slack_standins.sandbox.model import REQUEST_CANCELED, REQUEST_EXPIRED, REQUEST_REVOKED
from marketplace_slack_standins.stage import Stage

LISTING = "GET /api/access-request"


def _text(blocks: list[dict]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def _buttons(blocks: list[dict]) -> set[str]:
    return {e.get("action_id") for b in blocks if b.get("type") == "actions" for e in b.get("elements", [])}


async def _approved(stage: Stage, requester: str, *, duration: str | None = None) -> str:
    request_id = await stage.request_access(requester, "Sales Pipeline")
    await stage.settle()
    await stage.decide("sara", request_id, "approve", duration=duration)
    assert "Approved" in _text((await stage.card(request_id)).blocks)
    return request_id


async def _shown(stage: Stage, request_id: str) -> tuple[str | None, str]:
    record = await stage.app.store.cards.get(request_id)
    assert record is not None
    return record.status, _text((await stage.card(request_id)).blocks)


async def _reconcile(stage: Stage) -> None:
    report = await stage.app.workflow.reconcile()
    await stage.settle()
    assert report.failed == 0


async def test_a_grant_revoked_while_its_webhook_was_lost_is_corrected(stage: Stage) -> None:
    await stage.link("sara")
    request_id = await _approved(stage, "rick")
    await _reconcile(stage)  # the first pass: the cursor starts here

    stage.sandbox.webhooks.lose_deliveries(event_type=REQUEST_REVOKED, access_request_id=request_id)
    product_id = await stage.product_id("Sales Pipeline")
    await stage.app.marketplace.revoke_access(product_id, request_id)
    await stage.settle()
    assert [e.access_request_id for e in stage.sandbox.webhooks.lost] == [request_id]
    assert (await _shown(stage, request_id))[0] == "APPROVED"  # nobody told the app

    await _reconcile(stage)
    status, text = await _shown(stage, request_id)
    assert status == "REVOKED" and "Revoked" in text


async def test_a_grant_that_expired_while_its_webhook_was_lost_is_corrected(stage: Stage) -> None:
    await stage.link("sara")
    request_id = await _approved(stage, "rick", duration="7:DAYS")
    await _reconcile(stage)

    stage.sandbox.webhooks.lose_deliveries(event_type=REQUEST_EXPIRED, access_request_id=request_id)
    await stage.advance(timedelta(days=8))  # the Marketplace expires the grant
    assert [e.access_request_id for e in stage.sandbox.webhooks.lost] == [request_id]
    assert (await _shown(stage, request_id))[0] == "APPROVED"

    await _reconcile(stage)
    status, text = await _shown(stage, request_id)
    assert status == "EXPIRED" and "Expired" in text


async def test_a_request_canceled_while_its_webhook_was_lost_is_corrected(stage: Stage) -> None:
    request_id = await stage.request_access("rick", "Sales Pipeline")
    await stage.settle()
    await _reconcile(stage)

    stage.sandbox.webhooks.lose_deliveries(event_type=REQUEST_CANCELED, access_request_id=request_id)
    await stage.marketplace_as("rick").cancel_access_request(request_id)
    await stage.settle()
    assert [e.access_request_id for e in stage.sandbox.webhooks.lost] == [request_id]
    assert (await _shown(stage, request_id))[0] == "PENDING"

    await _reconcile(stage)
    status, text = await _shown(stage, request_id)
    assert status == "CANCELED" and "Canceled" in text
    assert ids.APPROVE not in _buttons((await stage.card(request_id)).blocks)


async def test_a_pass_with_nothing_new_costs_one_page_not_a_read_per_card(stage: Stage) -> None:
    await stage.link("sara")
    await _approved(stage, "rick")
    await _reconcile(stage)  # the first pass posts a card for every pending request of the seeded world
    cards = len(await stage.app.store.cards.list())
    assert cards >= 8

    stage.sandbox.stats.reset()
    await _reconcile(stage)
    assert dict(stage.sandbox.stats.counts) == {LISTING: 1}

    posts, updates = len(stage.slack.calls_to("chat.postMessage")), len(stage.slack.calls_to("chat.update"))
    stage.sandbox.stats.reset()
    await _reconcile(stage)
    assert dict(stage.sandbox.stats.counts) == {LISTING: 1}
    assert (len(stage.slack.calls_to("chat.postMessage")), len(stage.slack.calls_to("chat.update"))) == (
        posts,
        updates,
    )
