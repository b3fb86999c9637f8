"""Renewal reminders: "tell me when I can request this again", kept until the grant ends.

A row per person and grant. Asking again for the same grant moves nothing but the due time (and
revives a row that was done), so a double click or a replayed action plans one reminder.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select

from marketplace_slack.store.base import Area, as_record, check_lease, check_time, postponed
from marketplace_slack.store.records import RenewalRecord
from marketplace_slack.store.tables import renewal_reminders as table


class Renewals(Area):
    async def schedule(
        self, team_id: str, slack_user_id: str, request_id: str, *, due_at: datetime, now: datetime
    ) -> None:
        check_time(due_at)
        check_time(now)
        insert = self._insert(table).values(
            team_id=team_id,
            slack_user_id=slack_user_id,
            request_id=request_id,
            due_at=due_at,
            created_at=now,
            updated_at=now,
        )
        async with self._writer.begin() as conn:
            await conn.execute(
                insert.on_conflict_do_update(
                    index_elements=[table.c.team_id, table.c.slack_user_id, table.c.request_id],
                    set_={"due_at": due_at, "outcome": None, "done_at": None, "updated_at": now},
                )
            )

    async def claim_due(
        self, *, now: datetime, owner: str, lease: timedelta, limit: int = 200
    ) -> list[RenewalRecord]:
        check_time(now)
        check_lease(lease)
        due = and_(
            table.c.due_at.is_not(None),
            table.c.due_at <= now,
            or_(table.c.claim_owner.is_(None), table.c.claimed_at <= now - lease),
        )
        rows = await self._claim_due(
            table,
            (table.c.team_id, table.c.slack_user_id, table.c.request_id),
            due,
            order_by=table.c.due_at,
            values={"claim_owner": owner, "claimed_at": now},
            limit=limit,
        )
        return [as_record(RenewalRecord, row) for row in rows]

    async def done(self, row: RenewalRecord, *, owner: str, outcome: str, now: datetime) -> bool:
        return await self._settle_claim(
            table,
            self._claimed(row, owner),
            {"due_at": None, "outcome": outcome, "done_at": now, "updated_at": now},
        )

    async def release(self, row: RenewalRecord, *, owner: str, postpone_to: datetime | None = None) -> bool:
        return await self._settle_claim(table, self._claimed(row, owner), postponed("due_at", postpone_to))

    @staticmethod
    def _claimed(row: RenewalRecord, owner: str) -> list[ColumnElement[bool]]:
        return [
            table.c.team_id == row.team_id,
            table.c.slack_user_id == row.slack_user_id,
            table.c.request_id == row.request_id,
            table.c.claim_owner == owner,
            table.c.done_at.is_(None),
        ]

    # Last in the class: below it, `list` in an annotation would name this method.
    async def list(self, team_id: str | None = None, slack_user_id: str | None = None) -> list[RenewalRecord]:
        query = select(table).order_by(table.c.due_at, table.c.request_id)
        if team_id is not None:
            query = query.where(table.c.team_id == team_id)
        if slack_user_id is not None:
            query = query.where(table.c.slack_user_id == slack_user_id)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [as_record(RenewalRecord, row) for row in rows]
