"""Failures on demand: 429 with Retry-After that slack-sdk's own retry handler honours, and errors."""

from __future__ import annotations

import types

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import builtin_async_handlers
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.web.async_client import AsyncWebClient

from marketplace_slack_standins.fakeslack import FakeSlack


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
