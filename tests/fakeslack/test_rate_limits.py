"""Slack's own limits (about one post a second per channel with short bursts, and the method tiers),
and failures on demand: 429 with Retry-After that slack-sdk's own retry handler honours, and errors."""

from __future__ import annotations

import types
from collections.abc import AsyncIterator

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import builtin_async_handlers
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.web.async_client import AsyncWebClient

from marketplace_slack.infra.clock import FakeClock
from marketplace_slack_standins.fakeslack import FakeSlack, Install
from marketplace_slack_standins.fakeslack.ratelimits import DEFAULT_CHANNEL_BURST, RateLimiter

from .conftest import Ticker


@pytest.fixture
def handler_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The handler sleeps Retry-After + jitter via its module's `asyncio`; record instead of waiting."""
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(builtin_async_handlers, "asyncio", types.SimpleNamespace(sleep=sleep))
    return slept


async def test_sdk_rate_limit_handler_waits_retry_after_and_succeeds(
    slack: FakeSlack, handler_sleeps: list[float]
) -> None:
    client = AsyncWebClient(
        token=slack.bot_token,
        base_url=slack.base_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    slack.fail_next("chat.postMessage", retry_after=7)

    posted = await client.chat_postMessage(channel="C0STEWARDS", text="card")

    assert posted["ok"]
    assert [(c.status, c.error) for c in slack.calls_to("chat.postMessage")] == [
        (429, "ratelimited"),
        (200, None),
    ]
    assert len(handler_sleeps) == 1 and 7 <= handler_sleeps[0] < 8
    assert [m.text for m in slack.messages("C0STEWARDS")] == ["card"]  # posted once, not twice


async def test_without_a_handler_the_429_reaches_the_caller(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.fail_next("chat.update", retry_after=30)
    with pytest.raises(SlackApiError) as raised:
        await client.chat_update(channel="C0STEWARDS", ts="1.000100", text="x")
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "30"
    assert raised.value.response["error"] == "ratelimited"


async def test_other_errors_are_ok_false_with_http_200_and_run_out(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    slack.fail_next("users.info", error="fatal_error", times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as raised:
            await client.users_info(user="U0SARA")
        assert (raised.value.response.status_code, raised.value.response["error"]) == (200, "fatal_error")
    assert (await client.users_info(user="U0SARA"))["user"]["id"] == "U0SARA"


async def test_wildcard_outage_is_retried_by_the_server_error_handler(slack: FakeSlack) -> None:
    handler = AsyncServerErrorRetryHandler(interval_calculator=FixedValueRetryIntervalCalculator(0))
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.base_url, retry_handlers=[handler])
    slack.fail_next("*", error="service_unavailable", status=503)
    assert (await client.auth_test())["ok"]
    assert [c.status for c in slack.calls] == [503, 200]


@pytest.fixture
async def limited(clock: FakeClock, ticker: Ticker) -> AsyncIterator[FakeSlack]:
    install = Install(scopes={"chat:write", "users:read"}, messages_tab_enabled=True)
    async with FakeSlack(clock=clock, install=install, monotonic=ticker) as fake:
        fake.invite("C0STEWARDS")
        fake.invite("C0GENERAL")
        yield fake


async def test_posts_to_one_channel_burst_then_go_about_once_a_second(
    limited: FakeSlack, ticker: Ticker
) -> None:
    client = AsyncWebClient(token=limited.bot_token, base_url=limited.base_url)
    for n in range(DEFAULT_CHANNEL_BURST):
        await client.chat_postMessage(channel="C0STEWARDS", text=f"card {n}")

    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel="C0STEWARDS", text="one too many")
    assert (raised.value.response.status_code, raised.value.response["error"]) == (429, "ratelimited")
    assert raised.value.response.headers["Retry-After"] == "1"
    assert (await client.chat_postMessage(channel="C0GENERAL", text="elsewhere"))["ok"]  # per channel

    with pytest.raises(SlackApiError):  # the same channel by name
        await client.chat_postMessage(channel="#data-stewards", text="one too many")

    ticker.advance(1)
    assert (await client.chat_postMessage(channel="C0STEWARDS", text="a second later"))["ok"]
    with pytest.raises(SlackApiError):
        await client.chat_postMessage(channel="C0STEWARDS", text="too soon again")
    assert len(limited.messages("C0STEWARDS")) == DEFAULT_CHANNEL_BURST + 1  # refused posts leave nothing


async def test_other_methods_follow_their_tier(limited: FakeSlack, ticker: Ticker) -> None:
    client = AsyncWebClient(token=limited.bot_token, base_url=limited.base_url)
    for _ in range(20):  # users.list is tier 2: 20 a minute
        await client.users_list()
    with pytest.raises(SlackApiError) as raised:
        await client.users_list()
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "3"
    assert (await client.users_info(user="U0SARA"))["ok"]  # tier 4, counted apart

    ticker.advance(3)
    assert (await client.users_list())["ok"]


async def test_the_sdk_handler_waits_out_a_real_limit(
    limited: FakeSlack, ticker: Ticker, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def sleep(seconds: float) -> None:
        ticker.advance(seconds)  # waiting moves the limiter's clock, as real waiting would

    monkeypatch.setattr(builtin_async_handlers, "asyncio", types.SimpleNamespace(sleep=sleep))
    client = AsyncWebClient(
        token=limited.bot_token,
        base_url=limited.base_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    for n in range(DEFAULT_CHANNEL_BURST + 1):
        await client.chat_postMessage(channel="C0STEWARDS", text=f"card {n}")

    assert [c.status for c in limited.calls_to("chat.postMessage")][-2:] == [429, 200]
    assert len(limited.messages("C0STEWARDS")) == DEFAULT_CHANNEL_BURST + 1


async def test_a_scaled_slack_keeps_its_bursts_and_whole_second_retry_after(
    clock: FakeClock, ticker: Ticker
) -> None:
    install = Install(scopes={"chat:write", "users:read", "users:read.email"}, messages_tab_enabled=True)
    async with FakeSlack(clock=clock, install=install, monotonic=ticker, rate_scale=20) as fast:
        fast.invite("C0STEWARDS")
        client = AsyncWebClient(token=fast.bot_token, base_url=fast.base_url, retry_handlers=[])
        for n in range(DEFAULT_CHANNEL_BURST):  # the same burst as Slack's
            await client.chat_postMessage(channel="C0STEWARDS", text=f"card {n}")
        with pytest.raises(SlackApiError) as raised:
            await client.chat_postMessage(channel="C0STEWARDS", text="one too many")
        # Whole seconds, as Slack says it: a client that provokes a 429 at scale 20 loses 20 posts.
        assert raised.value.response.headers["Retry-After"] == "1"

        ticker.advance(1.01 / 20)  # one post's worth of time at twenty a second
        assert (await client.chat_postMessage(channel="C0STEWARDS", text="a twentieth later"))["ok"]
        with pytest.raises(SlackApiError):
            await client.chat_postMessage(channel="C0STEWARDS", text="too soon again")

        for _ in range(20):  # users.list, tier 2: its burst of twenty is unchanged...
            await client.users_list()
        with pytest.raises(SlackApiError):
            await client.users_list()
        ticker.advance(3.01 / 20)  # ...and the next one comes twenty times sooner
        assert (await client.users_list())["ok"]
        assert len(fast.messages("C0STEWARDS")) == DEFAULT_CHANNEL_BURST + 1


def test_a_rate_scale_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(monotonic=lambda: 0.0, scale=0)
