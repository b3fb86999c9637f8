"""Slack Events API deliveries, acted on once each.

Slack delivers an event again when it did not see the ack in time (over HTTP with `X-Slack-Retry-Num`,
over Socket Mode as an envelope with `retry_attempt` ≥ 1), for about an hour. The delivery carries the
same `event_id` each time, so the first to claim `event:<event_id>` acts and the others do nothing. If
acting fails the mark is forgotten, so Slack's next retry gets another go.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog

from marketplace_slack.infra.clock import Clock
from marketplace_slack.store.repository import Repository

log = structlog.get_logger(__name__)

EVENT_MARK_PREFIX = "event:"


class Events:
    def __init__(self, *, store: Repository, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def once(self, event_id: str | None, action: Callable[[], Awaitable[None]]) -> bool:
        """Run `action` unless this event was handled already; say whether it ran.

        An event without an id (Slack always sends one) cannot be told from its repeats: it is acted on.
        """
        if not event_id:
            await action()
            return True
        async with self._store.once(EVENT_MARK_PREFIX + event_id, now=self._clock.now()) as first:
            if not first:
                log.info("event_repeated", event_id=event_id)
                return False
            await action()
            return True
