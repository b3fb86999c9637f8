"""Decisions left half-done by a process that died: settled by the approval record, not by waiting.

A steward's submission claims the record, shows the card "in progress" (without buttons), sends the
PUT and shows the card again. A process killed in between leaves an unfinished claim and a card with
no buttons. The steward's own retry resolves it at once (`Decisions`), but a card without buttons
invites no retry, so every reconciliation pass also looks at the claims nobody is working on (held
by an earlier life of this instance, or older than the lease) and asks the Marketplace what became
of each: decided by the claim's steward → recorded "ok" in the audit log; decided by someone else →
recorded as a conflict; still waiting → the claim is given up. Either way the card is shown again
from the Marketplace's state, with its buttons if the record still waits.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

import structlog

from marketplace_slack.domain import Actor
from marketplace_slack.infra.clock import Clock
from marketplace_slack.infra.tasks import KeyedLocks
from marketplace_slack.marketplace.errors import MarketplaceError, NotFoundError
from marketplace_slack.store.records import OUTCOME_OK, DecisionClaim
from marketplace_slack.store.repository import Repository
from marketplace_slack.workflow.cards import CardKeeper
from marketplace_slack.workflow.decisions import CONFLICT, DECIDED, as_decision, decided_by

log = structlog.get_logger(__name__)

# The record is decided, but the claim's steward has no link any more to say whether it was them.
DECIDED_UNATTRIBUTED: Final = "decided_unattributed"


class AbandonedDecisions:
    def __init__(
        self,
        *,
        store: Repository,
        cards: CardKeeper,
        clock: Clock,
        locks: KeyedLocks,
        owner: str,
        claim_lease: timedelta,
    ) -> None:
        self._store = store
        self._cards = cards
        self._clock = clock
        self._locks = locks
        self._owner = owner
        self._lease = claim_lease

    async def resolve(self) -> int:
        """Settle every abandoned claim the Marketplace can tell about; returns how many were settled."""
        claims = await self._store.decisions.abandoned(
            owner=self._owner, now=self._clock.now(), lease=self._lease
        )
        settled = 0
        for claim in claims:
            try:
                settled += await self._resolve(claim)
            except MarketplaceError as exc:  # asked again on the next pass
                log.warning(
                    "abandoned_decision_unresolved", record_id=claim.record_id, error=type(exc).__name__
                )
        return settled

    async def _resolve(self, claim: DecisionClaim) -> int:
        async with self._locks(claim.request_id):
            try:
                request = await self._cards.load(claim.request_id)
            except NotFoundError:
                await self._store.decisions.finish(
                    claim.record_id, outcome="gone", owner=claim.owner, since=claim.since
                )
                return 1
            step = next((s for s in request.steps if s.id == claim.record_id), None)
            if step is None or step.status not in DECIDED:
                # Nothing landed: give the record back to whoever decides next, buttons and all.
                await self._store.decisions.release(
                    claim.record_id, claim.holder, owner=claim.owner, since=claim.since
                )
                outcome = "released"
            else:
                actor = await self._actor_of(claim.holder)
                if actor is None:  # unlinked since: whose determination it is cannot be told
                    outcome = DECIDED_UNATTRIBUTED
                else:
                    outcome = OUTCOME_OK if decided_by(step, actor) else CONFLICT
                if await self._store.decisions.finish(
                    claim.record_id, outcome=outcome, owner=claim.owner, since=claim.since
                ):
                    sent = as_decision(step, claim)
                    await self._store.audit.append(
                        request_id=request.id,
                        record_id=claim.record_id,
                        slack_user_id=claim.holder,
                        marketplace_user_id=actor.marketplace_id if actor else None,
                        verdict=sent.verdict.value,
                        duration=sent.duration.amount if sent.duration else None,
                        duration_unit=sent.duration.unit.value if sent.duration else None,
                        reason=sent.reason,
                        outcome=outcome,
                        at=self._clock.now(),
                    )
            log.info("abandoned_decision_resolved", record_id=claim.record_id, outcome=outcome)
            await self._cards.show(request)
            await self._cards.observe(request)
            return 1

    async def _actor_of(self, slack_user_id: str) -> Actor | None:
        """The claim's steward as the Marketplace knew them when they linked (no call with their token)."""
        link = next((a for a in await self._store.links.list() if a.slack_user_id == slack_user_id), None)
        if link is None:
            return None
        return Actor(
            marketplace_id=link.marketplace_user_id, username=link.marketplace_username, email=link.email
        )
