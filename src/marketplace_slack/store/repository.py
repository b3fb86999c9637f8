"""The async repository the app uses: one engine, an attribute per area of what it keeps.

`repo.cards`, `repo.links`, `repo.decisions`, `repo.audit`, `repo.reminders`, `repo.expiry`, `repo.renewals`,
`repo.slack_users`, `repo.marks` (once-marks), `repo.deliveries` (webhook deliveries seen),
`repo.channels` (channels the app cannot post in, and the cards waiting for them) and
`repo.cursors` (where reconciliation resumes, and the request versions cards show) each
live in a module of their own on `store/base.py`, which says how every change is made safe to race.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Final

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from marketplace_slack.infra.vault import TokenVault
from marketplace_slack.store.cards import Cards
from marketplace_slack.store.channels import Channels
from marketplace_slack.store.cursors import Cursors
from marketplace_slack.store.decisions import Audit, Decisions
from marketplace_slack.store.engine import WRITE
from marketplace_slack.store.expiry import Expiry
from marketplace_slack.store.links import Links
from marketplace_slack.store.marks import Deliveries, Mark, OnceMarks
from marketplace_slack.store.reminders import ReminderSchedules
from marketplace_slack.store.renewals import Renewals
from marketplace_slack.store.slack_users import SlackUsers
from marketplace_slack.store.tables import cards, decision_claims, once_marks

# Older than any lease: a claim given back is taken over at once, as a dead owner's is.
_LAPSED: Final = datetime(1970, 1, 1, tzinfo=UTC)


class Repository:
    """Everything the app keeps, over an engine whose schema is at head; build it with `open_store`."""

    def __init__(self, engine: AsyncEngine, vault: TokenVault) -> None:
        if engine.dialect.name not in ("postgresql", "sqlite"):
            raise ValueError(f"unsupported dialect {engine.dialect.name!r}")
        self._engine = engine
        self.cards = Cards(engine)
        self.links = Links(engine, vault)
        self.decisions = Decisions(engine)
        self.audit = Audit(engine)
        self.reminders = ReminderSchedules(engine)
        self.expiry = Expiry(engine)
        self.renewals = Renewals(engine)
        self.slack_users = SlackUsers(engine)
        self.marks = OnceMarks(engine)
        self.deliveries = Deliveries(engine)
        self.channels = Channels(engine)
        self.cursors = Cursors(engine)

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    def once(
        self, key: str, *, now: datetime, owner: str | None = None, lease: timedelta | None = None
    ) -> AbstractAsyncContextManager[Mark]:
        """`async with repo.once(key, now=now) as won:` claims the once-mark `key`; the body does the
        action only if `won`, and a body that raises forgets the mark, so a later attempt can do it
        (except `OutcomeUnknown`: held until its lease lapses; `won.taken_over`: look first).
        See `OnceMarks.once`."""
        return self.marks.once(key, now=now, owner=owner, lease=lease)

    async def give_back(self, owner: str) -> int:
        """End the lease of every claim `owner` holds on work it did not finish, so the next process
        (another replica, or this one restarted) takes the work up at once instead of waiting out the
        lease. Called when a process stops. Returns how many claims it gave back.

        The claims are not deleted but made as old as a claim can be: the work may have been done
        (a post cancelled in flight, its answer lost), so whoever takes a claim up next takes it over
        the way it takes over a dead owner's, and looks before doing the work again: the card and the
        message in the channel's history, the decision in the approval record.
        """
        lapsed = {"claimed_at": _LAPSED}
        async with self._engine.execution_options(**WRITE).begin() as conn:
            given = 0
            for statement in (
                update(cards).where(
                    cards.c.claim_owner == owner, cards.c.ts.is_(None), cards.c.claimed_at > _LAPSED
                ),
                update(once_marks).where(
                    once_marks.c.owner == owner,
                    once_marks.c.done.is_(False),
                    once_marks.c.claimed_at > _LAPSED,
                ),
                update(decision_claims).where(
                    decision_claims.c.owner == owner,
                    decision_claims.c.outcome.is_(None),
                    decision_claims.c.claimed_at > _LAPSED,
                ),
            ):
                given += (await conn.execute(statement.values(**lapsed))).rowcount
        return given

    async def aclose(self) -> None:
        await self._engine.dispose()

    async def __aenter__(self) -> Repository:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
