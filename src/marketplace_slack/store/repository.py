"""The async repository the workflow uses.

Every state change is one statement whose outcome is decided by the database: an INSERT that does
nothing on a unique-key conflict, or an UPDATE/DELETE whose WHERE states the precondition. So
webhook retries, double clicks, two stewards, restarts and several replicas sharing one PostgreSQL
all end with one winner, and the losers are told so. Time is always an argument.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import fields
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Final

from pydantic import SecretStr
from sqlalchemy import ColumnElement, Row, Table, and_, delete, func, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from marketplace_slack.domain import DurationUnit, Verdict
from marketplace_slack.infra.vault import TokenVault, VaultError
from marketplace_slack.store.engine import WRITE
from marketplace_slack.store.records import (
    OUTCOME_OK,
    AuditRecord,
    CachedSlackUser,
    CardRecord,
    ClaimStatus,
    DecisionClaim,
    ExpiryRecord,
    LinkedAccount,
    NewReminder,
    ReminderRecord,
    StepToPlan,
)
from marketplace_slack.store.tables import (
    audit_log,
    cards,
    decision_claims,
    expiry_notices,
    linked_accounts,
    once_marks,
    reminder_steps,
    reminders,
    slack_users,
    webhook_deliveries,
)

# A claim can vanish between our failed INSERT and our look at it (its holder released it); then we
# simply try again. More than a few rounds means something is badly wrong, not bad luck.
_CLAIM_ROUNDS: Final = 5


class Repository:
    """Everything the app keeps, over an engine whose schema is at head; build it with `open_store`."""

    def __init__(self, engine: AsyncEngine, vault: TokenVault) -> None:
        self._engine = engine
        self._writer = engine.execution_options(**WRITE)
        self._vault = vault
        if engine.dialect.name not in ("postgresql", "sqlite"):
            raise ValueError(f"unsupported dialect {engine.dialect.name!r}")

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    async def aclose(self) -> None:
        await self._engine.dispose()

    async def __aenter__(self) -> Repository:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def _insert(self, table: Table) -> postgresql.Insert | sqlite.Insert:
        # Both dialects spell ON CONFLICT the same way; only the construct's class differs.
        return postgresql.insert(table) if self.dialect == "postgresql" else sqlite.insert(table)

    # --- cards -----------------------------------------------------------------------------------

    async def claim_card(
        self,
        request_id: str,
        channel: str,
        *,
        owner: str,
        now: datetime,
        lease: timedelta,
        team_id: str | None = None,
    ) -> bool:
        """Reserve the right to post this request's card. True for exactly one caller.

        False when the card is posted, or claimed less than `lease` ago by anyone, `owner` included
        (a claim is not re-entrant: the same process must not post twice either). A claim older
        than that without a posted message is taken over, since its owner evidently died.
        """
        _check_time(now)
        _check_lease(lease)
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
                    return True
                taken = await conn.execute(
                    update(cards)
                    .where(
                        cards.c.request_id == request_id,
                        cards.c.ts.is_(None),
                        or_(cards.c.claimed_at.is_(None), cards.c.claimed_at <= now - lease),
                    )
                    .values(
                        claim_owner=owner,
                        claimed_at=now,
                        channel=channel,
                        team_id=func.coalesce(team_id, cards.c.team_id),
                        updated_at=now,
                    )
                    .returning(cards.c.request_id)
                )
                if taken.first() is not None:
                    return True
                held = await conn.scalar(select(cards.c.request_id).where(cards.c.request_id == request_id))
                if held is not None:
                    return False
        return False

    async def release_card_claim(self, request_id: str, owner: str) -> bool:
        """Give up a claim after posting failed, so the next attempt need not wait out the lease."""
        async with self._writer.begin() as conn:
            result = await conn.execute(
                delete(cards).where(
                    cards.c.request_id == request_id, cards.c.claim_owner == owner, cards.c.ts.is_(None)
                )
            )
            return result.rowcount > 0

    async def card_posted(
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
        _check_time(now)
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

    async def update_card_render(
        self, request_id: str, *, fingerprint: str, status: str, now: datetime
    ) -> bool:
        """Remember what the posted card now shows. False if no posted card is recorded."""
        _check_time(now)
        async with self._writer.begin() as conn:
            result = await conn.execute(
                update(cards)
                .where(cards.c.request_id == request_id, cards.c.ts.is_not(None))
                .values(fingerprint=fingerprint, status=status, updated_at=now)
            )
            return result.rowcount > 0

    async def get_card(self, request_id: str) -> CardRecord | None:
        """The card or the pending claim for a request (`record.posted` tells which)."""
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(cards).where(cards.c.request_id == request_id))).first()
        return None if row is None else _card(row)

    async def find_card_by_message(self, channel: str, ts: str) -> CardRecord | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(select(cards).where(cards.c.channel == channel, cards.c.ts == ts))
            ).first()
        return None if row is None else _card(row)

    async def list_cards(self, *, statuses: Iterable[str] | None = None) -> list[CardRecord]:
        """Posted cards, oldest first, optionally only those last showing one of `statuses`."""
        query = select(cards).where(cards.c.ts.is_not(None))
        if statuses is not None:
            query = query.where(cards.c.status.in_([str(s) for s in statuses]))
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query.order_by(cards.c.created_at, cards.c.request_id))).all()
        return [_card(row) for row in rows]

    # --- webhook deliveries ----------------------------------------------------------------------

    async def mark_delivery(self, delivery_id: str, event_type: str, *, now: datetime) -> bool:
        """True the first time a delivery id is seen, False for every retry of it."""
        _check_time(now)
        async with self._writer.begin() as conn:
            inserted = await conn.execute(
                self._insert(webhook_deliveries)
                .values(delivery_id=delivery_id, event_type=event_type, received_at=now)
                .on_conflict_do_nothing(index_elements=[webhook_deliveries.c.delivery_id])
                .returning(webhook_deliveries.c.delivery_id)
            )
            return inserted.first() is not None

    async def prune_deliveries(self, older_than: datetime) -> int:
        _check_time(older_than)
        async with self._writer.begin() as conn:
            result = await conn.execute(
                delete(webhook_deliveries).where(webhook_deliveries.c.received_at < older_than)
            )
            return result.rowcount

    # --- once-marks ------------------------------------------------------------------------------

    async def claim_once(self, key: str, *, now: datetime) -> bool:
        """True for the first caller with this key, ever (until `forget_once`)."""
        _check_time(now)
        async with self._writer.begin() as conn:
            inserted = await conn.execute(
                self._insert(once_marks)
                .values(key=key, claimed_at=now)
                .on_conflict_do_nothing(index_elements=[once_marks.c.key])
                .returning(once_marks.c.key)
            )
            return inserted.first() is not None

    async def forget_once(self, key: str) -> bool:
        """Undo `claim_once` after the action failed, so a later attempt can do it."""
        async with self._writer.begin() as conn:
            return (await conn.execute(delete(once_marks).where(once_marks.c.key == key))).rowcount > 0

    # --- linked accounts -------------------------------------------------------------------------

    async def save_link(
        self,
        team_id: str,
        user_id: str,
        *,
        marketplace_user_id: str,
        marketplace_username: str,
        email: str | None,
        token: SecretStr,
        now: datetime,
    ) -> LinkedAccount:
        """Link (or re-link) a Slack user to a Marketplace user; the token is stored encrypted."""
        _check_time(now)
        insert = self._insert(linked_accounts).values(
            team_id=team_id,
            slack_user_id=user_id,
            marketplace_user_id=marketplace_user_id,
            marketplace_username=marketplace_username,
            email=email,
            token_ciphertext=self._vault.encrypt(token),
            linked_at=now,
            updated_at=now,
        )
        stmt = insert.on_conflict_do_update(
            index_elements=[linked_accounts.c.team_id, linked_accounts.c.slack_user_id],
            set_={
                name: insert.excluded[name]
                for name in (
                    "marketplace_user_id",
                    "marketplace_username",
                    "email",
                    "token_ciphertext",
                    "updated_at",
                )
            },
        ).returning(linked_accounts.c.linked_at, linked_accounts.c.updated_at)
        async with self._writer.begin() as conn:
            row = (await conn.execute(stmt)).one()
        return LinkedAccount(
            team_id=team_id,
            slack_user_id=user_id,
            marketplace_user_id=marketplace_user_id,
            marketplace_username=marketplace_username,
            email=email,
            token=token,
            linked_at=row.linked_at,
            updated_at=row.updated_at,
        )

    async def get_link(self, team_id: str, user_id: str) -> LinkedAccount | None:
        """The link with its token decrypted; raises VaultError if no configured key opens it."""
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(linked_accounts).where(
                        linked_accounts.c.team_id == team_id, linked_accounts.c.slack_user_id == user_id
                    )
                )
            ).first()
        return None if row is None else self._link(row)

    async def find_link_by_marketplace_user(
        self, marketplace_user_id: str, *, team_id: str | None = None
    ) -> LinkedAccount | None:
        """The most recently updated link to that Marketplace user (in `team_id`, if given)."""
        query = select(linked_accounts).where(linked_accounts.c.marketplace_user_id == marketplace_user_id)
        if team_id is not None:
            query = query.where(linked_accounts.c.team_id == team_id)
        query = query.order_by(linked_accounts.c.updated_at.desc()).limit(1)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else self._link(row)

    async def delete_link(self, team_id: str, user_id: str) -> bool:
        async with self._writer.begin() as conn:
            result = await conn.execute(
                delete(linked_accounts).where(
                    linked_accounts.c.team_id == team_id, linked_accounts.c.slack_user_id == user_id
                )
            )
            return result.rowcount > 0

    async def delete_team_links(self, team_id: str) -> int:
        """Forget every linked account of a workspace (the app was uninstalled); returns how many."""
        async with self._writer.begin() as conn:
            result = await conn.execute(delete(linked_accounts).where(linked_accounts.c.team_id == team_id))
            return int(result.rowcount or 0)

    async def rotate_tokens(self, vault: TokenVault | None = None) -> int:
        """Re-encrypt every stored token under the vault's newest key; returns how many.

        Run it after putting a new key first (keeping the old ones); afterwards the old keys can
        go. Raises VaultError, changing nothing, if some token opens with none of the keys.
        """
        vault = vault or self._vault
        key = (linked_accounts.c.team_id, linked_accounts.c.slack_user_id)
        async with self._writer.begin() as conn:
            rows = (await conn.execute(select(*key, linked_accounts.c.token_ciphertext))).all()
            rotated = 0
            for row in rows:
                result = await conn.execute(
                    update(linked_accounts)
                    .where(
                        key[0] == row.team_id,
                        key[1] == row.slack_user_id,
                        # A concurrent re-link already wrote a fresh ciphertext: keep it.
                        linked_accounts.c.token_ciphertext == row.token_ciphertext,
                    )
                    .values(token_ciphertext=vault.rotate(row.token_ciphertext))
                )
                rotated += result.rowcount
            return rotated

    def _link(self, row: Row[Any]) -> LinkedAccount:
        return LinkedAccount(
            team_id=row.team_id,
            slack_user_id=row.slack_user_id,
            marketplace_user_id=row.marketplace_user_id,
            marketplace_username=row.marketplace_username,
            email=row.email,
            token=self._vault.decrypt(row.token_ciphertext),
            linked_at=row.linked_at,
            updated_at=row.updated_at,
        )

    # --- decision claims -------------------------------------------------------------------------

    async def claim_decision(
        self,
        record_id: str,
        *,
        request_id: str,
        slack_user_id: str,
        verdict: Verdict | str,
        now: datetime,
        lease: timedelta,
    ) -> DecisionClaim:
        """Reserve the right to send the determination for one approval record.

        Won by exactly one caller. Everyone else, including the same steward clicking twice, gets
        HELD with the holder and since when; a finished claim stays held for good. An unfinished
        claim older than `lease` is taken over (its owner died mid-decision).
        """
        _check_time(now)
        _check_lease(lease)
        claim = {
            "request_id": request_id,
            "slack_user_id": slack_user_id,
            "verdict": Verdict(verdict).value,
            "claimed_at": now,
        }
        async with self._writer.begin() as conn:
            for _ in range(_CLAIM_ROUNDS):
                row = (
                    await conn.execute(
                        self._insert(decision_claims)
                        .values(record_id=record_id, **claim)
                        .on_conflict_do_nothing(index_elements=[decision_claims.c.record_id])
                        .returning(*decision_claims.c)
                    )
                ).first()
                if row is not None:
                    return _decision(row, ClaimStatus.WON)
                row = (
                    await conn.execute(
                        update(decision_claims)
                        .where(
                            decision_claims.c.record_id == record_id,
                            decision_claims.c.outcome.is_(None),
                            decision_claims.c.claimed_at <= now - lease,
                        )
                        .values(**claim)
                        .returning(*decision_claims.c)
                    )
                ).first()
                if row is not None:
                    return _decision(row, ClaimStatus.WON)
                row = (
                    await conn.execute(
                        select(decision_claims).where(decision_claims.c.record_id == record_id)
                    )
                ).first()
                if row is not None:
                    return _decision(row, ClaimStatus.HELD)
        raise RuntimeError(f"decision claim on record {record_id} kept changing hands; try again")

    async def finish_decision(self, record_id: str, *, outcome: str) -> bool:
        """Mark the determination sent; the claim then stays held so nobody sends another."""
        async with self._writer.begin() as conn:
            result = await conn.execute(
                update(decision_claims)
                .where(decision_claims.c.record_id == record_id, decision_claims.c.outcome.is_(None))
                .values(outcome=outcome)
            )
            return result.rowcount > 0

    async def release_decision(self, record_id: str, slack_user_id: str) -> bool:
        """Drop an unfinished claim after a failure, so the steward (or another) can retry now."""
        async with self._writer.begin() as conn:
            result = await conn.execute(
                delete(decision_claims).where(
                    decision_claims.c.record_id == record_id,
                    decision_claims.c.slack_user_id == slack_user_id,
                    decision_claims.c.outcome.is_(None),
                )
            )
            return result.rowcount > 0

    # --- audit log -------------------------------------------------------------------------------

    async def append_audit(
        self,
        *,
        at: datetime,
        request_id: str,
        record_id: str,
        slack_user_id: str,
        verdict: Verdict | str,
        marketplace_user_id: str | None = None,
        team_id: str | None = None,
        duration: int | None = None,
        duration_unit: DurationUnit | str | None = None,
        reason: str | None = None,
        outcome: str = OUTCOME_OK,
        error: str | None = None,
    ) -> AuditRecord:
        """Record a decision taken in Slack: `outcome` is "ok" or an error code, `error` its message."""
        _check_time(at)
        if (duration is None) != (duration_unit is None):
            raise ValueError("a duration needs both an amount and a unit")
        values: dict[str, Any] = {
            "at": at,
            "request_id": request_id,
            "record_id": record_id,
            "team_id": team_id,
            "slack_user_id": slack_user_id,
            "marketplace_user_id": marketplace_user_id,
            "verdict": Verdict(verdict).value,
            "duration": duration,
            "duration_unit": None if duration_unit is None else DurationUnit(duration_unit).value,
            "reason": reason,
            "outcome": outcome,
            "error": error,
        }
        async with self._writer.begin() as conn:
            row = (await conn.execute(audit_log.insert().values(values).returning(*audit_log.c))).one()
        return _audit(row)

    async def list_audit(self, request_id: str | None = None) -> list[AuditRecord]:
        """Oldest first."""
        query = select(audit_log).order_by(audit_log.c.at, audit_log.c.id)
        if request_id is not None:
            query = query.where(audit_log.c.request_id == request_id)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [_audit(row) for row in rows]

    # --- Slack user cache ------------------------------------------------------------------------

    async def cache_slack_user(
        self,
        email: str,
        *,
        slack_user_id: str | None,
        display_name: str | None = None,
        tz: str | None = None,
        now: datetime,
    ) -> None:
        """Remember a lookup by email; `slack_user_id=None` remembers that nobody has that email."""
        _check_time(now)
        values = {"slack_user_id": slack_user_id, "display_name": display_name, "tz": tz, "fetched_at": now}
        stmt = (
            self._insert(slack_users)
            .values(email=_email(email), **values)
            .on_conflict_do_update(index_elements=[slack_users.c.email], set_=values)
        )
        async with self._writer.begin() as conn:
            await conn.execute(stmt)

    async def get_cached_slack_user(
        self, email: str, *, now: datetime, ttl: timedelta
    ) -> CachedSlackUser | None:
        """The cached lookup if fetched less than `ttl` before `now`, found or not; else None."""
        _check_time(now)
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(slack_users).where(
                        slack_users.c.email == _email(email), slack_users.c.fetched_at > now - ttl
                    )
                )
            ).first()
        if row is None:
            return None
        return CachedSlackUser(
            email=row.email,
            slack_user_id=row.slack_user_id,
            display_name=row.display_name,
            tz=row.tz,
            fetched_at=row.fetched_at,
        )

    async def prune_slack_users(self, older_than: datetime) -> int:
        _check_time(older_than)
        async with self._writer.begin() as conn:
            result = await conn.execute(delete(slack_users).where(slack_users.c.fetched_at < older_than))
            return result.rowcount

    # --- card summaries (digests) -----------------------------------------------------------------

    async def set_card_summary(self, request_id: str, summary: str) -> bool:
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

    # --- reminders -------------------------------------------------------------------------------

    async def track_steps(
        self, request_id: str, open_steps: Mapping[str, datetime], *, now: datetime
    ) -> None:
        """Make the tracked steps of a request match `open_steps` (record id → when it opened).

        New open steps are added, to be planned at once; tracked steps that are no longer open are
        stopped, and so are their reminders. Cheap and idempotent: it runs whenever a card is shown.
        """
        _check_time(now)
        open_ids = list(open_steps)
        if not await self._steps_differ(request_id, open_ids):
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
                                "created_at": now,
                                "updated_at": now,
                            }
                            for record_id, opened_at in open_steps.items()
                        ]
                    )
                    .on_conflict_do_nothing(index_elements=[reminder_steps.c.record_id])
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

    async def _steps_differ(self, request_id: str, open_ids: list[str]) -> bool:
        async with self._engine.connect() as conn:
            tracked = {
                row.record_id: row.stopped_at
                for row in await conn.execute(
                    select(reminder_steps.c.record_id, reminder_steps.c.stopped_at).where(
                        reminder_steps.c.request_id == request_id
                    )
                )
            }
            active = set(
                await conn.scalars(
                    select(reminders.c.record_id)
                    .where(reminders.c.request_id == request_id, reminders.c.next_due_at.is_not(None))
                    .distinct()
                )
            )
        wanted = set(open_ids)
        return (
            bool(wanted - tracked.keys())
            or any(stopped is None and record_id not in wanted for record_id, stopped in tracked.items())
            or bool(active - wanted)
        )

    async def claim_steps_to_plan(
        self, *, now: datetime, retry_at: datetime, limit: int = 100
    ) -> list[StepToPlan]:
        """Open steps due for planning, each handed to one caller; until it reports back (or
        `retry_at` passes, if it died), nobody else gets them."""
        _check_time(now)
        due = and_(
            reminder_steps.c.plan_at.is_not(None),
            reminder_steps.c.plan_at <= now,
            reminder_steps.c.stopped_at.is_(None),
        )
        rows = await self._claim(
            reminder_steps,
            (reminder_steps.c.record_id,),
            due,
            order_by=reminder_steps.c.plan_at,
            values={"plan_at": retry_at, "updated_at": now},
            limit=limit,
        )
        return [StepToPlan(row.record_id, row.request_id, row.opened_at) for row in rows]

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

    async def add_reminders(self, rows: Iterable[NewReminder], *, now: datetime) -> int:
        """Start schedules for new recipients; existing ones are left as they are. Returns how many."""
        _check_time(now)
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

    async def claim_due_reminders(
        self, *, now: datetime, owner: str, lease: timedelta, limit: int = 200
    ) -> list[ReminderRecord]:
        """Reminders due at `now`, each claimed by exactly one caller for `lease`.

        On PostgreSQL the rows are picked with FOR UPDATE SKIP LOCKED, so replicas ticking at
        once split the work instead of queueing; a claim older than `lease` (its owner died) is
        taken over.
        """
        _check_time(now)
        _check_lease(lease)
        due = and_(
            reminders.c.next_due_at.is_not(None),
            reminders.c.next_due_at <= now,
            or_(reminders.c.claim_owner.is_(None), reminders.c.claimed_at <= now - lease),
        )
        rows = await self._claim(
            reminders,
            (reminders.c.record_id, reminders.c.recipient),
            due,
            order_by=reminders.c.next_due_at,
            values={"claim_owner": owner, "claimed_at": now},
            limit=limit,
        )
        return [_reminder(row) for row in rows]

    async def reminder_sent(
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
        _check_time(now)
        return await self._settle_claim(
            reminders,
            self._claimed_reminder(record_id, recipient, owner),
            {"sent": sent_before + 1, "next_due_at": next_due_at, "last_sent_at": now, "updated_at": now},
            reminders.c.sent == sent_before,
        )

    async def release_reminder(
        self, record_id: str, recipient: str, *, owner: str, postpone_to: datetime | None = None
    ) -> bool:
        """Give a claim back (sending failed, or it is not working hours); optionally move the due time."""
        return await self._settle_claim(
            reminders,
            self._claimed_reminder(record_id, recipient, owner),
            _postponed("next_due_at", postpone_to),
        )

    @staticmethod
    def _claimed_reminder(record_id: str, recipient: str, owner: str) -> list[ColumnElement[bool]]:
        return [
            reminders.c.record_id == record_id,
            reminders.c.recipient == recipient,
            reminders.c.claim_owner == owner,
            reminders.c.next_due_at.is_not(None),
        ]

    async def stop_step_reminders(self, record_id: str, *, now: datetime) -> int:
        """No more reminders for this step, to anyone (it was escalated)."""
        async with self._writer.begin() as conn:
            result = await conn.execute(
                update(reminders)
                .where(reminders.c.record_id == record_id, reminders.c.next_due_at.is_not(None))
                .values(next_due_at=None, claim_owner=None, claimed_at=None, updated_at=now)
            )
            return result.rowcount

    async def snooze_reminder(
        self, record_id: str, recipient: str, *, until: datetime, next_due_at: datetime, now: datetime
    ) -> ReminderRecord | None:
        """Hold one recipient's reminders until `until` (the next at `next_due_at`); None if none active."""
        _check_time(until)
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
        return None if row is None else _reminder(row)

    async def get_reminder(self, record_id: str, recipient: str) -> ReminderRecord | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(reminders).where(
                        reminders.c.record_id == record_id, reminders.c.recipient == recipient
                    )
                )
            ).first()
        return None if row is None else _reminder(row)

    async def list_reminders(
        self, *, request_id: str | None = None, record_id: str | None = None
    ) -> list[ReminderRecord]:
        query = select(reminders).order_by(reminders.c.record_id, reminders.c.recipient)
        if request_id is not None:
            query = query.where(reminders.c.request_id == request_id)
        if record_id is not None:
            query = query.where(reminders.c.record_id == record_id)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [_reminder(row) for row in rows]

    # --- expiry notices --------------------------------------------------------------------------

    async def schedule_expiry(
        self, request_id: str, *, expires_at: datetime, leads: Iterable[int], now: datetime
    ) -> None:
        """Plan a notice `days_before` each lead; a changed expiration moves notices not yet sent, and
        leads no longer wanted are stopped."""
        _check_time(now)
        _check_time(expires_at)
        wanted = sorted(set(leads))
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(
                        expiry_notices.c.days_before, expiry_notices.c.expires_at, expiry_notices.c.done_at
                    ).where(expiry_notices.c.request_id == request_id)
                )
            ).all()
        planned = {row.days_before for row in rows}
        if set(wanted) <= planned and all(
            row.done_at is not None or (row.expires_at == expires_at and row.days_before in wanted)
            for row in rows
        ):
            return  # already planned for this expiration: the usual case when a grant is seen again
        async with self._writer.begin() as conn:
            if wanted:
                insert = self._insert(expiry_notices).values(
                    [
                        {
                            "request_id": request_id,
                            "days_before": days,
                            "expires_at": expires_at,
                            "due_at": expires_at - timedelta(days=days),
                            "created_at": now,
                            "updated_at": now,
                        }
                        for days in wanted
                    ]
                )
                await conn.execute(
                    insert.on_conflict_do_update(
                        index_elements=[expiry_notices.c.request_id, expiry_notices.c.days_before],
                        set_={
                            "expires_at": insert.excluded.expires_at,
                            "due_at": insert.excluded.due_at,
                            "updated_at": insert.excluded.updated_at,
                        },
                        where=and_(
                            expiry_notices.c.done_at.is_(None),
                            expiry_notices.c.expires_at != insert.excluded.expires_at,
                        ),
                    )
                )
            await conn.execute(
                update(expiry_notices)
                .where(
                    expiry_notices.c.request_id == request_id,
                    expiry_notices.c.done_at.is_(None),
                    expiry_notices.c.days_before.not_in(wanted),
                )
                .values(due_at=None, outcome="stopped", done_at=now, updated_at=now)
            )

    async def stop_expiry(self, request_id: str, *, now: datetime) -> int:
        """The grant is over (expired, revoked) or was never temporary: no notice not yet sent goes."""
        _check_time(now)
        async with self._engine.connect() as conn:
            open_notice = await conn.scalar(
                select(expiry_notices.c.request_id)
                .where(expiry_notices.c.request_id == request_id, expiry_notices.c.done_at.is_(None))
                .limit(1)
            )
        if open_notice is None:
            return 0
        async with self._writer.begin() as conn:
            result = await conn.execute(
                update(expiry_notices)
                .where(expiry_notices.c.request_id == request_id, expiry_notices.c.done_at.is_(None))
                .values(due_at=None, outcome="stopped", done_at=now, updated_at=now)
            )
            return result.rowcount

    async def claim_due_expiry(
        self, *, now: datetime, owner: str, lease: timedelta, limit: int = 200
    ) -> list[ExpiryRecord]:
        _check_time(now)
        _check_lease(lease)
        due = and_(
            expiry_notices.c.due_at.is_not(None),
            expiry_notices.c.due_at <= now,
            or_(expiry_notices.c.claim_owner.is_(None), expiry_notices.c.claimed_at <= now - lease),
        )
        rows = await self._claim(
            expiry_notices,
            (expiry_notices.c.request_id, expiry_notices.c.days_before),
            due,
            order_by=expiry_notices.c.due_at,
            values={"claim_owner": owner, "claimed_at": now},
            limit=limit,
        )
        return [_expiry(row) for row in rows]

    async def expiry_done(
        self, request_id: str, days_before: int, *, owner: str, outcome: str, now: datetime
    ) -> bool:
        return await self._settle_claim(
            expiry_notices,
            self._claimed_expiry(request_id, days_before, owner),
            {"due_at": None, "outcome": outcome, "done_at": now, "updated_at": now},
        )

    async def release_expiry(
        self, request_id: str, days_before: int, *, owner: str, postpone_to: datetime | None = None
    ) -> bool:
        return await self._settle_claim(
            expiry_notices,
            self._claimed_expiry(request_id, days_before, owner),
            _postponed("due_at", postpone_to),
        )

    @staticmethod
    def _claimed_expiry(request_id: str, days_before: int, owner: str) -> list[ColumnElement[bool]]:
        return [
            expiry_notices.c.request_id == request_id,
            expiry_notices.c.days_before == days_before,
            expiry_notices.c.claim_owner == owner,
            expiry_notices.c.done_at.is_(None),
        ]

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

    async def list_expiry(self, request_id: str | None = None) -> list[ExpiryRecord]:
        query = select(expiry_notices).order_by(
            expiry_notices.c.request_id, expiry_notices.c.days_before.desc()
        )
        if request_id is not None:
            query = query.where(expiry_notices.c.request_id == request_id)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [_expiry(row) for row in rows]

    # --- linked accounts, listed ------------------------------------------------------------------

    async def list_links(self, team_id: str | None = None) -> list[LinkedAccount]:
        """Every linked account (tokens decrypted); links no configured key opens are left out."""
        query = select(linked_accounts).order_by(linked_accounts.c.team_id, linked_accounts.c.slack_user_id)
        if team_id is not None:
            query = query.where(linked_accounts.c.team_id == team_id)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        found = []
        for row in rows:
            try:
                found.append(self._link(row))
            except VaultError:
                continue  # a token under a retired key: that steward must link again
        return found

    # --- claiming due rows -----------------------------------------------------------------------

    async def _claim(
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
        if self.dialect == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        target = keys[0] if len(keys) == 1 else tuple_(*keys)
        stmt = update(table).where(target.in_(pick.scalar_subquery() if len(keys) == 1 else pick), due)
        async with self._writer.begin() as conn:
            return list((await conn.execute(stmt.values(**values).returning(*table.c))).all())


# --- row conversion and argument checks -----------------------------------------------------------


def _card(row: Row[Any]) -> CardRecord:
    return CardRecord(**{field.name: row._mapping[field.name] for field in fields(CardRecord)})


def _reminder(row: Row[Any]) -> ReminderRecord:
    return ReminderRecord(**{field.name: row._mapping[field.name] for field in fields(ReminderRecord)})


def _expiry(row: Row[Any]) -> ExpiryRecord:
    return ExpiryRecord(**{field.name: row._mapping[field.name] for field in fields(ExpiryRecord)})


def _decision(row: Row[Any], status: ClaimStatus) -> DecisionClaim:
    return DecisionClaim(
        status=status,
        record_id=row.record_id,
        request_id=row.request_id,
        holder=row.slack_user_id,
        verdict=Verdict(row.verdict),
        since=row.claimed_at,
        finished=row.outcome is not None,
        outcome=row.outcome,
    )


def _audit(row: Row[Any]) -> AuditRecord:
    return AuditRecord(
        id=row.id,
        at=row.at,
        request_id=row.request_id,
        record_id=row.record_id,
        team_id=row.team_id,
        slack_user_id=row.slack_user_id,
        marketplace_user_id=row.marketplace_user_id,
        verdict=Verdict(row.verdict),
        duration=row.duration,
        duration_unit=None if row.duration_unit is None else DurationUnit(row.duration_unit),
        reason=row.reason,
        outcome=row.outcome,
        error=row.error,
    )


def _email(email: str) -> str:
    return email.strip().lower()


def _postponed(due_column: str, to: datetime | None) -> dict[str, Any]:
    """What giving a claim back changes besides the claim: the due time, when it moves."""
    if to is None:
        return {}
    _check_time(to)
    return {due_column: to}


def _check_time(when: datetime) -> None:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("the store takes timezone-aware datetimes only")


def _check_lease(lease: timedelta) -> None:
    if lease <= timedelta(0):
        raise ValueError("a lease must be positive")
