"""Channels the app cannot post in, and the request cards waiting for them.

A failure episode is one row per channel, from the first refused post until the channel takes cards
again; each request whose card was refused is a row of its own, so a retry of the channel finds
exactly the requests to show again, without asking the Marketplace about every pending one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Row, and_, delete, exists, func, select, update

from marketplace_slack.store.base import Area, check_lease, check_time
from marketplace_slack.store.records import ChannelFailure
from marketplace_slack.store.tables import card_waits, channel_failures

_CLAIMED_AT_ONCE = 50


def backoff(attempts: int, *, first: timedelta, longest: timedelta) -> timedelta:
    """`first` after the first failure, doubling with each one after it, never more than `longest`."""
    delay: timedelta = first * (2 ** min(max(attempts - 1, 0), 30))
    return delay if delay < longest else longest


class Channels(Area):
    async def failed(
        self,
        channel: str,
        reason: str,
        request_id: str,
        *,
        now: datetime,
        first_delay: timedelta,
        longest_delay: timedelta,
    ) -> ChannelFailure:
        """Record that `request_id`'s card could not go to `channel`: the episode starts or goes on
        (one more attempt, the next one later), and the request waits for the channel."""
        check_time(now)
        check_lease(first_delay)
        insert = self._insert(channel_failures).values(
            channel=channel,
            reason=reason,
            first_failed_at=now,
            last_failed_at=now,
            next_attempt_at=now + first_delay,
            attempts=1,
        )
        upsert = insert.on_conflict_do_update(
            index_elements=[channel_failures.c.channel],
            set_={
                "reason": reason,
                "last_failed_at": now,
                "attempts": channel_failures.c.attempts + 1,
            },
        ).returning(channel_failures.c.attempts)
        wait = self._insert(card_waits).values(request_id=request_id, channel=channel, since=now)
        wait = wait.on_conflict_do_update(
            index_elements=[card_waits.c.request_id], set_={"channel": wait.excluded.channel}
        )
        async with self._writer.begin() as conn:
            attempts = int((await conn.execute(upsert)).scalar_one())
            # In the same transaction, so the row cannot change between counting and scheduling.
            delay = backoff(attempts, first=first_delay, longest=longest_delay)
            await conn.execute(
                update(channel_failures)
                .where(channel_failures.c.channel == channel)
                .values(next_attempt_at=now + delay)
            )
            await conn.execute(wait)
            row = (
                await conn.execute(select(channel_failures).where(channel_failures.c.channel == channel))
            ).one()
        return _failure(row)

    async def tell_owner(self, channel: str, *, now: datetime) -> bool:
        """True for exactly one caller per episode: that caller tells the channel's owner."""
        check_time(now)
        async with self._writer.begin() as conn:
            result = await conn.execute(
                update(channel_failures)
                .where(channel_failures.c.channel == channel, channel_failures.c.owner_told_at.is_(None))
                .values(owner_told_at=now)
            )
            return result.rowcount > 0

    async def untell_owner(self, channel: str) -> None:
        """Telling the owner failed: let the next failure try again."""
        async with self._writer.begin() as conn:
            await conn.execute(
                update(channel_failures)
                .where(channel_failures.c.channel == channel)
                .values(owner_told_at=None)
            )

    async def claim_due(self, now: datetime, *, hold: timedelta) -> list[ChannelFailure]:
        """Channels due for another attempt, each for one caller only: it is not due again for `hold`
        (a failure during the attempt sets the next one by the backoff instead)."""
        check_time(now)
        check_lease(hold)
        rows = await self._claim_due(
            channel_failures,
            (channel_failures.c.channel,),
            channel_failures.c.next_attempt_at <= now,
            order_by=channel_failures.c.next_attempt_at,
            values={"next_attempt_at": now + hold},
            limit=_CLAIMED_AT_ONCE,
        )
        return [_failure(row) for row in rows]

    async def waiting(self, channel: str) -> list[str]:
        """Ids of the requests whose card waits for `channel`, longest waiting first."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(card_waits.c.request_id)
                .where(card_waits.c.channel == channel)
                .order_by(card_waits.c.since, card_waits.c.request_id)
            )
            return [str(r) for r in rows.scalars()]

    async def held(self, *, now: datetime) -> list[str]:
        """Ids of the requests waiting for a channel whose next attempt is not due yet."""
        check_time(now)
        query = (
            select(card_waits.c.request_id)
            .join(channel_failures, channel_failures.c.channel == card_waits.c.channel)
            .where(channel_failures.c.next_attempt_at > now)
        )
        async with self._engine.connect() as conn:
            return [str(r) for r in (await conn.execute(query)).scalars()]

    async def waits(self, request_id: str) -> bool:
        """Whether the request's card is waiting for its channel."""
        async with self._engine.connect() as conn:
            found = await conn.scalar(
                select(card_waits.c.request_id).where(card_waits.c.request_id == request_id)
            )
        return found is not None

    async def done(self, request_id: str) -> bool:
        """The request's card no longer waits (shown, or nothing left to show)."""
        async with self._writer.begin() as conn:
            result = await conn.execute(delete(card_waits).where(card_waits.c.request_id == request_id))
            return result.rowcount > 0

    async def delivered(self, request_id: str, channel: str, *, now: datetime) -> bool:
        """A card just went to `channel`. If the channel was failing, this request waits no more and
        the channel's other waiting requests are due at once. True when the channel was failing."""
        check_time(now)
        async with self._engine.connect() as conn:  # the usual case, no failure, costs a read only
            failing = await conn.scalar(
                select(channel_failures.c.channel).where(channel_failures.c.channel == channel)
            )
        if failing is None:
            return False
        async with self._writer.begin() as conn:
            await conn.execute(delete(card_waits).where(card_waits.c.request_id == request_id))
            await conn.execute(
                update(channel_failures)
                .where(channel_failures.c.channel == channel, channel_failures.c.next_attempt_at > now)
                .values(next_attempt_at=now)
            )
        return True

    async def recovered(self, channel: str) -> bool:
        """End the channel's episode if no card waits for it any more. True when it ended now."""
        nothing_waits = ~exists().where(card_waits.c.channel == channel)
        async with self._writer.begin() as conn:
            result = await conn.execute(
                delete(channel_failures).where(and_(channel_failures.c.channel == channel, nothing_waits))
            )
            return result.rowcount > 0

    async def get(self, channel: str) -> ChannelFailure | None:
        found = await self.failing(channel)
        return found[0] if found else None

    async def failing(self, channel: str | None = None) -> list[ChannelFailure]:
        """Channels failing now, longest failing first, with how many cards wait for each."""
        waiting = (
            select(func.count())
            .select_from(card_waits)
            .where(card_waits.c.channel == channel_failures.c.channel)
            .scalar_subquery()
        )
        query = select(*channel_failures.c, waiting.label("waiting"))
        if channel is not None:
            query = query.where(channel_failures.c.channel == channel)
        async with self._engine.connect() as conn:
            result = await conn.execute(
                query.order_by(channel_failures.c.first_failed_at, channel_failures.c.channel)
            )
            rows = cast("list[Row[Any]]", result.all())  # a labelled count widens the row type
        return [_failure(row) for row in rows]


def _failure(row: Row[Any]) -> ChannelFailure:
    values = dict(row._mapping)
    return ChannelFailure(**{"waiting": 0, **values})  # `waiting` only where the query counts it
