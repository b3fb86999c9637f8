"""Marks that let only the first caller through: once-marks for actions, and webhook deliveries seen."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy import delete, false, or_

from marketplace_slack.store.base import Area, check_time
from marketplace_slack.store.tables import once_marks, webhook_deliveries


class OnceMarks(Area):
    async def claim(self, key: str, *, now: datetime) -> bool:
        """True for the first caller with this key, ever (until `forget`)."""
        check_time(now)
        async with self._writer.begin() as conn:
            inserted = await conn.execute(
                self._insert(once_marks)
                .values(key=key, claimed_at=now)
                .on_conflict_do_nothing(index_elements=[once_marks.c.key])
                .returning(once_marks.c.key)
            )
            return inserted.first() is not None

    async def forget(self, key: str) -> bool:
        """Undo `claim` after the action failed, so a later attempt can do it."""
        async with self._writer.begin() as conn:
            return (await conn.execute(delete(once_marks).where(once_marks.c.key == key))).rowcount > 0

    @asynccontextmanager
    async def once(self, key: str, *, now: datetime) -> AsyncIterator[bool]:
        """Claim `key` and say whether this caller won it; if the body then raises, forget the mark, so
        the action it guards can be tried again. A body that returns early keeps the mark."""
        won = await self.claim(key, now=now)
        try:
            yield won
        except BaseException:
            if won:
                await self.forget(key)
            raise

    async def prune(self, older_than: datetime, *, prefixes: Iterable[str]) -> int:
        """Forget marks claimed before `older_than` whose keys start with one of `prefixes`."""
        check_time(older_than)
        kinds = [once_marks.c.key.startswith(prefix, autoescape=True) for prefix in prefixes]
        async with self._writer.begin() as conn:
            result = await conn.execute(
                delete(once_marks).where(once_marks.c.claimed_at < older_than, or_(false(), *kinds))
            )
            return result.rowcount


class Deliveries(Area):
    async def mark(self, delivery_id: str, event_type: str, *, now: datetime) -> bool:
        """True the first time a delivery id is seen, False for every retry of it."""
        check_time(now)
        async with self._writer.begin() as conn:
            inserted = await conn.execute(
                self._insert(webhook_deliveries)
                .values(delivery_id=delivery_id, event_type=event_type, received_at=now)
                .on_conflict_do_nothing(index_elements=[webhook_deliveries.c.delivery_id])
                .returning(webhook_deliveries.c.delivery_id)
            )
            return inserted.first() is not None

    async def prune(self, older_than: datetime) -> int:
        check_time(older_than)
        async with self._writer.begin() as conn:
            result = await conn.execute(
                delete(webhook_deliveries).where(webhook_deliveries.c.received_at < older_than)
            )
            return result.rowcount
