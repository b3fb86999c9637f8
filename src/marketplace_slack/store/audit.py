"""The audit log: every decision taken through Slack, every refusal, link, unlink and agreement accepted.

Who (the Slack user, their workspace and their Marketplace identity), what (the kind, the request and
record, the verdict and duration), when, and the answer (`outcome`: "ok" or an error code, `error` the
sentence the person was shown). Rows are only ever added. `Audit.append` writes a decision,
`Audit.record` any other kind; `Audit.entries` walks the whole log in time order a page at a time, for
`marketplace-slack audit`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import Row, and_, or_, select

from marketplace_slack.domain import DurationUnit, Verdict
from marketplace_slack.store.base import Area, check_time
from marketplace_slack.store.records import OUTCOME_OK, AuditRecord
from marketplace_slack.store.tables import audit_log

PAGE_SIZE: Final = 500


class AuditKind(StrEnum):
    DECISION = "decision"  # a determination sent to the Marketplace (or an attempt), with its answer
    REFUSAL = "refusal"  # a click or a submitted form the app turned away; `outcome` is the reason's code
    LINK = "link"  # a steward linked their Marketplace account
    UNLINK = "unlink"  # a steward unlinked it
    # The app ended a link; `outcome` says why: unauthorized (the Marketplace refused its token, or
    # the Slack account no longer matches it), displaced (another Slack account linked the same
    # Marketplace user), expired.
    LINK_ENDED = "link_ended"
    # A consumer filed a request from Slack (`detail`: product, kind, for whom, and whether the app's
    # own account filed it for them, `requests.file_as_app`).
    REQUEST = "request"
    # A consumer accepted a data use agreement from Slack (`detail`: its id and the form version).
    AGREEMENT = "agreement"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One row of the audit log, of any kind, as the export shows it."""

    id: int
    at: datetime
    kind: str  # an AuditKind value (a newer kind read by an older app stays a plain string)
    team_id: str | None
    slack_user_id: str
    marketplace_user_id: str | None
    request_id: str | None
    record_id: str | None
    verdict: str | None
    duration: int | None
    duration_unit: str | None
    reason: str | None
    outcome: str
    error: str | None
    detail: dict[str, Any] | None

    @property
    def duration_text(self) -> str | None:
        """`7 DAYS`, or None for a denial or an indefinite approval."""
        if self.duration is None or self.duration_unit is None:
            return None
        return f"{self.duration} {self.duration_unit}"


class Audit(Area):
    async def append(
        self,
        *,
        at: datetime,
        request_id: str,
        record_id: str,
        slack_user_id: str,
        verdict: Verdict | str,
        marketplace_user_id: str | None = None,
        team_id: str | None = None,
        duration: int | None = None,
        duration_unit: DurationUnit | str | None = None,
        reason: str | None = None,
        outcome: str = OUTCOME_OK,
        error: str | None = None,
    ) -> AuditRecord:
        """Record a decision taken in Slack: `outcome` is "ok" or an error code, `error` its message."""
        check_time(at)
        if (duration is None) != (duration_unit is None):
            raise ValueError("a duration needs both an amount and a unit")
        values: dict[str, Any] = {
            "at": at,
            "kind": AuditKind.DECISION.value,
            "request_id": request_id,
            "record_id": record_id,
            "team_id": team_id,
            "slack_user_id": slack_user_id,
            "marketplace_user_id": marketplace_user_id,
            "verdict": Verdict(verdict).value,
            "duration": duration,
            "duration_unit": None if duration_unit is None else DurationUnit(duration_unit).value,
            "reason": reason,
            "outcome": outcome,
            "error": error,
        }
        async with self._writer.begin() as conn:
            row = (await conn.execute(audit_log.insert().values(values).returning(*audit_log.c))).one()
        return _decision(row)

    async def record(
        self,
        *,
        kind: AuditKind | str,
        at: datetime,
        slack_user_id: str,
        team_id: str | None = None,
        marketplace_user_id: str | None = None,
        request_id: str | None = None,
        record_id: str | None = None,
        verdict: Verdict | str | None = None,
        outcome: str = OUTCOME_OK,
        error: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> AuditEntry:
        """Record an act that is not a decision (those go through `append`, which checks their fields):
        a refusal (`outcome` its code), a link, an unlink, an ended link, an agreement accepted.
        `detail` is kept as JSON; it must not hold secrets."""
        check_time(at)
        kind = AuditKind(kind)
        if kind is AuditKind.DECISION:
            raise ValueError("a decision is recorded with `append`")
        values: dict[str, Any] = {
            "at": at,
            "kind": kind.value,
            "request_id": request_id,
            "record_id": record_id,
            "team_id": team_id,
            "slack_user_id": slack_user_id,
            "marketplace_user_id": marketplace_user_id,
            "verdict": None if verdict is None else Verdict(verdict).value,
            "outcome": outcome,
            "error": error,
            "detail": None if detail is None else json.dumps(dict(detail), sort_keys=True, default=str),
        }
        async with self._writer.begin() as conn:
            row = (await conn.execute(audit_log.insert().values(values).returning(*audit_log.c))).one()
        return _entry(row)

    async def entries(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        page_size: int = PAGE_SIZE,
    ) -> AsyncIterator[AuditEntry]:
        """Every entry with `since <= at < until`, oldest first (ties in insertion order), read a page at
        a time by keyset (the last (at, id) seen), so a log of any size streams in bounded memory and
        rows written meanwhile are neither skipped nor repeated."""
        if page_size < 1:
            raise ValueError("a page holds at least one entry")
        c = audit_log.c
        bounds = []
        if since is not None:
            check_time(since)
            bounds.append(c.at >= since)
        if until is not None:
            check_time(until)
            bounds.append(c.at < until)
        after: tuple[datetime, int] | None = None
        while True:
            query = select(audit_log).where(*bounds).order_by(c.at, c.id).limit(page_size)
            if after is not None:
                query = query.where(or_(c.at > after[0], and_(c.at == after[0], c.id > after[1])))
            async with self._engine.connect() as conn:
                rows = (await conn.execute(query)).all()
            for row in rows:
                yield _entry(row)
            if len(rows) < page_size:
                return
            after = (rows[-1].at, rows[-1].id)

    # Last in the class: below it, `list` in an annotation would name this method.
    async def list(self, request_id: str | None = None) -> list[AuditRecord]:
        """The decisions, oldest first (the other kinds are read with `entries`)."""
        query = (
            select(audit_log)
            .where(audit_log.c.kind == AuditKind.DECISION.value)
            .order_by(audit_log.c.at, audit_log.c.id)
        )
        if request_id is not None:
            query = query.where(audit_log.c.request_id == request_id)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [_decision(row) for row in rows]


def _decision(row: Row[Any]) -> AuditRecord:
    return AuditRecord(
        id=row.id,
        at=row.at,
        request_id=row.request_id,
        record_id=row.record_id,
        team_id=row.team_id,
        slack_user_id=row.slack_user_id,
        marketplace_user_id=row.marketplace_user_id,
        verdict=Verdict(row.verdict),
        duration=row.duration,
        duration_unit=None if row.duration_unit is None else DurationUnit(row.duration_unit),
        reason=row.reason,
        outcome=row.outcome,
        error=row.error,
    )


def _entry(row: Row[Any]) -> AuditEntry:
    detail: dict[str, Any] | None = None
    if row.detail is not None:
        try:
            parsed = json.loads(row.detail)
        except ValueError:
            parsed = {"text": row.detail}  # written by hand, say: shown as it is, never lost
        detail = parsed if isinstance(parsed, dict) else {"value": parsed}
    return AuditEntry(
        id=row.id,
        at=row.at,
        kind=row.kind,
        team_id=row.team_id,
        slack_user_id=row.slack_user_id,
        marketplace_user_id=row.marketplace_user_id,
        request_id=row.request_id,
        record_id=row.record_id,
        verdict=row.verdict,
        duration=row.duration,
        duration_unit=row.duration_unit,
        reason=row.reason,
        outcome=row.outcome,
        error=row.error,
        detail=detail,
    )
