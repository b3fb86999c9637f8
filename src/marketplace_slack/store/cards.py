"""Request cards: who may post one, where it was posted, what it shows, and its digest line."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import and_, delete, func, or_, select, update

from marketplace_slack.store.base import Area, as_record, check_lease, check_time, earlier_life
from marketplace_slack.store.records import CardRecord
from marketplace_slack.store.tables import cards

_CLAIM_ROUNDS: Final = 5  # as in base.py: a claim released between our statements is tried again


@dataclass(frozen=True, slots=True)
class CardClaim:
    """The outcome of `Cards.claim`: truthy when this caller may post the card."""

    won: bool
    taken_over: bool = False  # from an owner that died: its card may be posted already

    def __bool__(self) -> bool:
        return self.won


class Cards(Area):
    async def claim(
        self,
        request_id: str,
        channel: str,
        *,
        owner: str,
        now: datetime,
        lease: timedelta,
        team_id: str | None = None,
    ) -> CardClaim:
        """Reserve the right to post this request's card. Truthy for exactly one caller.

        Falsy when the card is posted, or claimed less than `lease` ago by anyone, `owner` included
        (a claim is not re-entrant: the same process must not post twice either). A claim older
        than that without a posted message is taken over, since its owner evidently died, and so is
        at once a claim held by an earlier life of this instance (`infra.owners`); then the result
        says `taken_over`: the card may be posted already, so look before posting it.
        """
        check_time(now)
        check_lease(lease)
        at_key = cards.c.request_id == request_id
        dead = [cards.c.claimed_at <= now - lease]
        dead += earlier_life(cards.c.claim_owner, owner)
        take_over = {
            "claim_owner": owner,
            "claimed_at": now,
            "channel": channel,
            "team_id": func.coalesce(team_id, cards.c.team_id),
            "updated_at": now,
        }
        async with self._writer.begin() as conn:
            for _ in range(_CLAIM_ROUNDS):
                inserted = await conn.execute(
                    self._insert(cards)
                    .values(
                        request_id=request_id,
                        team_id=team_id,
                        channel=channel,
                        claim_owner=owner,
                        claimed_at=now,
                        created_at=now,
                        updated_at=now,
                    )
                    .on_conflict_do_nothing(index_elements=[cards.c.request_id])
                    .returning(cards.c.request_id)
                )
                if inserted.first() is not None:
                    return CardClaim(won=True)
                # A claim whose owner died: its card may be in the channel already.
                taken = await conn.execute(
                    update(cards)
                    .where(at_key, cards.c.ts.is_(None), cards.c.claimed_at.is_not(None), or_(*dead))
                    .values(**take_over)
                    .returning(cards.c.request_id)
                )
                if taken.first() is not None:
                    return CardClaim(won=True, taken_over=True)
                # A row without a claim or a card (kept for its summary): nobody was posting.
                free = await conn.execute(
                    update(cards)
                    .where(at_key, cards.c.ts.is_(None), cards.c.claimed_at.is_(None))
                    .values(**take_over)
                    .returning(cards.c.request_id)
                )
                if free.first() is not None:
                    return CardClaim(won=True)
                if (await conn.execute(select(cards.c.request_id).where(at_key))).first() is not None:
                    return CardClaim(won=False)
        return CardClaim(won=False)

    async def release(self, request_id: str, owner: str) -> bool:
        """Give up a claim after posting failed, so the next attempt need not wait out the lease."""
        async with self._writer.begin() as conn:
            result = await conn.execute(
                delete(cards).where(
                    cards.c.request_id == request_id, cards.c.claim_owner == owner, cards.c.ts.is_(None)
                )
            )
            return result.rowcount > 0

    async def posted(
        self,
        request_id: str,
        channel: str,
        ts: str,
        *,
        fingerprint: str,
        status: str,
        now: datetime,
        team_id: str | None = None,
    ) -> bool:
        """Record the posted message. Repeating it for the same message is harmless.

        False means a different message is already recorded for this request (a claimer that
        outlived its lease posted too): the caller should delete the message it just posted.
        """
        check_time(now)
        insert = self._insert(cards).values(
            request_id=request_id,
            team_id=team_id,
            channel=channel,
            ts=ts,
            fingerprint=fingerprint,
            status=status,
            posted_at=now,
            created_at=now,
            updated_at=now,
        )
        stmt = insert.on_conflict_do_update(
            index_elements=[cards.c.request_id],
            set_={
                "channel": insert.excluded.channel,
                "ts": insert.excluded.ts,
                "team_id": func.coalesce(insert.excluded.team_id, cards.c.team_id),
                "fingerprint": insert.excluded.fingerprint,
                "status": insert.excluded.status,
                "posted_at": insert.excluded.posted_at,
                "updated_at": insert.excluded.updated_at,
            },
            where=or_(cards.c.ts.is_(None), and_(cards.c.channel == channel, cards.c.ts == ts)),
        ).returning(cards.c.request_id)
        async with self._writer.begin() as conn:
            return (await conn.execute(stmt)).first() is not None

    async def update_render(self, request_id: str, *, fingerprint: str, status: str, now: datetime) -> bool:
        """Remember what the posted card now shows. False if no posted card is recorded."""
        check_time(now)
        async with self._writer.begin() as conn:
            result = await conn.execute(
                update(cards)
                .where(cards.c.request_id == request_id, cards.c.ts.is_not(None))
                .values(fingerprint=fingerprint, status=status, updated_at=now)
            )
            return result.rowcount > 0

    async def moved(
        self,
        request_id: str,
        *,
        old: tuple[str, str],
        new: tuple[str, str],
        fingerprint: str,
        status: str,
        now: datetime,
    ) -> bool:
        """The card at `old` (channel, ts) could not be updated and was posted again at `new`.

        False when the card is no longer recorded at `old` (another worker moved it first): the
        caller should delete the message it just posted.
        """
        check_time(now)
        async with self._writer.begin() as conn:
            result = await conn.execute(
                update(cards)
                .where(cards.c.request_id == request_id, cards.c.channel == old[0], cards.c.ts == old[1])
                .values(
                    channel=new[0],
                    ts=new[1],
                    fingerprint=fingerprint,
                    status=status,
                    posted_at=now,
                    updated_at=now,
                )
            )
            return result.rowcount > 0

    async def set_summary(self, request_id: str, summary: str) -> bool:
        """Remember what a digest lists about the request. False if there is no card row, or no change."""
        async with self._engine.connect() as conn:
            current = await conn.scalar(select(cards.c.summary).where(cards.c.request_id == request_id))
        if current == summary:
            return False  # the usual case: a card shown again without a change that a digest shows
        async with self._writer.begin() as conn:
            result = await conn.execute(
                update(cards)
                .where(
                    cards.c.request_id == request_id,
                    or_(cards.c.summary.is_(None), cards.c.summary != summary),
                )
                .values(summary=summary)
            )
            return result.rowcount > 0

    async def get(self, request_id: str) -> CardRecord | None:
        """The card or the pending claim for a request (`record.posted` tells which)."""
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(cards).where(cards.c.request_id == request_id))).first()
        return None if row is None else as_record(CardRecord, row)

    async def find_by_message(self, channel: str, ts: str) -> CardRecord | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(select(cards).where(cards.c.channel == channel, cards.c.ts == ts))
            ).first()
        return None if row is None else as_record(CardRecord, row)

    async def request_ids(self, *, statuses: Iterable[str]) -> list[str]:
        """The requests of the posted cards last showing one of `statuses`, oldest card first: what a
        reconciliation pass needs of every card, without loading 10,000 records to get it."""
        query = (
            select(cards.c.request_id)
            .where(cards.c.ts.is_not(None), cards.c.status.in_([str(s) for s in statuses]))
            .order_by(cards.c.created_at, cards.c.request_id)
        )
        async with self._engine.connect() as conn:
            return list((await conn.scalars(query)).all())

    # Last in the class: below it, `list` in an annotation would name this method.
    async def list(self, *, statuses: Iterable[str] | None = None) -> list[CardRecord]:
        """Posted cards, oldest first, optionally only those last showing one of `statuses`."""
        query = select(cards).where(cards.c.ts.is_not(None))
        if statuses is not None:
            query = query.where(cards.c.status.in_([str(s) for s in statuses]))
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query.order_by(cards.c.created_at, cards.c.request_id))).all()
        return [as_record(CardRecord, row) for row in rows]
