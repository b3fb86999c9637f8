"""A burst of new requests to one channel, on the stage, against the stand-in Slack's real pacing
(about one post a second per channel after a burst of five): every request gets its card, none is
given up, a decision's card update and thread reply overtake the queued cards, and past the backlog
setting one summary message counts down until all are posted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.marketplace import models as wire
from marketplace_slack_standins.stage import STEWARDS_CHANNEL, Stage, open_stage

BURST = 20
BACKLOG = 5


@pytest.fixture
async def stage(store_database: Any, clock: FakeClock) -> AsyncIterator[Stage]:
    extra = {"MPSLACK_DATABASE_SCHEMA": store_database.schema} if store_database.schema else {}
    async with open_stage(
        database_url=store_database.url, clock=clock, MPSLACK_CHANNEL_BACKLOG=BACKLOG, **extra
    ) as running:
        yield running


def _free_requesters(stage: Stage, product: str, count: int) -> list[str]:
    """People with no pending or approved request for `product` yet (the Marketplace allows one)."""
    state = stage.sandbox.state
    taken = {
        r.user.username
        for r in state.product_requests(state.product_named(product))
        if r.status in ("PENDING", "APPROVED")
    }
    free = [name for name in state.users if name not in taken and name != "admin"]
    assert len(free) >= count, "the seeded world has too few people for this burst"
    return free[:count]


def _is_card(call: Any) -> bool:
    return (
        call.status == 200 and call.args.get("channel") == STEWARDS_CHANNEL and not call.args.get("thread_ts")
    )


async def test_a_burst_to_one_channel_ends_with_every_card_and_one_summary(stage: Stage) -> None:
    first = await stage.request_access("rick", "Sales Pipeline")
    await stage.settle()
    first_card = await stage.app.store.cards.get(first)
    assert first_card is not None and first_card.ts is not None
    people = _free_requesters(stage, "Sales Pipeline", BURST)

    burst = await asyncio.gather(*(stage.request_access(name, "Sales Pipeline") for name in people))
    # While most of the burst still waits for its turn, a steward denies the first request.
    await stage.slack.wait_for("chat.postMessage", count=6, predicate=_is_card, timeout=30)
    record = (await stage.app.marketplace.get_access_request_records(first)).approval_records[0]
    await stage.marketplace_as("omar").update_approval_record(
        record.id,
        wire.UpdateApprovalRecordRequest(status=wire.ApprovalRecordStatus.DENIED, reason="Not this quarter"),
    )
    await stage.settle()

    posts = stage.slack.calls_to("chat.postMessage")
    assert [c.status for c in posts if c.status != 200] == []  # paced: Slack never had to say 429
    for request_id in [first, *burst]:  # every request carded, exactly once
        card = await stage.app.store.cards.get(request_id)
        assert card is not None and card.ts is not None
    cards = [c for c in posts if _is_card(c) and "queued" not in str(c.args.get("text"))]
    assert len(cards) == BURST + 1

    # The decision went ahead of the queue: its thread reply and card update came before the last cards.
    calls = stage.slack.calls
    reply = next(
        i
        for i, c in enumerate(calls)
        if c.method == "chat.postMessage" and c.args.get("thread_ts") == first_card.ts
    )
    update = next(
        i for i, c in enumerate(calls) if c.method == "chat.update" and c.args.get("ts") == first_card.ts
    )
    last_cards = [i for i, c in enumerate(calls) if c in cards][-3:]
    assert reply < last_cards[0] and update < last_cards[0]
    assert "Denied by" in str(stage.slack.message(STEWARDS_CHANNEL, first_card.ts).blocks)

    # Past the backlog, one summary said how many were queued, and says at last that all are posted.
    summaries = [m for m in stage.slack.messages(STEWARDS_CHANNEL) if "queued" in m.text]
    assert len(summaries) == 1
    assert summaries[0].text == "All queued requests are posted."
    said = [str(c.args.get("text")) for c in calls if c.method in ("chat.postMessage", "chat.update")]
    assert any(t.endswith("more requests are queued; see the digest.") for t in said)
    assert stage.slack.violations == [] and stage.app.tasks.failures == 0
