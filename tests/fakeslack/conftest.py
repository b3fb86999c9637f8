"""A running FakeSlack on loopback and an slack-sdk client pointed at it.

`slack` is a workspace an admin has set up for the app (bot invited to every channel, messages tab on,
read and history scopes granted), so tests of one method are not refused for another reason; `fresh` is
the app just installed from its manifest, for the tests of those refusals. Both keep every refusal
switched on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from marketplace_slack.infra.clock import FakeClock
from marketplace_slack_standins.fakeslack import DEFAULT_CHANNELS, FakeSlack, Install
from marketplace_slack_standins.fakeslack.install import ALL_HISTORY_SCOPES, DEFAULT_SCOPES

READ_SCOPES = {"channels:read", "groups:read", "im:read", "mpim:read", "mpim:write"} | ALL_HISTORY_SCOPES


class Ticker:
    """A monotonic clock the test moves, for Slack's real-time limits (trigger ids, rate limits)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def ticker() -> Ticker:
    return Ticker()


@pytest.fixture
async def slack(clock: FakeClock) -> AsyncIterator[FakeSlack]:
    install = Install(scopes=set(DEFAULT_SCOPES | READ_SCOPES), messages_tab_enabled=True)
    async with FakeSlack(clock=clock, install=install) as fake:
        for channel in DEFAULT_CHANNELS:
            fake.invite(channel.id)
        yield fake


@pytest.fixture
async def fresh(clock: FakeClock, ticker: Ticker) -> AsyncIterator[FakeSlack]:
    async with FakeSlack(clock=clock, monotonic=ticker) as fake:
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=slack.bot_token, base_url=slack.base_url)
