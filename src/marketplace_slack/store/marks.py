"""Marks that let only the first caller through: once-marks for actions, and webhook deliveries seen.

A once-mark is two-phase where its action can be ambiguous (posting a message): held by an owner
while under way, done once the action is. A hold whose owner died (lease lapsed, or an earlier life of
the same instance) is taken over, and the taker is told so, to look for the message before posting.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import ColumnElement, delete, false, or_, select, update

from marketplace_slack.store.base import Area, check_lease, check_time, earlier_life
from marketplace_slack.store.tables import once_marks, reminder_steps, webhook_deliveries

# The once-mark keys of the messages a card earns (workflow.ports.step_key / dm_key).
STEP_PREFIX: Final = "step:"
DM_PREFIX: Final = "dm:"


class OutcomeUnknown(Exception):
    """Raised by the action a once-mark guards when nobody can tell whether it happened (a message
    that may or may not have been posted): the mark stays held, neither done nor forgotten, so the
    action is not repeated blindly; it is taken over (and looked into first) once its lease lapses."""


@dataclass(frozen=True, slots=True)
class Mark:
    """The outcome of claiming a once-mark. Truthy when this caller won it and should act."""

    won: bool
    # Won from an owner that died mid-action (its lease lapsed, or an earlier life of this
    # instance held it): the action may have happened, so look before doing it again.
    taken_over: bool = False

    def __bool__(self) -> bool:
        return self.won


# A mark not done is the only trace of an action under way: pruning leaves it a day longer than
# the settled marks of its kind, so a slow or crashed owner's action is never repeated blindly.
UNSETTLED_KEPT: Final = timedelta(days=1)


class OnceMarks(Area):
    async def claim(self, key: str, *, now: datetime) -> bool:
        """True for the first caller with this key, ever (until `forget`). The mark is done at once:
        for actions settled in one step, or known to be done already."""
        check_time(now)
        async with self._writer.begin() as conn:
            inserted = await conn.execute(
                self._insert(once_marks)
                .values(key=key, claimed_at=now, done=True)
                .on_conflict_do_nothing(index_elements=[once_marks.c.key])
                .returning(once_marks.c.key)
            )
            return inserted.first() is not None

    async def hold(
        self, key: str, *, now: datetime, owner: str | None = None, lease: timedelta | None = None
    ) -> Mark:
        """Claim `key` for an action under way (not done yet). Won by the first caller, and taken over
        from a holder whose action is not done when its claim is older than `lease` or the holder is
        an earlier life of `owner` (`infra.owners.earlier_life`). Without `lease` a mark not done
        is only ever taken over from an earlier life."""
        check_time(now)
        async with self._writer.begin() as conn:
            inserted = await conn.execute(
                self._insert(once_marks)
                .values(key=key, claimed_at=now, owner=owner, done=False)
                .on_conflict_do_nothing(index_elements=[once_marks.c.key])
                .returning(once_marks.c.key)
            )
            if inserted.first() is not None:
                return Mark(won=True)
            lapsed: list[ColumnElement[bool]] = []
            if lease is not None:
                check_lease(lease)
                lapsed.append(once_marks.c.claimed_at <= now - lease)
            lapsed += earlier_life(once_marks.c.owner, owner)
            if not lapsed:
                return Mark(won=False)
            taken = await conn.execute(
                update(once_marks)
                .where(once_marks.c.key == key, once_marks.c.done == false(), or_(*lapsed))
                .values(owner=owner, claimed_at=now)
                .returning(once_marks.c.key)
            )
            return Mark(won=True, taken_over=True) if taken.first() is not None else Mark(won=False)

    async def exists(self, key: str) -> bool:
        """Whether `key` was ever claimed (and not forgotten)."""
        async with self._engine.connect() as conn:
            found = await conn.execute(select(once_marks.c.key).where(once_marks.c.key == key))
            return found.first() is not None

    async def done(self, key: str) -> bool:
        """The action a held mark guards is done: the mark now only says so."""
        async with self._writer.begin() as conn:
            result = await conn.execute(
                update(once_marks).where(once_marks.c.key == key).values(done=True, owner=None)
            )
            return result.rowcount > 0

    async def forget(self, key: str) -> bool:
        """Undo `claim` after the action failed, so a later attempt can do it."""
        async with self._writer.begin() as conn:
            return (await conn.execute(delete(once_marks).where(once_marks.c.key == key))).rowcount > 0

    async def _give_back(self, key: str, *, owner: str | None, since: datetime) -> None:
        # Only our own hold: a mark taken over meanwhile is its new owner's to settle.
        async with self._writer.begin() as conn:
            await conn.execute(
                delete(once_marks).where(
                    once_marks.c.key == key,
                    once_marks.c.done == false(),
                    once_marks.c.owner.is_not_distinct_from(owner),
                    once_marks.c.claimed_at == since,
                )
            )

    @asynccontextmanager
    async def once(
        self, key: str, *, now: datetime, owner: str | None = None, lease: timedelta | None = None
    ) -> AsyncIterator[Mark]:
        """Hold `key` (see `hold`) and say whether this caller won it. The body acts only if it won
        (`mark.taken_over`: look first). A body that ends, early or not, marks it done; one that
        raises `OutcomeUnknown` leaves it held (a late message, never a doubled one), and so does a
        cancellation when there is a `lease`; any other exception forgets it, so the action can be
        tried again."""
        mark = await self.hold(key, now=now, owner=owner, lease=lease)
        try:
            yield mark
        except OutcomeUnknown:
            raise
        except asyncio.CancelledError:
            # Stopped mid-action (a shutdown): it may have happened. With a lease somebody takes the
            # mark over later and looks first; without one, nobody could, so it is given back.
            if mark.won and lease is None:
                await self._give_back(key, owner=owner, since=now)
            raise
        except BaseException:
            if mark.won:
                await self._give_back(key, owner=owner, since=now)
            raise
        if mark.won:
            await self.done(key)

    async def unsent_requests(self, *, now: datetime, lease: timedelta) -> list[str]:
        """Requests with a thread reply or requester DM whose mark is held past its lease: a message
        whose delivery nobody could confirm (or whose sender died). Showing the request's card again
        takes the mark over and looks before posting. A thread reply's mark names its approval record,
        found in the reminder steps (every step a card ever showed open has one)."""
        check_time(now)
        check_lease(lease)
        async with self._engine.connect() as conn:
            keys = (
                await conn.execute(
                    select(once_marks.c.key).where(
                        once_marks.c.done == false(),
                        once_marks.c.claimed_at <= now - lease,
                        or_(
                            once_marks.c.key.startswith(DM_PREFIX, autoescape=True),
                            once_marks.c.key.startswith(STEP_PREFIX, autoescape=True),
                        ),
                    )
                )
            ).scalars()
            requests: list[str] = []
            records: list[str] = []
            for key in keys:
                kind, _, rest = key.partition(":")
                target = rest.rpartition(":")[0]
                (requests if f"{kind}:" == DM_PREFIX else records).append(target)
            if records:
                found = await conn.execute(
                    select(reminder_steps.c.request_id).where(reminder_steps.c.record_id.in_(records))
                )
                requests.extend(found.scalars())
        return list(dict.fromkeys(requests))

    async def prune(self, older_than: datetime, *, prefixes: Iterable[str]) -> int:
        """Forget marks claimed before `older_than` whose keys start with one of `prefixes`; marks not
        done yet are kept `UNSETTLED_KEPT` longer."""
        check_time(older_than)
        kinds = [once_marks.c.key.startswith(prefix, autoescape=True) for prefix in prefixes]
        settled = or_(once_marks.c.done, once_marks.c.claimed_at < older_than - UNSETTLED_KEPT)
        async with self._writer.begin() as conn:
            result = await conn.execute(
                delete(once_marks).where(once_marks.c.claimed_at < older_than, settled, or_(false(), *kinds))
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
