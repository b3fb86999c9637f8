"""Reminders: the approval steps being tracked, and each recipient's reminder schedule for a step.

A step is tracked cheaply whenever a card shows it open and planned later (who to remind needs
Marketplace and Slack look-ups); each recipient's schedule is then claimed when due, for a lease.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update

from marketplace_slack.store.base import Area, as_record, check_lease, check_time, postponed
from marketplace_slack.store.records import NewReminder, ReminderRecord, StepToPlan
from marketplace_slack.store.tables import reminder_steps, reminders


class ReminderSchedules(Area):
    async def track_steps(
        self,
        request_id: str,
        open_steps: Mapping[str, datetime],
        *,
        now: datetime,
        snapshot: str | None = None,
    ) -> None:
        """Make the tracked steps of a request match `open_steps` (record id → when it opened).

        New open steps are added, to be planned at once; tracked steps that are no longer open are
        stopped, and so are their reminders. With `snapshot` (the request as its card shows it), the
        open steps keep it for planning. Cheap and idempotent: it runs whenever a card is shown.
        """
        check_time(now)
        open_ids = list(open_steps)
        if not await self._steps_differ(request_id, open_ids, snapshot):
            return  # nearly every time a card is shown: reads only, no write lock
        async with self._writer.begin() as conn:
            if open_steps:
                await conn.execute(
                    self._insert(reminder_steps)
                    .values(
                        [
                            {
                                "record_id": record_id,
                                "request_id": request_id,
                                "opened_at": opened_at,
                                "plan_at": now,
                                "snapshot": snapshot,
                                "created_at": now,
                                "updated_at": now,
                            }
                            for record_id, opened_at in open_steps.items()
                        ]
                    )
                    .on_conflict_do_nothing(index_elements=[reminder_steps.c.record_id])
                )
            if open_steps and snapshot is not None:
                await conn.execute(
                    update(reminder_steps)
                    .where(
                        reminder_steps.c.request_id == request_id,
                        reminder_steps.c.stopped_at.is_(None),
                        reminder_steps.c.record_id.in_(open_ids),
                        or_(reminder_steps.c.snapshot.is_(None), reminder_steps.c.snapshot != snapshot),
                    )
                    .values(snapshot=snapshot, updated_at=now)
                )
            await conn.execute(
                update(reminder_steps)
                .where(
                    reminder_steps.c.request_id == request_id,
                    reminder_steps.c.stopped_at.is_(None),
                    reminder_steps.c.record_id.not_in(open_ids),
                )
                .values(stopped_at=now, plan_at=None, updated_at=now)
            )
            await conn.execute(
                update(reminders)
                .where(
                    reminders.c.request_id == request_id,
                    reminders.c.next_due_at.is_not(None),
                    reminders.c.record_id.not_in(open_ids),
                )
                .values(next_due_at=None, updated_at=now)
            )

    async def _steps_differ(self, request_id: str, open_ids: list[str], snapshot: str | None) -> bool:
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(
                        reminder_steps.c.record_id, reminder_steps.c.stopped_at, reminder_steps.c.snapshot
                    ).where(reminder_steps.c.request_id == request_id)
                )
            ).all()
            tracked = {row.record_id: row.stopped_at for row in rows}
            stale = snapshot is not None and any(
                row.stopped_at is None and row.record_id in open_ids and row.snapshot != snapshot
                for row in rows
            )
            active = set(
                await conn.scalars(
                    select(reminders.c.record_id)
                    .where(reminders.c.request_id == request_id, reminders.c.next_due_at.is_not(None))
                    .distinct()
                )
            )
        wanted = set(open_ids)
        return (
            stale
            or bool(wanted - tracked.keys())
            or any(stopped is None and record_id not in wanted for record_id, stopped in tracked.items())
            or bool(active - wanted)
        )

    async def claim_steps_to_plan(
        self, *, now: datetime, retry_at: datetime, limit: int = 100
    ) -> list[StepToPlan]:
        """Open steps due for planning, each handed to one caller; until it reports back (or
        `retry_at` passes, if it died), nobody else gets them."""
        check_time(now)
        due = and_(
            reminder_steps.c.plan_at.is_not(None),
            reminder_steps.c.plan_at <= now,
            reminder_steps.c.stopped_at.is_(None),
        )
        rows = await self._claim_due(
            reminder_steps,
            (reminder_steps.c.record_id,),
            due,
            order_by=reminder_steps.c.plan_at,
            values={"plan_at": retry_at, "updated_at": now},
            limit=limit,
        )
        return [StepToPlan(row.record_id, row.request_id, row.opened_at, row.snapshot) for row in rows]

    async def step_planned(self, record_id: str, *, next_plan_at: datetime | None, now: datetime) -> None:
        """When to look for the step's recipients again (None: never)."""
        async with self._writer.begin() as conn:
            await conn.execute(
                update(reminder_steps)
                .where(reminder_steps.c.record_id == record_id, reminder_steps.c.stopped_at.is_(None))
                .values(plan_at=next_plan_at, updated_at=now)
            )

    async def step_stopped(self, record_id: str) -> bool:
        """Whether the step is stopped (or was never tracked)."""
        async with self._engine.connect() as conn:
            stopped = await conn.scalar(
                select(reminder_steps.c.stopped_at.is_not(None)).where(
                    reminder_steps.c.record_id == record_id
                )
            )
        return stopped is None or bool(stopped)

    async def add(self, rows: Iterable[NewReminder], *, now: datetime) -> int:
        """Start schedules for new recipients; existing ones are left as they are. Returns how many."""
        check_time(now)
        values = [
            {
                "record_id": r.record_id,
                "recipient": r.recipient,
                "request_id": r.request_id,
                "recipient_name": r.recipient_name,
                "tz": r.tz,
                "mode": r.mode,
                "sent": 0,
                "next_due_at": r.next_due_at,
                "created_at": now,
                "updated_at": now,
            }
            for r in rows
        ]
        if not values:
            return 0
        async with self._writer.begin() as conn:
            result = await conn.execute(
                self._insert(reminders)
                .values(values)
                .on_conflict_do_nothing(index_elements=[reminders.c.record_id, reminders.c.recipient])
                .returning(reminders.c.record_id)
            )
            return len(result.all())

    async def claim_due(
        self, *, now: datetime, owner: str, lease: timedelta, limit: int = 200
    ) -> list[ReminderRecord]:
        """Reminders due at `now`, each claimed by exactly one caller for `lease`.

        On PostgreSQL the rows are picked with FOR UPDATE SKIP LOCKED, so replicas ticking at
        once split the work instead of queueing; a claim older than `lease` (its owner died) is
        taken over.
        """
        check_time(now)
        check_lease(lease)
        due = and_(
            reminders.c.next_due_at.is_not(None),
            reminders.c.next_due_at <= now,
            or_(reminders.c.claim_owner.is_(None), reminders.c.claimed_at <= now - lease),
        )
        rows = await self._claim_due(
            reminders,
            (reminders.c.record_id, reminders.c.recipient),
            due,
            order_by=reminders.c.next_due_at,
            values={"claim_owner": owner, "claimed_at": now},
            limit=limit,
        )
        return [as_record(ReminderRecord, row) for row in rows]

    async def sent(
        self,
        record_id: str,
        recipient: str,
        *,
        owner: str,
        sent_before: int,
        next_due_at: datetime | None,
        now: datetime,
    ) -> bool:
        """Count a sent reminder and schedule the next (None: no more). False if the claim was lost
        or the schedule stopped meanwhile (then it stays stopped)."""
        check_time(now)
        return await self._settle_claim(
            reminders,
            self._claimed(record_id, recipient, owner),
            {"sent": sent_before + 1, "next_due_at": next_due_at, "last_sent_at": now, "updated_at": now},
            reminders.c.sent == sent_before,
        )

    async def release(
        self, record_id: str, recipient: str, *, owner: str, postpone_to: datetime | None = None
    ) -> bool:
        """Give a claim back (sending failed, or it is not working hours); optionally move the due time."""
        return await self._settle_claim(
            reminders,
            self._claimed(record_id, recipient, owner),
            postponed("next_due_at", postpone_to),
        )

    @staticmethod
    def _claimed(record_id: str, recipient: str, owner: str) -> list[ColumnElement[bool]]:
        return [
            reminders.c.record_id == record_id,
            reminders.c.recipient == recipient,
            reminders.c.claim_owner == owner,
            reminders.c.next_due_at.is_not(None),
        ]

    async def stop_step(self, record_id: str, *, now: datetime) -> int:
        """No more reminders for this step, to anyone (it was escalated)."""
        async with self._writer.begin() as conn:
            result = await conn.execute(
                update(reminders)
                .where(reminders.c.record_id == record_id, reminders.c.next_due_at.is_not(None))
                .values(next_due_at=None, claim_owner=None, claimed_at=None, updated_at=now)
            )
            return result.rowcount

    async def snooze(
        self, record_id: str, recipient: str, *, until: datetime, next_due_at: datetime, now: datetime
    ) -> ReminderRecord | None:
        """Hold one recipient's reminders until `until` (the next at `next_due_at`); None if none active."""
        check_time(until)
        async with self._writer.begin() as conn:
            row = (
                await conn.execute(
                    update(reminders)
                    .where(
                        reminders.c.record_id == record_id,
                        reminders.c.recipient == recipient,
                        reminders.c.next_due_at.is_not(None),
                    )
                    .values(snoozed_until=until, next_due_at=next_due_at, updated_at=now)
                    .returning(*reminders.c)
                )
            ).first()
        return None if row is None else as_record(ReminderRecord, row)

    async def get(self, record_id: str, recipient: str) -> ReminderRecord | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(reminders).where(
                        reminders.c.record_id == record_id, reminders.c.recipient == recipient
                    )
                )
            ).first()
        return None if row is None else as_record(ReminderRecord, row)

    # Last in the class: below it, `list` in an annotation would name this method.
    async def list(
        self, *, request_id: str | None = None, record_id: str | None = None
    ) -> list[ReminderRecord]:
        query = select(reminders).order_by(reminders.c.record_id, reminders.c.recipient)
        if request_id is not None:
            query = query.where(reminders.c.request_id == request_id)
        if record_id is not None:
            query = query.where(reminders.c.record_id == record_id)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [as_record(ReminderRecord, row) for row in rows]
