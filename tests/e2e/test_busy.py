"""More clicks than the app lets wait, on a slow Marketplace: every click is acked, each one the app
has no room for is answered "busy" to its clicker and changes nothing, and the others run.

The sandbox's latency fault delays every Marketplace answer in real time (1 s), far longer than
sending the clicks takes, so the few the app lets in are still running when the rest arrive. Nothing
sleeps; the stage waits for the app's work to finish. Counts and outcomes are asserted, not timings.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.slack import ids
from marketplace_slack.workflow import sentences
from marketplace_slack_standins.fakeslack import block_action
from marketplace_slack_standins.stage import Stage, open_stage

CLICKS = 12
CONCURRENCY = 2
QUEUE = 1
LATENCY_MS = 1000


@pytest.fixture
async def stage(store_database: Any, clock: FakeClock) -> AsyncIterator[Stage]:
    extra = {"MPSLACK_DATABASE_SCHEMA": store_database.schema} if store_database.schema else {}
    async with open_stage(
        database_url=store_database.url,
        clock=clock,
        MPSLACK_BACKGROUND_CONCURRENCY=CONCURRENCY,
        MPSLACK_BACKGROUND_QUEUE=QUEUE,
        **extra,
    ) as running:
        yield running


async def test_clicks_past_the_queue_are_acked_told_busy_and_change_nothing(stage: Stage) -> None:
    request_id = await stage.request_access("rick", "Sales Pipeline")
    await stage.settle()
    await stage.link("sara")
    record = await stage.app.store.cards.get(request_id)
    assert record is not None and record.ts is not None
    card = stage.slack.message(record.channel, record.ts)
    opened_before = len(stage.slack.calls_to("views.open"))
    updated_before = len(stage.slack.calls_to("views.update"))
    sara = stage.slack_user("sara")
    stage.sandbox.faults.set(latencyMs=LATENCY_MS)

    async def click() -> int:
        payload = block_action(
            user_id=sara,
            team_id=stage.slack.team_id,
            channel_id=record.channel,
            message_ts=card.ts,
            action_id=ids.APPROVE,
            message_blocks=card.blocks,
        )
        return (await stage.agent.send_interaction(payload)).status

    statuses = await asyncio.gather(*(click() for _ in range(CLICKS)))
    await stage.settle()
    stage.sandbox.faults.clear()

    assert statuses == [200] * CLICKS  # every click acked, the shed ones too
    shed = stage.app.tasks.shed
    taken = CLICKS - shed
    # The first ones took every turn and the queue, and none had finished when the last click came.
    assert taken == CONCURRENCY + QUEUE
    busy = [c for c in stage.slack.calls_to("response_url") if c.args.get("text") == sentences.BUSY.text]
    assert len(busy) == shed  # each shed click is told, once
    assert all(c.args.get("response_type") == "ephemeral" for c in busy)
    # A shed click changes nothing: no modal for it, the request still waits.
    assert len(stage.slack.calls_to("views.open")) - opened_before == taken
    request = await stage.app.marketplace.get_access_request_by_id(request_id)
    assert str(request.status).endswith("PENDING")
    # The clicks let in ran to their end: each modal became the decision form, or (a click that
    # waited past its trigger id's 3 s for a turn) its clicker was asked to click again.
    formed = len(stage.slack.calls_to("views.update")) - updated_before
    again = [
        c for c in stage.slack.calls_to("chat.postEphemeral") if sentences.FORM_NOT_OPENED.text in str(c.args)
    ]
    assert formed + len(again) == taken
    assert stage.app.tasks.queued == 0 and not stage.app.tasks.full
    async with httpx.AsyncClient() as http:  # what operators see
        metrics = (await http.get(stage.app.metrics_url or "")).text
    assert f"marketplace_slack_background_shed_total {float(shed)}" in metrics
    assert "marketplace_slack_background_queued 0.0" in metrics
