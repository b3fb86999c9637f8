"""Slack's rate limits: chat.postMessage about once a second per channel with short bursts, and the
per-minute tiers of the other methods, counted on the real monotonic clock (or an injected one).

`scale` runs every limit that many times faster (a benchmark's 1,000-card burst in a minute rather
than in a quarter of an hour) with the bursts unchanged, so a client paced for the same scale meets
the same limits it would meet in Slack. Retry-After stays whole seconds, as Slack sends it, which
makes a 429 dearer the faster the scale: a client that provokes them is no faster for it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

# Slack's published tiers: at least this many calls a minute per workspace, with bursts.
TIER_PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}
METHOD_TIERS = {
    "auth.test": 4,
    "chat.postEphemeral": 4,
    "chat.update": 3,
    "chat.delete": 3,
    "chat.getPermalink": 4,
    "conversations.open": 3,
    "conversations.info": 3,
    "conversations.members": 4,
    "conversations.join": 3,
    # Tier 3 for internal and Marketplace apps, which this app is (each team creates its own from the
    # manifest); Slack limits commercially distributed non-Marketplace apps far more (1/minute).
    "conversations.history": 3,
    "conversations.replies": 3,
    "users.info": 4,
    "users.list": 2,
    "users.lookupByEmail": 3,
    "usergroups.users.list": 2,
    "views.open": 4,
    "views.update": 4,
    "views.push": 4,
    "views.publish": 4,
}
POSTS_PER_SECOND = 1.0
# Slack allows "short bursts" above 1/s without saying how long; a few messages keeps tests quick
# while a real burst of cards still meets the limit.
DEFAULT_CHANNEL_BURST = 5


@dataclass(slots=True)
class TokenBucket:
    rate: float  # tokens per second
    capacity: float
    tokens: float
    stamp: float

    def take(self, now: float) -> float:
        """Take a token and answer 0, or answer how many seconds until one is there."""
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class RateLimiter:
    def __init__(
        self,
        *,
        monotonic: Callable[[], float],
        channel_burst: int = DEFAULT_CHANNEL_BURST,
        scale: float = 1.0,
    ) -> None:
        if scale <= 0:
            raise ValueError("the rate scale must be positive")
        self._monotonic = monotonic
        self._channel_burst = channel_burst
        self._scale = scale
        self._buckets: dict[tuple[str, str], TokenBucket] = {}

    def retry_after(self, method: str, channel: str | None) -> int | None:
        """None when the call may go ahead, else the whole seconds Slack puts in Retry-After."""
        if method == "chat.postMessage":
            key, rate, capacity = (method, channel or ""), POSTS_PER_SECOND, float(self._channel_burst)
        elif method in METHOD_TIERS:
            per_minute = TIER_PER_MINUTE[METHOD_TIERS[method]]
            key, rate, capacity = (method, ""), per_minute / 60, float(per_minute)
        else:
            return None
        now = self._monotonic()
        bucket = self._buckets.setdefault(key, TokenBucket(rate * self._scale, capacity, capacity, now))
        wait = bucket.take(now)
        return None if wait == 0 else max(1, math.ceil(wait))
