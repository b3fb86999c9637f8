"""Retry policy: which failures are retried for which methods, backoff, and Retry-After parsing."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import httpx
import pytest

from marketplace_slack.marketplace.retry import (
    RetryPolicy,
    parse_retry_after,
    retry_after_of,
    status_is_retryable,
    transport_error_is_retryable,
)

NOW = datetime(2026, 11, 23, 9, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3", 3.0),
        (" 0.5 ", 0.5),
        ("0", 0.0),
        ("-4", 0.0),  # a negative wait means "now"
        ("Mon, 23 Nov 2026 09:00:07 GMT", 7.0),
        ("Mon, 23 Nov 2026 08:59:00 GMT", 0.0),  # already past
        ("soon", None),
        ("", None),
        (None, None),
        ("nan", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected


def test_retry_after_date_is_measured_against_the_response_date_not_the_local_clock() -> None:
    response = httpx.Response(
        429,
        headers={"Retry-After": "Wed, 21 Oct 2015 07:28:05 GMT", "Date": "Wed, 21 Oct 2015 07:28:00 GMT"},
    )
    assert retry_after_of(response) == 5.0


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "POST"])
def test_429_is_retried_for_every_method(method: str) -> None:
    assert status_is_retryable(method, 429)


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_are_retried_only_for_idempotent_methods(status: int) -> None:
    assert status_is_retryable("GET", status)
    assert status_is_retryable("PUT", status)
    assert status_is_retryable("DELETE", status)
    assert not status_is_retryable("POST", status)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 500, 501])
def test_other_statuses_are_not_retried(status: int) -> None:
    assert not status_is_retryable("GET", status)


def _request() -> httpx.Request:
    return httpx.Request("POST", "http://127.0.0.1/x")


def test_a_post_is_retried_only_when_it_cannot_have_reached_the_server() -> None:
    assert transport_error_is_retryable("POST", httpx.ConnectError("refused", request=_request()))
    assert transport_error_is_retryable("POST", httpx.ConnectTimeout("slow", request=_request()))
    assert transport_error_is_retryable("POST", httpx.PoolTimeout("busy", request=_request()))
    assert not transport_error_is_retryable("POST", httpx.ReadTimeout("slow", request=_request()))
    assert not transport_error_is_retryable("POST", httpx.RemoteProtocolError("gone", request=_request()))
    assert transport_error_is_retryable("GET", httpx.ReadTimeout("slow", request=_request()))
    assert not transport_error_is_retryable("GET", httpx.UnsupportedProtocol("ftp", request=_request()))


def test_backoff_is_full_jitter_under_an_exponential_cap() -> None:
    policy = RetryPolicy(backoff_base=0.25, backoff_max=2.0)
    rng = random.Random(7)
    for retry, ceiling in [(0, 0.25), (1, 0.5), (2, 1.0), (3, 2.0), (8, 2.0)]:
        samples = [policy.backoff(retry, rng) for _ in range(200)]
        assert all(0.0 <= s <= ceiling for s in samples)
        assert max(samples) > ceiling * 0.8  # the whole range is used, not just its bottom
        assert min(samples) < ceiling * 0.2


def test_retry_after_overrides_backoff_but_is_capped() -> None:
    policy = RetryPolicy(backoff_base=0.25, backoff_max=8.0)
    rng = random.Random(1)
    assert policy.delay(0, rng, 3.0) == 3.0
    assert policy.delay(0, rng, 120.0) == 8.0
    assert policy.delay(5, rng, 0.0) == 0.0


def test_negative_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        RetryPolicy(max_retries=-1)
