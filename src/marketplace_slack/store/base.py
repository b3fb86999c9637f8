"""What every area of the store stands on: the engine, the writer, ON CONFLICT, and leased claims.

Every state change is one statement whose outcome is decided by the database: an INSERT that does
nothing on a unique-key conflict, or an UPDATE/DELETE whose WHERE states the precondition. So
webhook retries, double clicks, two stewards, restarts and several replicas sharing one PostgreSQL
all end with one winner, and the losers are told so. Time is always an argument: the store has no
clock, and refuses naive datetimes.

A leased claim marks a row as one caller's for a while (`claim_owner`, `claimed_at`); a claim older
than its lease is taken over, since its owner evidently died. `_claim_key` claims the row of one
key, `_claim_due` claims due rows in batches, and `_settle_claim` ends a claim.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, TypeVar

from sqlalchemy import Column, ColumnElement, Row, Table, and_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from marketplace_slack.infra.owners import SEPARATOR, instance_of
from marketplace_slack.store.engine import WRITE

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

# A claim can vanish between our failed INSERT and our look at it (its holder released it); then we
# simply try again. More than a few rounds means something is badly wrong, not bad luck.
_CLAIM_ROUNDS: Final = 5


class Area:
    """One area of the store (cards, links, ...) over the shared engine; reads never take the write lock."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._writer = engine.execution_options(**WRITE)

    @property
    def _postgres(self) -> bool:
        return self._engine.dialect.name == "postgresql"

    def _insert(self, table: Table) -> postgresql.Insert | sqlite.Insert:
        # Both dialects spell ON CONFLICT the same way; only the construct's class differs.
        return postgresql.insert(table) if self._postgres else sqlite.insert(table)

    async def _claim_key(
        self,
        table: Table,
        key: Mapping[str, Any],
        *,
        claim: Mapping[str, Any],
        lapsed: Sequence[ColumnElement[bool]],
        take_over: Mapping[str, Any],
    ) -> tuple[Row[Any], bool] | None:
        """Claim the row of `key`: insert it with `claim`, or take it over with `take_over` where the
        `lapsed` conditions hold. Returns the row and whether this caller won it; None if it kept
        changing hands."""
        at_key = [table.c[name] == value for name, value in key.items()]
        async with self._writer.begin() as conn:
            for _ in range(_CLAIM_ROUNDS):
                row = (
                    await conn.execute(
                        self._insert(table)
                        .values(**key, **claim)
                        .on_conflict_do_nothing(index_elements=[table.c[name] for name in key])
                        .returning(*table.c)
                    )
                ).first()
                if row is not None:
                    return row, True
                row = (
                    await conn.execute(
                        update(table).where(*at_key, *lapsed).values(**take_over).returning(*table.c)
                    )
                ).first()
                if row is not None:
                    return row, True
                row = (await conn.execute(select(table).where(*at_key))).first()
                if row is not None:
                    return row, False
        return None

    async def _claim_due(
        self,
        table: Table,
        keys: tuple[Any, ...],
        due: Any,
        *,
        order_by: Any,
        values: Mapping[str, Any],
        limit: int,
    ) -> list[Row[Any]]:
        """Mark up to `limit` due rows as ours in one statement and return them.

        The condition is checked again on the rows themselves, so a row another transaction just
        claimed is not claimed twice; on PostgreSQL the candidates are locked with SKIP LOCKED so a
        concurrent claimer takes other rows instead of waiting for these.
        """
        # Most ticks find nothing due: a read answers that without taking the (SQLite) write lock.
        async with self._engine.connect() as conn:
            if await conn.scalar(select(keys[0]).where(due).limit(1)) is None:
                return []
        pick = select(*keys).where(due).order_by(order_by).limit(limit)
        if self._postgres:
            pick = pick.with_for_update(skip_locked=True)
        target = keys[0] if len(keys) == 1 else tuple_(*keys)
        stmt = update(table).where(target.in_(pick.scalar_subquery() if len(keys) == 1 else pick), due)
        async with self._writer.begin() as conn:
            return list((await conn.execute(stmt.values(**values).returning(*table.c))).all())

    async def _settle_claim(
        self,
        table: Table,
        claimed: list[ColumnElement[bool]],
        values: dict[str, Any],
        *also: ColumnElement[bool],
    ) -> bool:
        """End the caller's claim on a row (sent, done or given back) with `values`; False when the
        claim was lost meanwhile (taken over after its lease, or the row stopped)."""
        async with self._writer.begin() as conn:
            result = await conn.execute(
                update(table).where(*claimed, *also).values(claim_owner=None, claimed_at=None, **values)
            )
            return result.rowcount > 0


R = TypeVar("R", bound="DataclassInstance")


def as_record(cls: type[R], row: Row[Any]) -> R:
    """A record dataclass from a row with (at least) a column for each of its fields."""
    return cls(**{field.name: row._mapping[field.name] for field in fields(cls)})


def postponed(due_column: str, to: datetime | None) -> dict[str, Any]:
    """What giving a claim back changes besides the claim: the due time, when it moves."""
    if to is None:
        return {}
    check_time(to)
    return {due_column: to}


def check_time(when: datetime) -> None:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("the store takes timezone-aware datetimes only")


def check_lease(lease: timedelta) -> None:
    if lease <= timedelta(0):
        raise ValueError("a lease must be positive")


def earlier_life(column: Column[Any] | ColumnElement[Any], owner: str | None) -> list[ColumnElement[bool]]:
    """The condition "held by an earlier life of `owner`'s instance" on a claim's owner column
    (`infra.owners.earlier_life`, in SQL), as a list to add to the conditions of a take-over: empty
    when `owner` names no instance."""
    if owner is None or SEPARATOR not in owner:
        return []
    return [and_(column.startswith(instance_of(owner) + SEPARATOR, autoescape=True), column != owner)]
