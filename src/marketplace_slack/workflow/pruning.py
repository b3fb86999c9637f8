"""Forgetting what only guards against repeats, once no repeat can come: the scheduler's prune job.

Webhook deliveries, some once-marks (Slack events' among them) and cached Slack lookups would
otherwise pile up for ever. Every replica may prune at any moment: each prune is one DELETE of rows
older than a cut-off.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Final

import structlog

from marketplace_slack.infra.clock import Clock
from marketplace_slack.store.repository import Repository

log = structlog.get_logger(__name__)

# The Marketplace retries a webhook delivery for hours, not weeks.
DELIVERIES_KEPT: Final = timedelta(days=14)
MARKS_KEPT: Final = timedelta(days=14)

# Once-marks of these kinds guard a send whose own row moves on within minutes (the reminder's count,
# the expiry notice's outcome, the digest slot's grace period, a link's `warned_at` or its deletion;
# a link's marks name its `linked_at`, so a re-link earns new ones), so after `MARKS_KEPT` they guard
# nothing. The other kinds are kept: a step's thread reply and the requester's DM come due again
# whenever the card is shown (a webhook months later), an escalation whenever its step is reminded, and
# a request filed from Slack (`filed:`) earns its DMs whenever it ends. A modal's filing (`filing:`)
# guards a submission Slack delivers within seconds.
PRUNED_MARKS: Final = ("reminder:", "expiry:", "digest:", "link:", "filing:")
# An Events API delivery's mark (`workflow/events.py`) guards only against Slack's retries, which stop
# after about an hour; a few days' margin covers clock skew and a replica that was down meanwhile.
EVENT_MARKS: Final = ("event:",)
EVENT_MARKS_KEPT: Final = timedelta(days=3)


@dataclass(frozen=True, slots=True)
class PruneReport:
    deliveries: int
    marks: int
    slack_users: int


class Pruner:
    def __init__(
        self,
        store: Repository,
        clock: Clock,
        *,
        slack_users_kept: timedelta,
        deliveries_kept: timedelta = DELIVERIES_KEPT,
        marks_kept: timedelta = MARKS_KEPT,
        event_marks_kept: timedelta = EVENT_MARKS_KEPT,
    ) -> None:
        """`slack_users_kept` is the directory's cache TTL: an older lookup is never served again."""
        self._store = store
        self._clock = clock
        self._slack_users_kept = slack_users_kept
        self._deliveries_kept = deliveries_kept
        self._marks_kept = marks_kept
        self._event_marks_kept = event_marks_kept

    async def run(self, now: datetime | None = None) -> PruneReport:
        now = now or self._clock.now()
        report = PruneReport(
            deliveries=await self._store.deliveries.prune(now - self._deliveries_kept),
            marks=await self._store.marks.prune(now - self._marks_kept, prefixes=PRUNED_MARKS)
            + await self._store.marks.prune(now - self._event_marks_kept, prefixes=EVENT_MARKS),
            slack_users=await self._store.slack_users.prune(now - self._slack_users_kept),
        )
        if any(asdict(report).values()):
            log.info("store_pruned", **asdict(report))
        return report
