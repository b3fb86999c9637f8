"""Reconciliation's memory: where the next pass resumes the Marketplace's change listing, and the
version (status, updatedAt) of each request its card last showed.

Two clocks live here and are never compared with each other: `since` and a version's `updated_at`
are the Marketplace's timestamps, `swept_at` and `seen_at` the app's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select

from marketplace_slack.store.base import Area, check_time
from marketplace_slack.store.tables import cards, request_versions, sync_cursors

_BATCH = 500  # ids per IN (...): well inside every backend's limit on bound parameters


@dataclass(frozen=True, slots=True)
class Cursor:
    name: str
    since: datetime | None  # None: no pass has finished, the next one is a full pass
    swept_at: datetime | None


@dataclass(frozen=True, slots=True)
class Known:
    """What the app knows of one request: its posted card's status, and the version last shown."""

    card_status: str | None  # None: no posted card
    status: str | None  # the version last shown; None: none recorded
    updated_at: datetime | None


class Cursors(Area):
    async def get(self, name: str) -> Cursor | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(sync_cursors).where(sync_cursors.c.name == name))).first()
        return None if row is None else Cursor(row.name, row.since, row.swept_at)

    async def advance(self, name: str, since: datetime, *, now: datetime) -> bool:
        """Move the cursor forward to `since`; never back (a slower replica's pass finishing last
        must not make the next pass re-list what a faster one already covered). True if it moved."""
        check_time(since)
        check_time(now)
        insert = self._insert(sync_cursors).values(name=name, since=since, updated_at=now)
        stmt = insert.on_conflict_do_update(
            index_elements=[sync_cursors.c.name],
            set_={"since": insert.excluded.since, "updated_at": insert.excluded.updated_at},
            where=or_(sync_cursors.c.since.is_(None), sync_cursors.c.since < insert.excluded.since),
        ).returning(sync_cursors.c.name)
        async with self._writer.begin() as conn:
            return (await conn.execute(stmt)).first() is not None

    async def claim_sweep(self, name: str, *, now: datetime, every: timedelta) -> bool:
        """True for one caller per `every`: the replica that does this period's slow sweep."""
        check_time(now)
        insert = self._insert(sync_cursors).values(name=name, swept_at=now, updated_at=now)
        stmt = insert.on_conflict_do_update(
            index_elements=[sync_cursors.c.name],
            set_={"swept_at": insert.excluded.swept_at, "updated_at": insert.excluded.updated_at},
            where=or_(sync_cursors.c.swept_at.is_(None), sync_cursors.c.swept_at <= now - every),
        ).returning(sync_cursors.c.name)
        async with self._writer.begin() as conn:
            return (await conn.execute(stmt)).first() is not None

    async def seen(self, request_id: str, status: str, updated_at: datetime, *, now: datetime) -> None:
        """A card has just shown this version of the request."""
        await self.seen_all([(request_id, status, updated_at)], now=now)

    async def seen_all(self, versions: Iterable[tuple[str, str, datetime]], *, now: datetime) -> None:
        """Cards have just shown these versions (request id, status, updatedAt), in one transaction.
        An older version never replaces a newer one (two paths may show the same request at once,
        the slower with older news)."""
        check_time(now)
        rows: list[dict[str, object]] = []
        for request_id, status, updated_at in versions:
            check_time(updated_at)
            rows.append(
                {"request_id": request_id, "status": status, "updated_at": updated_at, "seen_at": now}
            )
        if not rows:
            return
        insert = self._insert(request_versions)
        stmt = insert.on_conflict_do_update(
            index_elements=[request_versions.c.request_id],
            set_={
                "status": insert.excluded.status,
                "updated_at": insert.excluded.updated_at,
                "seen_at": insert.excluded.seen_at,
            },
            where=request_versions.c.updated_at <= insert.excluded.updated_at,
        )
        async with self._writer.begin() as conn:
            await conn.execute(stmt, rows)

    async def known(self, request_ids: Iterable[str]) -> dict[str, Known]:
        """For each id with a posted card or a recorded version, what is known of it (others absent)."""
        ids = list(dict.fromkeys(request_ids))
        card_status: dict[str, str | None] = {}
        versions: dict[str, tuple[str, datetime]] = {}
        async with self._engine.connect() as conn:
            for batch in _batches(ids):
                for row in await conn.execute(
                    select(cards.c.request_id, cards.c.status).where(
                        cards.c.request_id.in_(batch), cards.c.ts.is_not(None)
                    )
                ):
                    card_status[row.request_id] = row.status or ""
                for row in await conn.execute(
                    select(request_versions).where(request_versions.c.request_id.in_(batch))
                ):
                    versions[row.request_id] = (row.status, row.updated_at)
        found: dict[str, Known] = {}
        for request_id in ids:
            if request_id not in card_status and request_id not in versions:
                continue
            status, updated_at = versions.get(request_id, (None, None))
            found[request_id] = Known(card_status.get(request_id), status, updated_at)
        return found

    async def unseen_cards(
        self, statuses: Sequence[str], *, seen_before: datetime, limit: int | None = None
    ) -> list[str]:
        """Posted cards showing one of `statuses` that nothing has shown since `seen_before`, the
        longest unseen first (never seen at all before any): what a slow sweep reads again."""
        check_time(seen_before)
        query = (
            select(cards.c.request_id)
            .select_from(
                cards.outerjoin(request_versions, request_versions.c.request_id == cards.c.request_id)
            )
            .where(
                and_(cards.c.ts.is_not(None), cards.c.status.in_(list(statuses))),
                or_(request_versions.c.seen_at.is_(None), request_versions.c.seen_at < seen_before),
            )
            .order_by(
                request_versions.c.seen_at.is_not(None),  # false (never seen) sorts first everywhere
                request_versions.c.seen_at,
                cards.c.created_at,
                cards.c.request_id,
            )
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            return list((await conn.scalars(query)).all())


def _batches(ids: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(ids), _BATCH):
        yield ids[start : start + _BATCH]
