"""Decisions taken in Slack: the claim that lets one steward send a determination.

The audit log they write lives in `store/audit.py` (`Audit` is imported from here as well).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, delete, or_, select, update

from marketplace_slack.domain import Verdict
from marketplace_slack.store.audit import Audit
from marketplace_slack.store.base import Area, check_lease, check_time, earlier_life
from marketplace_slack.store.records import ClaimStatus, DecisionClaim
from marketplace_slack.store.tables import decision_claims

__all__ = ["Audit", "Decisions"]


class Decisions(Area):
    async def claim(
        self,
        record_id: str,
        *,
        request_id: str,
        slack_user_id: str,
        verdict: Verdict | str,
        now: datetime,
        lease: timedelta,
        owner: str | None = None,
    ) -> DecisionClaim:
        """Reserve the right to send the determination for one approval record.

        Won by exactly one caller. Everyone else, including the same steward clicking twice, gets
        HELD with the holder, its owner (the process) and since when; a finished claim stays held for
        good. An unfinished claim older than `lease` is taken over (its owner died mid-decision); one
        the caller knows to be dead sooner is taken over with `take_over`.
        """
        check_time(now)
        check_lease(lease)
        claim = {
            "request_id": request_id,
            "slack_user_id": slack_user_id,
            "verdict": Verdict(verdict).value,
            "claimed_at": now,
            "owner": owner,
        }
        claimed = await self._claim_key(
            decision_claims,
            {"record_id": record_id},
            claim=claim,
            lapsed=[decision_claims.c.outcome.is_(None), decision_claims.c.claimed_at <= now - lease],
            take_over=claim,
        )
        if claimed is None:
            raise RuntimeError(f"decision claim on record {record_id} kept changing hands; try again")
        row, won = claimed
        return _decision(row, ClaimStatus.WON if won else ClaimStatus.HELD)

    async def take_over(
        self,
        held: DecisionClaim,
        *,
        slack_user_id: str,
        verdict: Verdict | str,
        now: datetime,
        owner: str | None = None,
    ) -> DecisionClaim | None:
        """Take over the unfinished claim `held`, exactly as it was seen, without waiting out its lease.

        For a claim its caller knows nobody is working on: the same steward's own (after a crash, or
        from another replica) or one left by an earlier life of this process. The update is
        conditional on the claim being unchanged (holder, owner, since), so of several callers who saw
        it, one wins; the others get None and look again.
        """
        check_time(now)
        c = decision_claims.c
        same_owner = c.owner.is_(None) if held.owner is None else c.owner == held.owner
        async with self._writer.begin() as conn:
            row = (
                await conn.execute(
                    update(decision_claims)
                    .where(
                        c.record_id == held.record_id,
                        c.outcome.is_(None),
                        c.slack_user_id == held.holder,
                        c.claimed_at == held.since,
                        same_owner,
                    )
                    .values(
                        slack_user_id=slack_user_id,
                        verdict=Verdict(verdict).value,
                        claimed_at=now,
                        owner=owner,
                    )
                    .returning(*decision_claims.c)
                )
            ).first()
        return None if row is None else _decision(row, ClaimStatus.WON)

    async def of_request(self, request_id: str) -> list[DecisionClaim]:
        """Every claim on the records of one request (finished or not), as HELD."""
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(decision_claims)
                    .where(decision_claims.c.request_id == request_id)
                    .order_by(decision_claims.c.record_id)
                )
            ).all()
        return [_decision(row, ClaimStatus.HELD) for row in rows]

    async def abandoned(self, *, owner: str, now: datetime, lease: timedelta) -> list[DecisionClaim]:
        """Unfinished claims nobody is working on: held longer than `lease`, or by an earlier life of
        `owner`'s instance (`infra.owners`), oldest first, as HELD."""
        check_time(now)
        check_lease(lease)
        c = decision_claims.c
        dead = [c.claimed_at <= now - lease, *earlier_life(c.owner, owner)]
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(decision_claims).where(c.outcome.is_(None), or_(*dead)).order_by(c.claimed_at)
                )
            ).all()
        return [_decision(row, ClaimStatus.HELD) for row in rows]

    async def finish(
        self, record_id: str, *, outcome: str, owner: str | None = None, since: datetime | None = None
    ) -> bool:
        """Mark the determination sent; the claim then stays held so nobody sends another.

        With `owner` (and `since`), only the claim as that owner holds it (held since then): a claim
        another process has taken over meanwhile is theirs to finish."""
        async with self._writer.begin() as conn:
            result = await conn.execute(
                update(decision_claims)
                .where(
                    decision_claims.c.record_id == record_id,
                    decision_claims.c.outcome.is_(None),
                    *_held_by(owner, since),
                )
                .values(outcome=outcome)
            )
            return result.rowcount > 0

    async def release(
        self, record_id: str, slack_user_id: str, *, owner: str | None = None, since: datetime | None = None
    ) -> bool:
        """Drop an unfinished claim after a failure, so the steward (or another) can retry now; with
        `owner` (and `since`), only the claim as that owner holds it, as for `finish`."""
        async with self._writer.begin() as conn:
            result = await conn.execute(
                delete(decision_claims).where(
                    decision_claims.c.record_id == record_id,
                    decision_claims.c.slack_user_id == slack_user_id,
                    decision_claims.c.outcome.is_(None),
                    *_held_by(owner, since),
                )
            )
            return result.rowcount > 0


def _held_by(owner: str | None, since: datetime | None) -> list[ColumnElement[bool]]:
    held: list[ColumnElement[bool]] = []
    if owner is not None:
        held.append(decision_claims.c.owner == owner)
    if since is not None:
        held.append(decision_claims.c.claimed_at == since)
    return held


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
        owner=row.owner,
    )
