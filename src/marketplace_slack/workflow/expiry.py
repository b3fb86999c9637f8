"""Expiry notices: a DM to a member whose temporary access ends soon (by default 7 days and 1 day before).

Notices are planned in the store whenever a request is seen approved with an expiration (a card
shown, an `expiring` webhook, the hourly scan of temporary grants) and stopped when it no longer is.
When one comes due it is checked against fresh state and sent once (`expiry:{request}:{days}`) in
the member's working hours, if those come before the access ends. Two rules keep them useful:

- Several due at once (the app was down): only the nearest to the end is sent.
- A notice that would come before the grant was even made (a 3-day grant has no 7-day notice) is
  skipped: the requester's approval message already said when access ends.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import structlog

from marketplace_slack.config_file import ExpiryConfig
from marketplace_slack.domain import AccessRequest, RecordStatus, RequestStatus
from marketplace_slack.infra.clock import Clock
from marketplace_slack.marketplace.errors import NotFoundError
from marketplace_slack.store.records import ExpiryRecord
from marketplace_slack.store.repository import Repository
from marketplace_slack.workflow.ports import Directory, ExpiryNote, Notices
from marketplace_slack.workflow.workhours import WorkingHours, is_working, next_working_instant

log = structlog.get_logger(__name__)


class GrantsGateway(Protocol):
    async def load(self, request_id: str, *, enrich: bool = True) -> AccessRequest: ...

    def temporary_grants(self) -> AsyncIterator[tuple[str, datetime]]: ...


@dataclass
class ExpiryReport:
    sent: int = 0
    skipped: int = 0
    postponed: int = 0
    failed: int = 0


class ExpiryNotices:
    def __init__(
        self,
        *,
        store: Repository,
        gateway: GrantsGateway,
        directory: Directory,
        notices: Notices,
        config: ExpiryConfig,
        hours: WorkingHours,
        timezone: str,
        clock: Clock,
        owner: str,
        lease: timedelta = timedelta(minutes=2),
    ) -> None:
        self._store = store
        self._gateway = gateway
        self._directory = directory
        self._notices = notices
        self._config = config
        self._hours = hours
        self._default_zone = timezone
        self._clock = clock
        self._owner = owner
        self._lease = lease

    async def request_seen(self, request: AccessRequest) -> None:
        """Plan notices for a temporary grant; stop them for anything else. Makes no remote calls."""
        if not self._config.enabled:
            return
        now = self._clock.now()
        if request.status is RequestStatus.APPROVED and request.expiration and request.expiration > now:
            await self._store.expiry.schedule(
                request.id, expires_at=request.expiration, leads=self._config.leads, now=now
            )
        else:
            await self._store.expiry.stop(request.id, now=now)

    async def scan(self) -> int:
        """Plan notices for every temporary grant the app can see: grants approved while it was down,
        or auto-approved without a card, would otherwise be missed. Returns how many were seen."""
        if not self._config.enabled:
            return 0
        now = self._clock.now()
        seen = 0
        async for request_id, expires_at in self._gateway.temporary_grants():
            if expires_at > now:
                await self._store.expiry.schedule(
                    request_id, expires_at=expires_at, leads=self._config.leads, now=now
                )
                seen += 1
        return seen

    async def run_due(self, now: datetime | None = None) -> ExpiryReport:
        report = ExpiryReport()
        if not self._config.enabled:
            return report
        now = now or self._clock.now()
        rows = await self._store.expiry.claim_due(now=now, owner=self._owner, lease=self._lease)
        by_request: dict[str, list[ExpiryRecord]] = defaultdict(list)
        for row in rows:
            by_request[row.request_id].append(row)
        for request_id, claimed in by_request.items():
            try:
                await self._notify(request_id, claimed, now, report)
            except Exception as exc:
                report.failed += 1
                log.warning(
                    "expiry_notice_failed", request_id=request_id, error=type(exc).__name__, exc_info=exc
                )
                for row in claimed:
                    await self._store.expiry.release(row.request_id, row.days_before, owner=self._owner)
        if report.sent or report.failed:
            log.info("expiry_notices", **vars(report))
        return report

    async def _notify(
        self, request_id: str, rows: list[ExpiryRecord], now: datetime, report: ExpiryReport
    ) -> None:
        try:
            request = await self._gateway.load(request_id, enrich=False)
        except NotFoundError:
            await self._store.expiry.stop(request_id, now=now)
            return
        expiration = request.expiration
        if request.status is not RequestStatus.APPROVED or expiration is None or expiration <= now:
            await self._store.expiry.stop(request_id, now=now)
            return
        if any(row.expires_at != expiration for row in rows):
            # The grant changed since the notices were planned: plan again, from the new end.
            await self._store.expiry.schedule(
                request_id, expires_at=expiration, leads=self._config.leads, now=now
            )
            for row in rows:
                await self._store.expiry.release(row.request_id, row.days_before, owner=self._owner)
            return
        nearest, *earlier = sorted(rows, key=lambda r: r.days_before)
        for row in earlier:
            await self._done(row, "superseded", now)
            report.skipped += 1
        if expiration - timedelta(days=nearest.days_before) <= _granted_at(request):
            await self._done(nearest, "too_short", now)
            report.skipped += 1
            return
        member = (
            await self._directory.person_for_email(request.requester.email)
            if request.requester.email
            else None
        )
        if member is None:
            await self._done(nearest, "no_slack_user", now)
            report.skipped += 1
            return
        zone = self._zone(member.tz)
        if not is_working(now, zone, self._hours):
            resume = next_working_instant(now, zone, self._hours)
            if resume < expiration:
                await self._store.expiry.release(
                    nearest.request_id, nearest.days_before, owner=self._owner, postpone_to=resume
                )
                report.postponed += 1
                return
        key = f"expiry:{request_id}:{nearest.days_before}"
        async with self._store.once(key, now=now) as won:
            if won:
                note = ExpiryNote(
                    request_id=request.id,
                    product_id=request.product_id,
                    product_name=request.product_name,
                    kind=request.kind,
                    expires_at=expiration,
                    timezone=zone.key,
                    marketplace_url=request.marketplace_url,
                )
                await self._notices.send_expiry_notice(member.user_id, note, key=key)
                report.sent += 1
        await self._done(nearest, "sent", now)

    async def _done(self, row: ExpiryRecord, outcome: str, now: datetime) -> None:
        await self._store.expiry.done(
            row.request_id, row.days_before, owner=self._owner, outcome=outcome, now=now
        )

    def _zone(self, name: str | None) -> ZoneInfo:
        for candidate in (name, self._default_zone):
            if candidate:
                try:
                    return ZoneInfo(candidate)
                except (ZoneInfoNotFoundError, ValueError):
                    continue
        return ZoneInfo("UTC")


def _granted_at(request: AccessRequest) -> datetime:
    """When access was granted: the last approval's time, or the request's for an automatic one."""
    approved = [s.updated_at for s in request.steps if s.status is RecordStatus.APPROVED and s.updated_at]
    return max(approved, default=request.created_at)
