"""Expiry notices: the reminders a requester gets before a temporary grant ends."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update

from marketplace_slack.store.base import Area, as_record, check_lease, check_time, postponed
from marketplace_slack.store.records import ExpiryRecord
from marketplace_slack.store.tables import expiry_notices


class Expiry(Area):
    async def schedule(
        self, request_id: str, *, expires_at: datetime, leads: Iterable[int], now: datetime
    ) -> None:
        """Plan a notice `days_before` each lead; a changed expiration moves notices not yet sent, and
        leads no longer wanted are stopped."""
        check_time(now)
        check_time(expires_at)
        wanted = sorted(set(leads))
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(
                        expiry_notices.c.days_before, expiry_notices.c.expires_at, expiry_notices.c.done_at
                    ).where(expiry_notices.c.request_id == request_id)
                )
            ).all()
        planned = {row.days_before for row in rows}
        if set(wanted) <= planned and all(
            row.done_at is not None or (row.expires_at == expires_at and row.days_before in wanted)
            for row in rows
        ):
            return  # already planned for this expiration: the usual case when a grant is seen again
        async with self._writer.begin() as conn:
            if wanted:
                insert = self._insert(expiry_notices).values(
                    [
                        {
                            "request_id": request_id,
                            "days_before": days,
                            "expires_at": expires_at,
                            "due_at": expires_at - timedelta(days=days),
                            "created_at": now,
                            "updated_at": now,
                        }
                        for days in wanted
                    ]
                )
                await conn.execute(
                    insert.on_conflict_do_update(
                        index_elements=[expiry_notices.c.request_id, expiry_notices.c.days_before],
                        set_={
                            "expires_at": insert.excluded.expires_at,
                            "due_at": insert.excluded.due_at,
                            "updated_at": insert.excluded.updated_at,
                        },
                        where=and_(
                            expiry_notices.c.done_at.is_(None),
                            expiry_notices.c.expires_at != insert.excluded.expires_at,
                        ),
                    )
                )
            await conn.execute(
                update(expiry_notices)
                .where(
                    expiry_notices.c.request_id == request_id,
                    expiry_notices.c.done_at.is_(None),
                    expiry_notices.c.days_before.not_in(wanted),
                )
                .values(due_at=None, outcome="stopped", done_at=now, updated_at=now)
            )

    async def stop(self, request_id: str, *, now: datetime) -> int:
        """The grant is over (expired, revoked) or was never temporary: no notice not yet sent goes."""
        check_time(now)
        async with self._engine.connect() as conn:
            open_notice = await conn.scalar(
                select(expiry_notices.c.request_id)
                .where(expiry_notices.c.request_id == request_id, expiry_notices.c.done_at.is_(None))
                .limit(1)
            )
        if open_notice is None:
            return 0
        async with self._writer.begin() as conn:
            result = await conn.execute(
                update(expiry_notices)
                .where(expiry_notices.c.request_id == request_id, expiry_notices.c.done_at.is_(None))
                .values(due_at=None, outcome="stopped", done_at=now, updated_at=now)
            )
            return result.rowcount

    async def claim_due(
        self, *, now: datetime, owner: str, lease: timedelta, limit: int = 200
    ) -> list[ExpiryRecord]:
        check_time(now)
        check_lease(lease)
        due = and_(
            expiry_notices.c.due_at.is_not(None),
            expiry_notices.c.due_at <= now,
            or_(expiry_notices.c.claim_owner.is_(None), expiry_notices.c.claimed_at <= now - lease),
        )
        rows = await self._claim_due(
            expiry_notices,
            (expiry_notices.c.request_id, expiry_notices.c.days_before),
            due,
            order_by=expiry_notices.c.due_at,
            values={"claim_owner": owner, "claimed_at": now},
            limit=limit,
        )
        return [as_record(ExpiryRecord, row) for row in rows]

    async def done(
        self, request_id: str, days_before: int, *, owner: str, outcome: str, now: datetime
    ) -> bool:
        return await self._settle_claim(
            expiry_notices,
            self._claimed(request_id, days_before, owner),
            {"due_at": None, "outcome": outcome, "done_at": now, "updated_at": now},
        )

    async def release(
        self, request_id: str, days_before: int, *, owner: str, postpone_to: datetime | None = None
    ) -> bool:
        return await self._settle_claim(
            expiry_notices,
            self._claimed(request_id, days_before, owner),
            postponed("due_at", postpone_to),
        )

    @staticmethod
    def _claimed(request_id: str, days_before: int, owner: str) -> list[ColumnElement[bool]]:
        return [
            expiry_notices.c.request_id == request_id,
            expiry_notices.c.days_before == days_before,
            expiry_notices.c.claim_owner == owner,
            expiry_notices.c.done_at.is_(None),
        ]

    # Last in the class: below it, `list` in an annotation would name this method.
    async def list(self, request_id: str | None = None) -> list[ExpiryRecord]:
        query = select(expiry_notices).order_by(
            expiry_notices.c.request_id, expiry_notices.c.days_before.desc()
        )
        if request_id is not None:
            query = query.where(expiry_notices.c.request_id == request_id)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [as_record(ExpiryRecord, row) for row in rows]
