"""A request after a steward's determination, from what was known before it and the PUT's answer.

`PUT /api/approval-record/{id}` answers with the one record it decided, not with the request. The
vendor's guides say what a determination does to the request: "If any of the data stewards deny the
request, it will be denied", the request is approved once every record is, and "If any of the data
stewards temporarily approve the request, once the determination is made, the user will be approved
for temporary access for the shortest time period given". Where those rules tell, the request is
known without reading it again (`after_determination`); where they do not (a later stage that may
have opened, records left open beside a denial, an answer without its time) it says None, and the
gateway reads the records and the request instead.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from marketplace_slack.domain import (
    AccessRequest,
    ApprovalStep,
    Duration,
    DurationUnit,
    RecordStatus,
    RequestStatus,
)


def with_steps(request: AccessRequest, steps: Iterable[ApprovalStep]) -> AccessRequest:
    """`request` with each of `steps` in place of its record of the same id (others as they were)."""
    fresh = {s.id: s for s in steps}
    if not fresh:
        return request
    return replace(request, steps=tuple(fresh.get(s.id, s) for s in request.steps))


def with_slack_ids(steps: Iterable[ApprovalStep], found: Mapping[str, str | None]) -> list[ApprovalStep]:
    """`steps` with their deciders' Slack ids from `found` (emails casefolded), as a card names them."""
    return [
        replace(s, decided_by=replace(s.decided_by, slack_user_id=found.get(s.decided_by.email.casefold())))
        if s.decided_by is not None and s.decided_by.email
        else s
        for s in steps
    ]


def after_determination(request: AccessRequest, answers: Iterable[ApprovalStep]) -> AccessRequest | None:
    """`request` as the Marketplace has it once it answered `answers` (the decided records), or None
    when the vendor's rules leave something only a read can tell.

    `request` is what was read just before the PUT; its enrichment (risk, recent decisions) stays as
    it was read, and the next read of the whole request (a webhook, reconciliation) brings it up to
    date."""
    answered = list(answers)
    if not answered:
        return None
    after = with_steps(request, answered)
    steps = after.steps
    if any(s.status is RecordStatus.BLOCKED for s in steps):
        return None  # whether a later stage opened is the Marketplace's to say
    at = max((s.updated_at for s in answered if s.updated_at is not None), default=None)
    if at is None:
        return None
    if any(s.status is RecordStatus.DENIED for s in steps):
        if any(s.is_open for s in steps):
            return None  # what a denial does to the records beside it is not documented
        return _settled(after, RequestStatus.DENIED, expiration=None, at=at)
    if all(s.status is RecordStatus.APPROVED for s in steps):
        durations = [s.duration for s in steps if s.duration is not None]
        expiration = min(ends(at, d) for d in durations) if durations else None
        return _settled(after, RequestStatus.APPROVED, expiration=expiration, at=at)
    if all(s.status in (RecordStatus.APPROVED, RecordStatus.PENDING) for s in steps):
        return replace(after, updated_at=at)  # other records still wait: the request too
    return None  # a canceled or unknown record beside ours: read it


def _settled(
    request: AccessRequest, status: RequestStatus, *, expiration: datetime | None, at: datetime
) -> AccessRequest:
    return replace(request, status=status, raw_status=status.value, expiration=expiration, updated_at=at)


def ends(start: datetime, duration: Duration) -> datetime:
    """When access granted at `start` for `duration` ends; months and years are calendar ones, a day
    past the end of the month being its last day (31 January + 1 month is 28 or 29 February)."""
    unit, amount = duration.unit, duration.amount
    if unit is DurationUnit.HOURS:
        return start + timedelta(hours=amount)
    if unit is DurationUnit.DAYS:
        return start + timedelta(days=amount)
    if unit is DurationUnit.WEEKS:
        return start + timedelta(weeks=amount)
    months = amount if unit is DurationUnit.MONTHS else amount * 12
    years, month_index = divmod(start.month - 1 + months, 12)
    year, month = start.year + years, month_index + 1
    return start.replace(year=year, month=month, day=min(start.day, calendar.monthrange(year, month)[1]))
