"""What a decision costs the Marketplace (issue 12): from the steward's click on Approve or Deny, through
the signed modal submission, to the card's last chat.update, at most 4 calls. The steward's identity
(`GET /api/auth/user`) and the request's records are read at the click, the records again at the
submit (who may decide is judged on them as they stand), then the PUT; the card in progress and the
card after it come from the card's snapshot and the PUT's answer.

The Marketplace's webhooks are detached while counting: a webhook is a hint to read the whole request
again, a path of its own (webhook → card), and it would update the card again after the decision did.
Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import update

from marketplace_slack.slack import ids
from marketplace_slack.store.tables import cards
from marketplace_slack_standins.fakeslack import RecordedCall
from marketplace_slack_standins.stage import Stage

MOST: int = 4


def _actions(blocks: list[dict[str, Any]]) -> set[str]:
    return {
        element.get("action_id")
        for block in blocks
        if block.get("type") == "actions"
        for element in block.get("elements", [])
    }


async def _decision_calls(
    stage: Stage, request_id: str, verdict: str, **form: str
) -> tuple[int, dict[str, int]]:
    """Marketplace calls from the click to the card's last chat.update, and which they were."""
    for hook in list(stage.sandbox.webhooks.webhooks):
        stage.sandbox.webhooks.remove(hook)
    record = await stage.app.store.cards.get(request_id)
    assert record is not None and record.ts is not None
    at_updates: list[int] = []

    def on_call(call: RecordedCall) -> None:
        if call.method == "chat.update" and call.args.get("ts") == record.ts:
            at_updates.append(stage.sandbox.stats.total)

    stage.slack.subscribe(on_call)
    stage.sandbox.stats.reset()
    await stage.decide("sara", request_id, verdict, **form)
    await stage.settle()
    assert len(at_updates) >= 2, "the card shows the decision in progress, then its outcome"
    assert stage.sandbox.stats.total == at_updates[-1], "nothing is read after the card is updated"
    return at_updates[-1], dict(stage.sandbox.stats.counts)


@pytest.mark.parametrize(
    ("verdict", "form", "shown"),
    [
        ("approve", {"duration": "7:DAYS", "reason": "Q4 review"}, "Approved by"),
        ("deny", {"reason": "Use the aggregate instead"}, "Denied by"),
    ],
    ids=["approve", "deny"],
)
async def test_a_decision_costs_at_most_four_marketplace_calls(
    stage: Stage, verdict: str, form: dict[str, str], shown: str
) -> None:
    request_id = await stage.request_access("rick", "Sales Pipeline")
    await stage.settle()
    await stage.link("sara")

    calls, routes = await _decision_calls(stage, request_id, verdict, **form)

    assert calls <= MOST, routes
    assert routes == {
        "GET /api/auth/user": 1,  # who she is now, at the click (then cached briefly)
        "GET /api/access-request/{id}/records": 2,  # at the click, and at the submit before the PUT
        "PUT /api/approval-record/{id}": 1,
    }
    # The card after the decision is what reading the whole request shows of its outcome.
    request = await stage.app.workflow.cards.load(request_id)
    snapshot = await stage.app.workflow.cards.snapshot(request_id)
    assert snapshot is not None
    assert (snapshot.status, snapshot.expiration) == (request.status, request.expiration)
    assert snapshot.steps == request.steps
    card = await stage.card(request_id)
    body = json.dumps(card.blocks)
    assert (
        shown in body and ids.APPROVE not in _actions(card.blocks) and ids.DENY not in _actions(card.blocks)
    )
    if verdict == "approve":
        assert "7 days" in body and "until" in body
    dms = stage.slack.messages(stage.slack.dm_channel(stage.slack_user("rick")))
    assert len(dms) == 1  # the requester heard, once


async def test_a_card_without_a_snapshot_is_decided_on_the_request_read_whole(stage: Stage) -> None:
    """A card posted before snapshots were kept: the decision reads the request as it used to, and the
    card it shows afterwards keeps a snapshot."""
    request_id = await stage.request_access("rick", "Sales Pipeline")
    await stage.settle()
    await stage.link("sara")
    async with stage.app.store.engine.begin() as conn:
        await conn.execute(update(cards).where(cards.c.request_id == request_id).values(snapshot=None))

    calls, _ = await _decision_calls(stage, request_id, "approve", duration="7:DAYS")

    assert calls > MOST  # the old way
    assert str((await stage.app.marketplace.get_access_request_by_id(request_id)).status) == "APPROVED"
    assert await stage.app.workflow.cards.snapshot(request_id) is not None
