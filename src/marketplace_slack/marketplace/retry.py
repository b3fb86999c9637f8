"""When to retry a Marketplace request, and how long to wait first.

A request is repeated only when repeating it cannot do harm:

* it provably never reached the server (connection refused, connect timeout, no pooled connection),
  or the server refused it unprocessed (429): any method;
* it may have reached the server (read timeout, dropped connection, 502/503/504): only GET, PUT and
  DELETE, which are idempotent. A POST such as "request access" is never repeated then, because the
  first one may have created the request.

Waits use exponential backoff with full jitter (``uniform(0, min(max, base * 2**n))``), or the
server's ``Retry-After`` (seconds or an HTTP-date) when it sends one, capped at ``backoff_max``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
# 429 means the server turned the request away before doing anything with it.
NOT_PROCESSED_STATUSES = frozenset({429})


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to retry and how long to back off."""

    max_retries: int = 3
    backoff_base: float = 0.25
    backoff_max: float = 8.0

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.backoff_base < 0 or self.backoff_max < 0:
            raise ValueError("retry settings must not be negative")

    def backoff(self, retry: int, rng: random.Random) -> float:
        """Full-jitter delay before retry number ``retry`` (0 for the first retry)."""
        ceiling = min(self.backoff_max, self.backoff_base * (2**retry))
        return rng.uniform(0.0, ceiling)

    def delay(self, retry: int, rng: random.Random, retry_after: float | None) -> float:
        """The wait before a retry: the server's ``Retry-After`` if given (capped), else backoff."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.backoff_max)
        return self.backoff(retry, rng)


def status_is_retryable(method: str, status_code: int) -> bool:
    """Whether a response with ``status_code`` may be retried for ``method``."""
    if status_code in NOT_PROCESSED_STATUSES:
        return True
    return status_code in RETRYABLE_STATUSES and method.upper() in IDEMPOTENT_METHODS


def never_sent(exc: httpx.TransportError) -> bool:
    """True when the request cannot have reached the server."""
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def transport_error_is_retryable(method: str, exc: httpx.TransportError) -> bool:
    """Whether a request that failed with ``exc`` (no response) may be retried for ``method``."""
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.ProxyError):
        return False  # a configuration problem; trying again will not help
    return never_sent(exc) or method.upper() in IDEMPOTENT_METHODS


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date), or ``None``.

    ``now`` is the moment the date is measured from; pass the response's ``Date`` header so that a
    skewed local clock does not matter. Dates in the past give 0.
    """
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if seconds == seconds else None  # NaN is not a wait
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000" dates parse naive; HTTP-dates are always GMT
        when = when.replace(tzinfo=UTC)
    reference = now or datetime.now(UTC)
    return max((when - reference).total_seconds(), 0.0)


def retry_after_of(response: httpx.Response) -> float | None:
    """The wait a response asks for, measured against its own ``Date`` header when present."""
    now: datetime | None = None
    date = response.headers.get("Date")
    if date:
        try:
            now = parsedate_to_datetime(date)
        except (TypeError, ValueError, IndexError):
            now = None
        if now is not None and now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
    return parse_retry_after(response.headers.get("Retry-After"), now=now)
