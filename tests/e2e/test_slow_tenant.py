"""A slow Marketplace tenant: a click still opens its modal within Slack's trigger window.

The stand-in Slack expires trigger ids after 3 seconds of real time, and the sandbox's latency fault
delays every Marketplace answer in real time too, so these tests take real seconds: few of them, each
sending its clicks at once so the slow calls overlap. Nothing sleeps; the stage waits for the app's
work to finish.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from marketplace_slack.slack import ids
from marketplace_slack_standins.fakeslack import block_action
from marketplace_slack_standins.stage import Stage

# The trigger id's window in the stand-in (as in Slack): the click's views.open has to land within it.
TRIGGER_WINDOW_S = 3.0


def _text(view: dict[str, Any]) -> str:
    return json.dumps(view["blocks"])


async def _click(stage: Stage, username: str, request_id: str, blocks: list[dict[str, Any]]) -> float:
    """`username` clicks Approve on a card showing `blocks`; returns when, on perf_counter's clock."""
    record = await stage.app.store.cards.get(request_id)
    assert record is not None and record.ts is not None
    payload = block_action(
        user_id=stage.slack_user(username),
        team_id=stage.slack.team_id,
        channel_id=record.channel,
        message_ts=record.ts,
        action_id=ids.APPROVE,
        message_blocks=blocks,
    )
    sent = time.perf_counter()  # the clock the stand-in stamps each call with
    delivery = await stage.agent.send_interaction(payload)
    assert delivery.status == 200
    return sent


@pytest.mark.parametrize("latency_ms", [2000, 5000])
async def test_every_click_opens_its_modal_at_once_and_it_ends_as_the_form_or_the_reason(
    stage: Stage, latency_ms: int
) -> None:
    open_request = await stage.request_access("rick", "Sales Pipeline")
    decided = await stage.request_access("nora", "Sales Pipeline")
    await stage.settle()
    stale = (await stage.card(decided)).blocks  # what a steward still sees before the card refreshes
    await stage.link("sara")
    await stage.link("nora")
    await stage.decide("sara", decided, "approve", duration="7:DAYS")
    await stage.link("omar")
    opened_before = len(stage.slack.calls_to("views.open"))
    stage.sandbox.faults.set(latencyMs=latency_ms)

    card = (await stage.card(open_request)).blocks
    clicks = await asyncio.gather(
        _click(stage, "sara", open_request, card),  # an eligible steward: the form
        _click(stage, "nora", open_request, card),  # linked, but no approver of it
        _click(stage, "gina", open_request, card),  # not linked
        _click(stage, "omar", decided, stale),  # the request was decided meanwhile
    )
    await stage.settle()
    stage.sandbox.faults.clear()

    opens = stage.slack.calls_to("views.open")[opened_before:]
    assert [c.error for c in opens] == [None] * 4, "every trigger id was still good"
    assert all(c.ok for c in opens)
    # The modal opened before any slow Marketplace answer could come back.
    assert max(c.monotonic for c in opens) - min(clicks) < min(TRIGGER_WINDOW_S, latency_ms / 1000)
    updates = stage.slack.calls_to("views.update")[-4:]
    assert all(c.ok for c in updates) and all(c.args.get("hash") for c in updates)

    [sara] = stage.slack.views(stage.slack_user("sara"))
    assert sara["callback_id"] == ids.APPROVE_MODAL
    [nora] = stage.slack.views(stage.slack_user("nora"))
    assert nora["callback_id"] == ids.REFUSAL_MODAL and "not an approver" in _text(nora)
    [gina] = stage.slack.views(stage.slack_user("gina"))
    assert gina["callback_id"] == ids.LINK_MODAL and "Link your Marketplace account first" in _text(gina)
    [omar] = stage.slack.views(stage.slack_user("omar"))
    assert omar["callback_id"] == ids.REFUSAL_MODAL and "already approved by" in _text(omar)
    assert all(str(r.status) == "PENDING" for r in await _records(stage, open_request))


async def _records(stage: Stage, request_id: str) -> list[Any]:
    return (await stage.app.marketplace.get_access_request_records(request_id)).approval_records
