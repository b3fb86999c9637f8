"""The async repository the app uses: one engine, an attribute per area of what it keeps.

`repo.cards`, `repo.links`, `repo.decisions`, `repo.audit`, `repo.reminders`, `repo.expiry`,
`repo.slack_users`, `repo.marks` (once-marks), `repo.deliveries` (webhook deliveries seen),
`repo.channels` (channels the app cannot post in, and the cards waiting for them) and
`repo.cursors` (where reconciliation resumes, and the request versions cards show) each
live in a module of their own on `store/base.py`, which says how every change is made safe to race.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncEngine

from marketplace_slack.infra.vault import TokenVault
from marketplace_slack.store.cards import Cards
from marketplace_slack.store.channels import Channels
from marketplace_slack.store.cursors import Cursors
from marketplace_slack.store.decisions import Audit, Decisions
from marketplace_slack.store.expiry import Expiry
from marketplace_slack.store.links import Links
from marketplace_slack.store.marks import Deliveries, Mark, OnceMarks
from marketplace_slack.store.reminders import ReminderSchedules
from marketplace_slack.store.slack_users import SlackUsers


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

    async def aclose(self) -> None:
        await self._engine.dispose()

    async def __aenter__(self) -> Repository:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
