"""Channels the bot cannot post in, and cards that cannot be updated, end to end over the stage.

The stand-in Slack refuses where Slack does: a private channel the bot is not in does not exist for
it, an archived channel takes no posts and no edits, a deleted message cannot be updated. The app
records each refusal, tells the channel's owner once, keeps the other channels going and posts the
card as soon as it can; the thread reply and the requester's DM never wait for the card.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.marketplace import models as wire
from marketplace_slack_standins.stage import STEWARDS_CHANNEL, Stage, open_stage

PRIVATE = "G0SECURITY"  # private; the stage invited the bot, the tests take it out
GINA = "U0GINA"  # owns the private channel's route
ROUTED = "Territory Assignments"  # its cards go to the private channel
ELSEWHERE = "Sales Pipeline"  # its cards go to the stewards' channel


@pytest.fixture
async def stage(store_database: Any, clock: FakeClock, tmp_path: Path) -> AsyncIterator[Stage]:
    path = tmp_path / "marketplace-slack.yml"
    config = {"routes": [{"product": ROUTED, "channel": PRIVATE, "owner": GINA}]}
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    extra = {"MPSLACK_DATABASE_SCHEMA": store_database.schema} if store_database.schema else {}
    async with open_stage(
        database_url=store_database.url, clock=clock, MPSLACK_CONFIG_FILE=str(path), **extra
    ) as running:
        yield running


async def _healthz(stage: Stage) -> dict[str, Any]:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{stage.app.url}/healthz")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def _metrics(stage: Stage) -> str:
    async with httpx.AsyncClient() as http:
        return (await http.get(f"{stage.app.url}/metrics")).text


def _dms(stage: Stage, user_id: str) -> list[str]:
    return [m.text for m in stage.slack.messages(stage.slack.dm_channel(user_id))]


async def _until_retried(stage: Stage, channel: str) -> None:
    """Move the clock to the channel's next attempt, and let the tick run it."""
    failure = await stage.app.store.channels.get(channel)
    assert failure is not None and isinstance(stage.clock, FakeClock)
    await stage.advance(max(failure.next_attempt_at - stage.clock.now(), timedelta(0)))


async def _approve_in_marketplace(stage: Stage, request_id: str, username: str) -> None:
    """`username` approves the open step in the Marketplace itself, not through a card."""
    records = (await stage.app.marketplace.get_access_request_records(request_id)).approval_records
    [open_step] = [r for r in records if str(r.status) == "PENDING"]
    body = wire.UpdateApprovalRecordRequest(
        status=wire.ApprovalRecordStatus.APPROVED,
        reason="Q4 review",
        duration=7,
        duration_unit=wire.DurationUnit("DAYS"),
    )
    await stage.marketplace_as(username).update_approval_record(open_step.id, body)
    await stage.settle()


async def test_a_private_channel_without_the_bot_holds_its_cards_until_the_bot_is_invited(
    stage: Stage,
) -> None:
    stage.slack.remove(PRIVATE)
    held = await stage.request_access("rick", ROUTED)
    fine = await stage.request_access("rick", ELSEWHERE)
    await stage.settle()

    # The other channel keeps working.
    card = await stage.card(fine)
    assert card.channel == STEWARDS_CHANNEL
    # The refused card is recorded, and the operator can see it.
    assert await stage.app.store.cards.get(held) is None
    [failure] = await stage.app.store.channels.failing()
    assert (failure.channel, failure.reason, failure.waiting) == (PRIVATE, "channel_not_found", 1)
    health = await _healthz(stage)
    assert health["ok"] is True
    assert [(f["channel"], f["reason"]) for f in health["channels_failing"]] == [
        (PRIVATE, "channel_not_found")
    ]
    assert (
        'marketplace_slack_channel_failures_total{channel="G0SECURITY",reason="channel_not_found"} 1.0'
        in (await _metrics(stage))
    )
    # The route's owner is told, once.
    [told] = _dms(stage, GINA)
    assert PRIVATE in told and "/invite" in told

    await stage.advance(timedelta(minutes=1))  # refused again: the bot is still out
    assert await stage.app.store.cards.get(held) is None
    assert len(_dms(stage, GINA)) == 1

    stage.slack.invite(PRIVATE)
    await _until_retried(stage, PRIVATE)  # the next attempt, on the backoff
    card = await stage.card(held)
    assert card.channel == PRIVATE and ROUTED in card.text
    assert await stage.app.store.channels.failing() == []
    assert (await _healthz(stage))["channels_failing"] == []
    assert len(_dms(stage, GINA)) == 1


async def test_a_deleted_card_is_posted_again_on_the_next_change_with_its_thread_reply_and_dm(
    stage: Stage,
) -> None:
    request_id = await stage.request_access("rick", ELSEWHERE)
    await stage.settle()
    old = await stage.app.store.cards.get(request_id)
    assert old is not None and old.ts is not None
    stage.slack.delete_message(old.channel, old.ts)  # an admin removed it

    await _approve_in_marketplace(stage, request_id, "sara")

    new = await stage.app.store.cards.get(request_id)
    assert new is not None and new.ts is not None and new.ts != old.ts
    card = stage.slack.message(new.channel, new.ts)
    assert "Approved by" in str(card.blocks)
    replies = [m for m in stage.slack.messages(new.channel) if m.thread_ts == new.ts]
    assert len(replies) == 1  # the thread reply went to the new card
    assert len(_dms(stage, stage.slack_user("rick"))) == 1  # and the requester heard


async def test_an_archived_channel_keeps_the_dm_going_and_takes_the_card_back_when_unarchived(
    stage: Stage,
) -> None:
    request_id = await stage.request_access("rick", ELSEWHERE)
    await stage.settle()
    card = await stage.app.store.cards.get(request_id)
    assert card is not None and card.ts is not None
    stage.slack.archive(STEWARDS_CHANNEL)

    await _approve_in_marketplace(stage, request_id, "sara")

    assert len(_dms(stage, stage.slack_user("rick"))) == 1  # the DM did not wait for the card
    [failure] = await stage.app.store.channels.failing()
    assert (failure.channel, failure.reason) == (STEWARDS_CHANNEL, "is_archived")
    assert failure.waiting == 1
    assert "Approved by" not in str(stage.slack.message(card.channel, card.ts).blocks)

    stage.slack.archive(STEWARDS_CHANNEL, archived=False)
    await _until_retried(stage, failure.channel)
    assert "Approved by" in str(stage.slack.message(card.channel, card.ts).blocks)  # the same card
    replies = [m for m in stage.slack.messages(card.channel) if m.thread_ts == card.ts]
    assert len(replies) == 1
    assert await stage.app.store.channels.failing() == []
    assert len(_dms(stage, stage.slack_user("rick"))) == 1
