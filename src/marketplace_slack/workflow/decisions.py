"""Approve and Deny: who may decide now, the form, and recording the determination in the steward's name.

A click only opens a modal (at once, then turned into the form or the reason why not); a submitted
form claims each step the steward may decide (so a double click, or two stewards at once, record one
determination), shows the decision in progress on the card, PUTs it with the steward's own token, and
shows the card again from the Marketplace's answer.
"""

from __future__ import annotations

import json
from datetime import timedelta

import structlog
from pydantic import SecretStr

from marketplace_slack.domain import (
    AccessRequest,
    Actor,
    ApprovalStep,
    Decision,
    InProgress,
    Verdict,
    eligibility,
)
from marketplace_slack.infra.clock import Clock
from marketplace_slack.infra.tasks import KeyedLocks
from marketplace_slack.marketplace.errors import (
    ConflictError,
    ForbiddenError,
    MarketplaceError,
    NotFoundError,
    UnauthorizedError,
)
from marketplace_slack.store.repository import Repository
from marketplace_slack.workflow import sentences
from marketplace_slack.workflow.cards import CardKeeper
from marketplace_slack.workflow.linking import Accounts
from marketplace_slack.workflow.ports import Gateway, Modals, Replies
from marketplace_slack.workflow.sentences import Sentence

log = structlog.get_logger(__name__)


class Decisions:
    def __init__(
        self,
        *,
        store: Repository,
        gateway: Gateway,
        replies: Replies,
        modals: Modals,
        cards: CardKeeper,
        accounts: Accounts,
        clock: Clock,
        locks: KeyedLocks,
        claim_lease: timedelta,
    ) -> None:
        self._store = store
        self._gateway = gateway
        self._replies = replies
        self._modals = modals
        self._cards = cards
        self._accounts = accounts
        self._clock = clock
        self._locks = locks
        self._lease = claim_lease

    async def start(
        self,
        *,
        team_id: str,
        user_id: str,
        request_id: str,
        verdict: Verdict,
        trigger_id: str,
        channel: str | None,
        message_ts: str | None,
        duration_choice: str,
    ) -> None:
        """A click on Approve or Deny: open a modal at once, then turn it into the form or the reason why not.

        The trigger id lasts 3 seconds and the Marketplace may take longer to answer, so nothing slow
        happens before the modal is open; what the checks find replaces its "Checking…".
        """
        modal = await self._modals.open_pending(trigger_id, verdict)
        if modal is None:
            await self._tell(user_id, channel, sentences.FORM_NOT_OPENED)
            return
        link = await self._accounts.linked(team_id, user_id)
        if link is None:
            await self._modals.show_link_form(modal, sentences.LINK_FIRST, context=json.dumps({"c": channel}))
            return
        try:
            actor = await self._accounts.actor(user_id, link.token)
            request = await self._gateway.load(request_id, enrich=False)
        except UnauthorizedError:
            await self._accounts.forget(team_id, user_id)
            await self._modals.show_link_form(
                modal, sentences.RELINK_NEEDED, context=json.dumps({"c": channel})
            )
            return
        except NotFoundError:
            await self._modals.show_refusal(modal, verdict, sentences.REQUEST_GONE)
            return
        except MarketplaceError:
            await self._modals.show_refusal(modal, verdict, sentences.MARKETPLACE_UNREACHABLE)
            return
        check = eligibility(request, actor)
        if check.refusal is not None:
            await self._modals.show_refusal(modal, verdict, sentences.refusal(check.refusal))
            return
        context = json.dumps({"r": request_id, "c": channel, "t": message_ts})
        await self._modals.show_decision_form(
            modal, request, verdict, initial_duration=duration_choice, context=context
        )

    async def submit(
        self,
        *,
        team_id: str,
        user_id: str,
        request_id: str,
        decision: Decision,
        channel: str | None,
    ) -> None:
        """A submitted Approve/Deny form: record the steward's determination with their own token."""
        link = await self._accounts.linked(team_id, user_id)
        if link is None:
            await self._replies.prompt_link(user_id=user_id, channel=channel, sentence=sentences.LINK_FIRST)
            return
        async with self._locks(request_id):
            try:
                actor = await self._accounts.actor(user_id, link.token)
                request = await self._cards.load(request_id)
            except UnauthorizedError:
                await self._accounts.relink(team_id, user_id, channel)
                return
            except MarketplaceError:
                await self._tell(user_id, channel, sentences.MARKETPLACE_UNREACHABLE)
                return
            check = eligibility(request, actor)
            if check.refusal is not None:
                await self._tell(user_id, channel, sentences.refusal(check.refusal))
                await self._cards.show(request)
                return
            now = self._clock.now()
            claimed: list[ApprovalStep] = []
            for step in check.steps:
                claim = await self._store.decisions.claim(
                    step.id,
                    request_id=request_id,
                    slack_user_id=user_id,
                    verdict=decision.verdict.value,
                    now=now,
                    lease=self._lease,
                )
                if claim.won:
                    claimed.append(step)
                elif claim.holder == user_id:
                    await self._tell(user_id, channel, sentences.ALREADY_RECORDING)
                else:
                    await self._tell(user_id, channel, sentences.someone_deciding(claim.holder))
            if not claimed:
                return
            await self._cards.show(request, in_progress=InProgress(decision.verdict, user_id))
            notice = await self._send(
                claimed,
                request,
                decision,
                link.token,
                actor=actor,
                user_id=user_id,
                team_id=team_id,
                channel=channel,
            )
            try:
                request = await self._cards.load(request_id)
            except MarketplaceError:
                # The decision may or may not be recorded; reconciliation will make the card true.
                log.warning("reload_after_decision_failed", request_id=request_id)
                return
            await self._cards.show(request, notice=notice.text if notice else None)
            await self._cards.observe(request)

    async def _send(
        self,
        steps: list[ApprovalStep],
        request: AccessRequest,
        decision: Decision,
        token: SecretStr,
        *,
        actor: Actor,
        user_id: str,
        team_id: str,
        channel: str | None,
    ) -> Sentence | None:
        """PUT each claimed record; tell the steward what went wrong, if anything. Returns a card notice."""
        notice: Sentence | None = None
        for step in steps:
            outcome, told = "ok", None
            try:
                await self._gateway.decide(token, step.id, decision)
            except ConflictError:
                outcome = "conflict"
                fresh = await self._load_quietly(request.id)
                decided = next((s for s in (fresh.steps if fresh else ()) if s.id == step.id), None)
                told = sentences.already_decided(
                    decided.status.value.lower() if decided else None,
                    decided.decided_by.name if decided and decided.decided_by else None,
                )
            except ForbiddenError as exc:
                outcome, told = "forbidden", sentences.marketplace_refused(exc.message)
            except UnauthorizedError:
                outcome = "unauthorized"
                await self._accounts.relink(team_id, user_id, channel)
            except MarketplaceError as exc:
                outcome, told = "unavailable", sentences.MARKETPLACE_UNREACHABLE
                notice = sentences.DECISION_NOT_RECORDED
                log.warning(
                    "decision_failed", request_id=request.id, step_id=step.id, error=type(exc).__name__
                )
            now = self._clock.now()
            if outcome == "unavailable":
                await self._store.decisions.release(step.id, user_id)
            else:
                await self._store.decisions.finish(step.id, outcome=outcome)
            await self._store.audit.append(
                request_id=request.id,
                record_id=step.id,
                slack_user_id=user_id,
                marketplace_user_id=actor.marketplace_id,
                verdict=decision.verdict.value,
                duration=decision.duration.amount if decision.duration else None,
                duration_unit=decision.duration.unit.value if decision.duration else None,
                reason=decision.reason,
                outcome=outcome,
                error=told.text if told else None,
                at=now,
            )
            log.info(
                "decision",
                request_id=request.id,
                step_id=step.id,
                verdict=decision.verdict.value,
                outcome=outcome,
            )
            if told:
                await self._tell(user_id, channel, told)
        return notice

    async def _tell(self, user_id: str, channel: str | None, sentence: Sentence) -> None:
        await self._replies.tell(user_id=user_id, channel=channel, sentence=sentence)

    async def _load_quietly(self, request_id: str) -> AccessRequest | None:
        try:
            return await self._gateway.load(request_id, enrich=False)
        except MarketplaceError:
            return None
