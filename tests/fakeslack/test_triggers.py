"""Trigger ids last 3 seconds of real time from the click, whatever the app's injected clock says, and
open one view only."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from marketplace_slack.infra.clock import FakeClock
from marketplace_slack_standins.fakeslack import FakeSlack, block_action

from .conftest import Ticker
from .samples import card_blocks, modal_view


async def error_of(call: object) -> str:
    with pytest.raises(SlackApiError) as raised:
        await call  # type: ignore[misc]
    return str(raised.value.response["error"])


async def test_a_trigger_expires_after_three_real_seconds(
    fresh: FakeSlack, ticker: Ticker, clock: FakeClock
) -> None:
    client = AsyncWebClient(token=fresh.bot_token, base_url=fresh.base_url)
    on_time, late = fresh.issue_trigger_id("U0SARA"), fresh.issue_trigger_id("U0SARA")

    clock.advance(timedelta(hours=1))  # the app's clock does not matter
    ticker.advance(2.9)
    assert (await client.views_open(trigger_id=on_time, view=modal_view()))["ok"]
    ticker.advance(0.2)
    assert await error_of(client.views_open(trigger_id=late, view=modal_view())) == "expired_trigger_id"
    assert await error_of(client.views_push(trigger_id=late, view=modal_view())) == "expired_trigger_id"


async def test_a_trigger_opens_one_view(fresh: FakeSlack) -> None:
    client = AsyncWebClient(token=fresh.bot_token, base_url=fresh.base_url)
    trigger = fresh.issue_trigger_id("U0SARA")
    await client.views_open(trigger_id=trigger, view=modal_view())

    assert await error_of(client.views_open(trigger_id=trigger, view=modal_view())) == "exchanged_trigger_id"
    assert await error_of(client.views_push(trigger_id=trigger, view=modal_view())) == "exchanged_trigger_id"


async def test_the_clock_starts_when_the_interaction_is_sent(fresh: FakeSlack, ticker: Ticker) -> None:
    payload = block_action(
        user_id="U0SARA",
        team_id=fresh.team_id,
        channel_id="C0STEWARDS",
        message_ts="1700000000.000100",
        action_id="mp_approve",
        message_blocks=card_blocks(),
    )
    ticker.advance(60)  # built long ago, sent now
    adopted = fresh.adopt(payload)
    ticker.advance(3.5)
    client = AsyncWebClient(token=fresh.bot_token, base_url=fresh.base_url)
    assert await error_of(client.views_open(trigger_id=adopted["trigger_id"], view=modal_view())) == (
        "expired_trigger_id"
    )


async def test_by_default_the_real_monotonic_clock_counts(clock: FakeClock) -> None:
    async with FakeSlack(clock=clock, trigger_ttl=0.2) as slack:
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.base_url)
        trigger = slack.issue_trigger_id("U0SARA")
        await asyncio.sleep(0.3)
        assert await error_of(client.views_open(trigger_id=trigger, view=modal_view())) == (
            "expired_trigger_id"
        )
