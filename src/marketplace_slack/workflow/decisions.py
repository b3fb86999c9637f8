"""Approve and Deny: who may decide now, the form, and recording the determination in the steward's name.

A click only opens a modal (at once, then turned into the form or the reason why not); a submitted
form claims each step the steward may decide (so a double click, or two stewards at once, record one
determination), shows the decision in progress on the card, PUTs it with the steward's own token, and
shows the card again from the Marketplace's answer.

Click and submit each judge the steward against the request's records read at that moment, on the
card's snapshot for the rest (`CardKeeper.current`: one call); a refusal, or a card without a
snapshot, is judged on the request read whole, as the card would show it. The card after the PUT is
the snapshot with the PUT's answers (`CardKeeper.after_decision`), so a decision costs the steward's
identity (cached briefly), two reads of the records and the PUT.

The network may lie about a PUT: the Marketplace can commit it and the answer be lost, late or turned
into a 5xx, and the client's retry then meets a 409 for the steward's own decision. So after any
answer that does not say "refused, nothing done", the record is read again before anyone is told
anything, and the steward, the claim and the audit log get what really happened. A claim nobody can
be working on (the same steward's own, or one left by an earlier life of this process) is resolved
by the same look at the record, not by waiting out its lease.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

import structlog
from pydantic import SecretStr

from marketplace_slack.domain import (
    AccessRequest,
    Actor,
    ApprovalStep,
    Decision,
    InProgress,
    Person,
    RecordStatus,
    Verdict,
    eligibility,
)
from marketplace_slack.infra.clock import Clock
from marketplace_slack.infra.owners import earlier_life
from marketplace_slack.infra.tasks import KeyedLocks
from marketplace_slack.marketplace.errors import (
    APIStatusError,
    ConflictError,
    ForbiddenError,
    MarketplaceError,
    NotFoundError,
    RateLimitError,
    UnauthorizedError,
)
from marketplace_slack.store.audit import AuditKind
from marketplace_slack.store.records import OUTCOME_OK, DecisionClaim, LinkedAccount
from marketplace_slack.store.repository import Repository
from marketplace_slack.workflow import sentences
from marketplace_slack.workflow.cards import CardKeeper
from marketplace_slack.workflow.context import ContextSeal, FormContext
from marketplace_slack.workflow.identity import IdentityGuard
from marketplace_slack.workflow.linking import Accounts
from marketplace_slack.workflow.ports import Gateway, Modals, Replies
from marketplace_slack.workflow.sentences import Sentence

log = structlog.get_logger(__name__)

# What became of one determination, as the claim and the audit log keep it.
CONFLICT: Final = "conflict"  # someone else's determination stands
UNKNOWN: Final = "unknown"  # neither the PUT's answer nor a look at the record came back
UNAVAILABLE: Final = "unavailable"  # the PUT failed and the record still waits: nothing recorded
FORBIDDEN: Final = "forbidden"
UNAUTHORIZED: Final = "unauthorized"
REFUSED: Final = "refused"  # another 4xx: the Marketplace turned it away unprocessed
NOTIFY_ONLY: Final = "notify_only"  # a refusal's code: the request's route decides in the Marketplace
IDENTITY: Final = "identity"  # a refusal's code: the Slack account no longer vouches for the link
# A claim stays held for good once the record is decided; it is given back when nothing was recorded,
# so the steward (or another) may try again at once; an unknown outcome keeps it, unfinished.
_FINISHED: Final = frozenset({OUTCOME_OK, CONFLICT})
DECIDED: Final = frozenset({RecordStatus.APPROVED, RecordStatus.DENIED, RecordStatus.CANCELED})


@dataclass(frozen=True, slots=True)
class _Result:
    outcome: str
    told: Sentence | None = None
    notice: Sentence | None = None  # for the card, seen by everyone in the channel
    answer: ApprovalStep | None = None  # the record as the PUT's own answer has it


@dataclass(frozen=True, slots=True)
class _Sent:
    notice: Sentence | None
    answers: tuple[ApprovalStep, ...]  # one per claimed step whose PUT answered 200


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
        owner: str,
        seal: ContextSeal,
        allow_self_approval: bool = False,
        identity: IdentityGuard | None = None,
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
        self._owner = owner
        self._seal = seal
        self._allow_self_approval = allow_self_approval  # config file: decisions.allow_self_approval
        self._identity = identity  # is the Slack user still the linked account's owner (identity.py)

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
        refused = await self._vouch(link)
        if refused is not None:
            await self._modals.show_refusal(modal, verdict, refused)
            await self._refused(request_id, verdict, IDENTITY, link, user_id, team_id, at="click")
            return
        try:
            actor = await self._accounts.actor(user_id, link.token)
            request = await self._cards.current(request_id)
            if request is None or not self._may_decide(request, actor):
                # A refusal is said, and the card made true, from the request read whole, as before.
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
        if self._cards.notify_only(request):
            # Enforced here, not only by the card's missing buttons: a card posted before its route
            # became notify-only still has them.
            await self._modals.show_refusal(modal, verdict, sentences.DECIDE_IN_MARKETPLACE)
            await self._refused(request_id, verdict, NOTIFY_ONLY, actor, user_id, team_id, at="click")
            await self._sync_quietly(request_id)  # the old card loses its buttons
            return
        check = eligibility(request, actor, allow_self_approval=self._allow_self_approval)
        if check.refusal is not None:
            await self._modals.show_refusal(modal, verdict, sentences.refusal(check.refusal))
            await self._refused(request_id, verdict, check.refusal.code, actor, user_id, team_id, at="click")
            if check.refusal.code in ("settled", "decided"):
                # The card still offers what the Marketplace no longer allows: make it true now, and
                # settle what an earlier attempt of this steward left unfinished (under the request's
                # lock, so a submit of this process is not half-way through the same claim).
                async with self._locks(request_id):
                    await self._recover(request, actor, user_id=user_id, team_id=team_id)
                await self._sync_quietly(request_id)
            return
        context = FormContext(request_id, verdict, team_id, user_id, channel, message_ts)
        await self._modals.show_decision_form(
            modal, request, verdict, initial_duration=duration_choice, context=self._seal.seal(context)
        )

    async def submit(self, *, team_id: str, user_id: str, decision: Decision, context: str | None) -> None:
        """A submitted Approve/Deny form: record the steward's determination with their own token.

        `context` is the form's private metadata as Slack returned it; a form not opened by this
        steward, in this workspace, for this verdict (or altered since) changes nothing."""
        form = self._seal.open(context, team_id=team_id, user_id=user_id, verdict=decision.verdict)
        if form is None:
            log.warning("form_context_refused", user_id=user_id, verdict=decision.verdict.value)
            await self._tell(user_id, None, sentences.FORM_CONTEXT_REFUSED)
            return
        request_id, channel = form.request_id, form.channel
        link = await self._accounts.linked(team_id, user_id)
        if link is None:
            await self._replies.prompt_link(user_id=user_id, channel=channel, sentence=sentences.LINK_FIRST)
            return
        # Again at submit: the form may have stayed open while the account changed.
        refused = await self._vouch(link)
        if refused is not None:
            await self._tell(user_id, channel, refused)
            await self._refused(request_id, decision.verdict, IDENTITY, link, user_id, team_id, at="submit")
            return
        async with self._locks(request_id):
            try:
                actor = await self._accounts.actor(user_id, link.token)
                request = await self._cards.current(request_id)
                if request is None or not self._may_decide(request, actor):
                    request = await self._cards.load(request_id)
            except UnauthorizedError:
                await self._accounts.relink(team_id, user_id, channel)
                return
            except MarketplaceError:
                await self._tell(user_id, channel, sentences.MARKETPLACE_UNREACHABLE)
                return
            recovered = await self._recover(request, actor, user_id=user_id, team_id=team_id, channel=channel)
            notify_only = self._cards.notify_only(request)  # the route may have changed since the click
            check = eligibility(request, actor, allow_self_approval=self._allow_self_approval)
            code = NOTIFY_ONLY if notify_only else check.refusal.code if check.refusal else None
            if code is not None:
                await self._refused(request_id, decision.verdict, code, actor, user_id, team_id, at="submit")
                if notify_only:
                    await self._tell(user_id, channel, sentences.DECIDE_IN_MARKETPLACE)
                elif check.refusal and not recovered:  # else they were just told what became of theirs
                    await self._tell(user_id, channel, sentences.refusal(check.refusal))
                await self._cards.show(request)
                await self._cards.observe(request)
                return
            claimed = [
                step
                for step in check.steps
                if await self._claim(step, request_id, decision, user_id=user_id, channel=channel)
            ]
            if not claimed:
                return
            await self._cards.show(request, in_progress=InProgress(decision.verdict, user_id))
            sent = await self._send(
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
                if sent.answers and len(sent.answers) == len(claimed):
                    request = await self._cards.after_decision(request, sent.answers)
                else:  # something was looked up or nothing landed: the card follows the whole request
                    request = await self._cards.load(request_id)
            except MarketplaceError:
                # The decision may or may not be recorded; reconciliation will make the card true.
                log.warning("reload_after_decision_failed", request_id=request_id)
                return
            await self._cards.show(request, notice=sent.notice.text if sent.notice else None)
            await self._cards.observe(request)

    def _may_decide(self, request: AccessRequest, actor: Actor) -> bool:
        if self._cards.notify_only(request):
            return False
        return eligibility(request, actor, allow_self_approval=self._allow_self_approval).refusal is None

    async def _claim(
        self, step: ApprovalStep, request_id: str, decision: Decision, *, user_id: str, channel: str | None
    ) -> bool:
        """Claim one record the fresh read shows pending; take over a claim nobody is working on."""
        claim = await self._store.decisions.claim(
            step.id,
            request_id=request_id,
            slack_user_id=user_id,
            verdict=decision.verdict.value,
            now=self._clock.now(),
            lease=self._lease,
            owner=self._owner,
        )
        if claim.won:
            return True
        if not claim.finished and (claim.owner == self._owner or earlier_life(claim.owner, self._owner)):
            # Nobody is working on it: a claim this process holds cannot be in flight while it holds
            # the request's lock, and one left by an earlier life of this instance died with it. The
            # record was read just now and still waits, so whatever it did never landed. A claim of
            # another live replica is left to it (its PUT may be landing now) until its lease lapses.
            taken = await self._store.decisions.take_over(
                claim,
                slack_user_id=user_id,
                verdict=decision.verdict.value,
                now=self._clock.now(),
                owner=self._owner,
            )
            if taken is not None:
                log.info("decision_claim_taken_over", step_id=step.id, holder=claim.holder, owner=claim.owner)
                return True
        if claim.holder == user_id:
            await self._tell(user_id, channel, sentences.ALREADY_RECORDING)
        else:
            await self._tell(user_id, channel, sentences.someone_deciding(claim.holder))
        return False

    async def _recover(
        self,
        request: AccessRequest,
        actor: Actor,
        *,
        user_id: str,
        team_id: str,
        channel: str | None = None,
    ) -> bool:
        """Finish the steward's own unfinished claims on records the Marketplace shows decided.

        What an earlier attempt left (a crash between claim and answer, an outcome nobody could find
        out) is settled by the record: the steward's decision stood (recorded "ok"), or someone
        else's did (recorded as a conflict and said). Returns whether there was any.
        """
        steps = {s.id: s for s in request.steps}
        found = False
        for claim in await self._store.decisions.of_request(request.id):
            step = steps.get(claim.record_id)
            if claim.finished or claim.holder != user_id or step is None or step.status not in DECIDED:
                continue
            if decided_by(step, actor):
                result, sent = _Result(OUTCOME_OK), as_decision(step, claim)
            else:
                result, sent = _Result(CONFLICT, told=_already_decided(step)), Decision(claim.verdict)
            if not await self._store.decisions.finish(claim.record_id, outcome=result.outcome):
                continue  # another replica settled it meanwhile, and said so
            found = True
            await self._audit(request.id, claim.record_id, sent, result, actor, user_id, team_id)
            log.info("decision_recovered", request_id=request.id, step_id=step.id, outcome=result.outcome)
            if result.told is not None:
                await self._tell(user_id, channel, result.told)
        return found

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
    ) -> _Sent:
        """PUT each claimed record; tell the steward what became of it. Returns a card notice and the
        PUTs' answers."""
        notice: Sentence | None = None
        answers: list[ApprovalStep] = []
        for step in steps:
            result = await self._put(step, request, decision, token, actor=actor)
            if result.answer is not None:
                answers.append(result.answer)
            if result.outcome == UNAUTHORIZED:
                await self._accounts.relink(team_id, user_id, channel)
            if result.outcome in _FINISHED:
                if not await self._store.decisions.finish(step.id, outcome=result.outcome, owner=self._owner):
                    # Another replica found this very outcome by reading the record (the same steward
                    # retried there) and recorded it: one audit entry per determination.
                    log.info("decision_already_settled", request_id=request.id, step_id=step.id)
                    continue
            elif result.outcome != UNKNOWN:  # unknown: keep it, so the record is read again next time
                await self._store.decisions.release(step.id, user_id, owner=self._owner)
            await self._audit(request.id, step.id, decision, result, actor, user_id, team_id)
            log.info(
                "decision",
                request_id=request.id,
                step_id=step.id,
                verdict=decision.verdict.value,
                outcome=result.outcome,
            )
            notice = result.notice or notice
            if result.told:
                await self._tell(user_id, channel, result.told)
        return _Sent(notice, tuple(answers))

    async def _put(
        self,
        step: ApprovalStep,
        request: AccessRequest,
        decision: Decision,
        token: SecretStr,
        *,
        actor: Actor,
    ) -> _Result:
        """One determination, and what really became of it.

        Only a 401 is taken at its word. Any other failure may follow an earlier attempt of the same
        PUT (the client retries timeouts and 5xx) that was recorded with its answer lost, so the
        record is read before anyone is told: decided by this steward is a success whatever the last
        attempt said; still waiting, a refusal is passed on as the Marketplace gave it."""
        try:
            return _Result(OUTCOME_OK, answer=await self._gateway.decide(token, step.id, decision))
        except UnauthorizedError:
            return _Result(UNAUTHORIZED)
        except ForbiddenError as exc:
            # Its words stay here, for whoever runs the app; the steward hears what they can do.
            log.info("decision_forbidden", request_id=request.id, step_id=step.id, detail=exc.message)
            refused = _Result(FORBIDDEN, told=sentences.MARKETPLACE_FORBIDDEN)
            return await self._look(step, request, actor, failure="forbidden", pending=refused)
        except RateLimitError:
            turned_away = _Result(
                UNAVAILABLE, told=sentences.DECISION_NOT_TAKEN, notice=sentences.DECISION_NOT_RECORDED
            )
            return await self._look(step, request, actor, failure="rate_limited", pending=turned_away)
        except ConflictError:
            # Someone else's determination, or our own first PUT whose answer a retry never saw.
            return await self._look(step, request, actor, failure="conflict")
        except APIStatusError as exc:
            if exc.status_code < 500:  # 400, 404, 422...: refused, unless an earlier attempt landed
                refused = _Result(REFUSED, told=sentences.marketplace_refused(exc.message))
                return await self._look(step, request, actor, failure=str(exc.status_code), pending=refused)
            return await self._look(step, request, actor, failure=type(exc).__name__)
        except MarketplaceError as exc:
            # A lost, late or unreadable answer: the PUT may well have been recorded.
            return await self._look(step, request, actor, failure=type(exc).__name__)

    async def _look(
        self,
        step: ApprovalStep,
        request: AccessRequest,
        actor: Actor,
        *,
        failure: str,
        pending: _Result | None = None,
    ) -> _Result:
        """Read the record again after an answer that did not say what happened, and go by that;
        `pending` is what to say if the record still waits (by default: nothing was recorded)."""
        try:
            fresh = await self._gateway.record(request.id, step.id)
        except NotFoundError:
            return _Result(REFUSED, told=sentences.REQUEST_GONE)
        except MarketplaceError as exc:
            log.warning(
                "decision_outcome_unknown",
                request_id=request.id,
                step_id=step.id,
                failure=failure,
                lookup=type(exc).__name__,
            )
            return _Result(UNKNOWN, told=sentences.DECISION_OUTCOME_UNKNOWN)
        log.info(
            "decision_looked_up",
            request_id=request.id,
            step_id=step.id,
            failure=failure,
            status=fresh.status.value if fresh else None,
        )
        if fresh is not None and fresh.status in DECIDED:
            if decided_by(fresh, actor):
                return _Result(OUTCOME_OK)
            return _Result(CONFLICT, told=_already_decided(fresh))
        if fresh is None:
            return _Result(REFUSED, told=sentences.REQUEST_GONE)
        if pending is not None:
            return pending
        return _Result(UNAVAILABLE, told=sentences.DECISION_NOT_TAKEN, notice=sentences.DECISION_NOT_RECORDED)

    async def _audit(
        self,
        request_id: str,
        record_id: str,
        decision: Decision,
        result: _Result,
        actor: Actor,
        user_id: str,
        team_id: str,
    ) -> None:
        await self._store.audit.append(
            request_id=request_id,
            record_id=record_id,
            team_id=team_id or None,
            slack_user_id=user_id,
            marketplace_user_id=actor.marketplace_id,
            verdict=decision.verdict.value,
            duration=decision.duration.amount if decision.duration else None,
            duration_unit=decision.duration.unit.value if decision.duration else None,
            reason=decision.reason,
            outcome=result.outcome,
            error=result.told.text if result.told else None,
            at=self._clock.now(),
        )

    async def _refused(
        self,
        request_id: str,
        verdict: Verdict,
        code: str,
        actor: Actor | LinkedAccount,
        user_id: str,
        team_id: str,
        *,
        at: str,
    ) -> None:
        """A click or a submitted form turned away: who, on which request, why (`code`), at which step."""
        await self._store.audit.record(
            kind=AuditKind.REFUSAL,
            at=self._clock.now(),
            team_id=team_id or None,
            slack_user_id=user_id,
            marketplace_user_id=actor.marketplace_id
            if isinstance(actor, Actor)
            else actor.marketplace_user_id,
            request_id=request_id,
            verdict=verdict,
            outcome=code,
            detail={"at": at},
        )

    async def _vouch(self, link: LinkedAccount) -> Sentence | None:
        return await self._identity.vouch(link) if self._identity is not None else None

    async def _tell(self, user_id: str, channel: str | None, sentence: Sentence) -> None:
        await self._replies.tell(user_id=user_id, channel=channel, sentence=sentence)

    async def _sync_quietly(self, request_id: str) -> None:
        try:
            await self._cards.sync_request(request_id)
        except MarketplaceError as exc:
            log.warning("sync_after_click_failed", request_id=request_id, error=type(exc).__name__)


def decided_by(step: ApprovalStep, actor: Actor) -> bool:
    """Whether the record's determination is the actor's own (the Marketplace names its true actor)."""
    by: Person | None = step.decided_by
    if by is None:
        return False
    return by.marketplace_id == actor.marketplace_id or (bool(by.username) and by.username == actor.username)


def _already_decided(step: ApprovalStep) -> Sentence:
    return sentences.already_decided(
        step.status.value.lower(), step.decided_by.name if step.decided_by else None
    )


def as_decision(step: ApprovalStep, claim: DecisionClaim) -> Decision:
    """What an earlier attempt sent, as far as the record shows it (its form is gone with the crash)."""
    if step.status is RecordStatus.APPROVED:
        return Decision(Verdict.APPROVE, step.reason, step.duration)
    if step.status is RecordStatus.DENIED:
        return Decision(Verdict.DENY, step.reason)
    return Decision(claim.verdict, step.reason)
