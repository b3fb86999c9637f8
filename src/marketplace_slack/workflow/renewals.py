"""Renewal reminders: a consumer told "you already have access until …" can ask to hear when it ends.

The reminder is the grant's own "it ended" DM (expired or revoked, with Request again), sent to the
person who asked, under the same once-mark as the DM the card keeper sends when it sees the grant
end: whichever notices first sends it, and the person hears once. Due at the grant's end, the
request is read again first: a grant that was extended moves the reminder to its new end, one the
Marketplace has not ended yet is looked at again a little later, and one made permanent (or gone)
needs no reminder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import structlog

from marketplace_slack.domain import RequestStatus
from marketplace_slack.infra.clock import Clock
from marketplace_slack.marketplace.errors import MarketplaceError, NotFoundError
from marketplace_slack.store.records import RenewalRecord
from marketplace_slack.store.repository import Repository
from marketplace_slack.workflow.ports import DeliveryUnknown, Gateway, Notices, dm_key

log = structlog.get_logger(__name__)

# How soon an end the Marketplace has not recorded yet, or a read that failed, is looked at again.
RETRY_AFTER: Final = timedelta(minutes=10)
# Past this, a grant still APPROVED after its end is the Marketplace's business, not a reminder's.
GIVE_UP_AFTER: Final = timedelta(days=1)
_ENDED: Final = (RequestStatus.EXPIRED, RequestStatus.REVOKED)


@dataclass
class RenewalReport:
    sent: int = 0
    moved: int = 0  # to a later end (extended), or to a later look
    dropped: int = 0


class RenewalReminders:
    def __init__(
        self,
        *,
        store: Repository,
        gateway: Gateway,
        notices: Notices,
        clock: Clock,
        owner: str,
        lease: timedelta = timedelta(minutes=2),
    ) -> None:
        self._store = store
        self._gateway = gateway
        self._notices = notices
        self._clock = clock
        self._owner = owner
        self._lease = lease

    async def run_due(self, now: datetime | None = None) -> RenewalReport:
        now = now or self._clock.now()
        report = RenewalReport()
        for row in await self._store.renewals.claim_due(now=now, owner=self._owner, lease=self._lease):
            try:
                await self._one(row, now, report)
            except (MarketplaceError, DeliveryUnknown) as exc:
                # Nothing told yet, or nobody knows: looked at again later (a held mark then says).
                log.warning("renewal_reminder_deferred", request_id=row.request_id, error=type(exc).__name__)
                await self._store.renewals.release(row, owner=self._owner, postpone_to=now + RETRY_AFTER)
                report.moved += 1
        if report.sent or report.moved or report.dropped:
            log.info("renewal_reminders", **vars(report))
        return report

    async def _one(self, row: RenewalRecord, now: datetime, report: RenewalReport) -> None:
        try:
            request = await self._gateway.load(row.request_id, enrich=False)
        except NotFoundError:
            await self._done(row, "gone", now, report)
            return
        if request.status is RequestStatus.APPROVED:
            end = request.expiration
            if end is None or now - end > GIVE_UP_AFTER:
                await self._done(row, "still_active", now, report)
                return
            # Extended: remind at the new end. Not ended yet in the Marketplace: look again shortly.
            later = end if end > now else now + RETRY_AFTER
            await self._store.renewals.release(row, owner=self._owner, postpone_to=later)
            report.moved += 1
            return
        if request.status not in _ENDED:
            await self._done(row, "no_longer_due", now, report)
            return
        async with self._store.once(dm_key(request), now=now, owner=self._owner, lease=self._lease) as mark:
            if mark:
                await self._notices.notify_requester(row.slack_user_id, request, look_first=mark.taken_over)
        await self._done(row, "sent" if mark else "told", now, report)

    async def _done(self, row: RenewalRecord, outcome: str, now: datetime, report: RenewalReport) -> None:
        await self._store.renewals.done(row, owner=self._owner, outcome=outcome, now=now)
        if outcome in ("sent", "told"):
            report.sent += 1
        else:
            report.dropped += 1
