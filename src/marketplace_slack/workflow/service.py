"""The workflow: notifications in, cards out, decisions, and linking stewards' accounts.

Everything here is policy; how a card looks and how Slack is called live behind `ports.Messenger`.
The Marketplace is always the truth: a card is re-rendered from freshly read state after anything
happens, and every step that could be repeated (a webhook retry, a double click, a second replica) is
guarded by a unique key in the store.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

import structlog
from pydantic import SecretStr

from marketplace_slack.domain import (
    AccessRequest,
    Actor,
    ApprovalStep,
    CardState,
    Decision,
    InProgress,
    RecordStatus,
    RequestStatus,
    Verdict,
    eligibility,
)
from marketplace_slack.infra.clock import Clock
from marketplace_slack.infra.tasks import KeyedLocks
from marketplace_slack.infra.vault import VaultError
from marketplace_slack.marketplace.errors import (
    ConflictError,
    ForbiddenError,
    MarketplaceError,
    NotFoundError,
    UnauthorizedError,
)
from marketplace_slack.marketplace.webhooks import Notification
from marketplace_slack.store.records import LinkedAccount
from marketplace_slack.store.repository import Repository
from marketplace_slack.workflow.ports import Directory, MessageRef, Messenger
from marketplace_slack.workflow.routing import Router

log = structlog.get_logger(__name__)

# Steps whose determination earns a thread reply, and request outcomes that earn the requester a DM.
_ANNOUNCED_STEPS = frozenset({RecordStatus.APPROVED, RecordStatus.DENIED})
_REQUESTER_OUTCOMES = frozenset({RequestStatus.APPROVED, RequestStatus.DENIED})

UNAVAILABLE = (
    "The Marketplace is not answering right now, so nothing was recorded. Please try again in a minute."
)


class Gateway(Protocol):
    """The Marketplace as the workflow sees it: domain objects in and out (see `gateway.py`)."""

    async def load(
        self,
        request_id: str,
        *,
        enrich: bool = True,
        find_people: Callable[[list[str]], Awaitable[Mapping[str, str | None]]] | None = None,
    ) -> AccessRequest: ...

    async def whoami(self, token: SecretStr) -> Actor: ...

    async def decide(self, token: SecretStr, step_id: str, decision: Decision) -> None: ...

    def pending_request_ids(self) -> AsyncIterator[str]:
        """Ids of the PENDING requests the app's own account can manage."""
        ...


class RequestObserver(Protocol):
    """Told about each request the workflow has just shown (reminders, digests, expiry notices)."""

    async def request_seen(self, request: AccessRequest) -> None: ...


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    checked: int
    failed: int


class Workflow:
    def __init__(
        self,
        *,
        store: Repository,
        gateway: Gateway,
        messenger: Messenger,
        directory: Directory,
        router: Router,
        clock: Clock,
        owner: str,
        claim_lease: timedelta = timedelta(seconds=120),
        actor_ttl: timedelta = timedelta(minutes=5),
        reconcile_concurrency: int = 8,
        observers: Sequence[RequestObserver] = (),
    ) -> None:
        self._store = store
        self._gateway = gateway
        self._messenger = messenger
        self._directory = directory
        self._router = router
        self._clock = clock
        self._owner = owner  # names this process in claims, so a dead replica's claims can be taken over
        self._lease = claim_lease
        self._actor_ttl = actor_ttl
        self._reconcile_concurrency = reconcile_concurrency
        self._observers = tuple(observers)
        self._locks = KeyedLocks()
        self._actors: dict[str, tuple[Actor, float]] = {}

    # --- notifications and reconciliation ------------------------------------------------------

    async def on_notification(self, note: Notification) -> None:
        """A webhook delivery: a hint to re-read one request. Repeated deliveries do nothing."""
        now = self._clock.now()
        if note.delivery_id and not await self._store.deliveries.mark(
            note.delivery_id, note.event_type, now=now
        ):
            log.info("webhook_duplicate", delivery_id=note.delivery_id, event_type=note.event_type)
            return
        if not note.is_request_event or not note.access_request_id:
            log.info("webhook_ignored", event_type=note.event_type, delivery_id=note.delivery_id)
            return
        await self.sync_request(note.access_request_id)

    async def sync_request(self, request_id: str) -> None:
        """Make the request's card, thread and requester DM true to the Marketplace now."""
        async with self._locks(request_id):
            try:
                request = await self._load(request_id)
            except NotFoundError:
                log.info("request_not_found", request_id=request_id)
                return
            await self._show(request)
            await self._observe(request)

    async def reconcile(self) -> ReconcileReport:
        """Post missing cards and refresh changed ones, so a lost webhook delays a card but never loses it."""
        ids: list[str] = []
        async for request_id in self._gateway.pending_request_ids():
            ids.append(request_id)
        seen = set(ids)
        for card in await self._store.cards.list(statuses=[RequestStatus.PENDING.value]):
            if card.request_id not in seen:  # it was pending on the card and is no longer: it changed
                ids.append(card.request_id)
        gate = asyncio.Semaphore(self._reconcile_concurrency)
        failed = 0

        async def one(request_id: str) -> None:
            nonlocal failed
            async with gate:
                try:
                    await self.sync_request(request_id)
                except MarketplaceError as exc:
                    failed += 1
                    log.warning("reconcile_failed", request_id=request_id, error=type(exc).__name__)

        await asyncio.gather(*(one(i) for i in ids))
        log.info("reconciled", checked=len(ids), failed=failed)
        return ReconcileReport(checked=len(ids), failed=failed)

    # --- decisions ------------------------------------------------------------------------------

    async def start_decision(
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
        """A click on Approve or Deny: check who may decide now, then open the form (or say why not)."""
        link = await self._linked(team_id, user_id)
        if link is None:
            await self._messenger.prompt_link(
                user_id=user_id,
                channel=channel,
                text="Link your Marketplace account first, so decisions are made in your name.",
            )
            return
        try:
            actor = await self._actor(user_id, link.token)
            request = await self._gateway.load(request_id, enrich=False)
        except UnauthorizedError:
            await self._relink(team_id, user_id, channel)
            return
        except NotFoundError:
            await self._messenger.tell(
                user_id=user_id, channel=channel, text="This request no longer exists in the Marketplace."
            )
            return
        except MarketplaceError:
            await self._messenger.tell(user_id=user_id, channel=channel, text=UNAVAILABLE)
            return
        verdict_check = eligibility(request, actor)
        if verdict_check.refusal is not None:
            await self._messenger.tell(user_id=user_id, channel=channel, text=verdict_check.refusal.message)
            return
        context = json.dumps({"r": request_id, "c": channel, "t": message_ts})
        await self._messenger.open_decision_form(
            trigger_id, request, verdict, initial_duration=duration_choice, context=context
        )

    async def submit_decision(
        self,
        *,
        team_id: str,
        user_id: str,
        request_id: str,
        decision: Decision,
        channel: str | None,
    ) -> None:
        """A submitted Approve/Deny form: record the steward's determination with their own token."""
        link = await self._linked(team_id, user_id)
        if link is None:
            await self._messenger.prompt_link(
                user_id=user_id, channel=channel, text="Link your Marketplace account first."
            )
            return
        async with self._locks(request_id):
            try:
                actor = await self._actor(user_id, link.token)
                request = await self._load(request_id)
            except UnauthorizedError:
                await self._relink(team_id, user_id, channel)
                return
            except MarketplaceError:
                await self._messenger.tell(user_id=user_id, channel=channel, text=UNAVAILABLE)
                return
            check = eligibility(request, actor)
            if check.refusal is not None:
                await self._messenger.tell(user_id=user_id, channel=channel, text=check.refusal.message)
                await self._show(request)
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
                    await self._messenger.tell(
                        user_id=user_id,
                        channel=channel,
                        text="Your decision on this request is already being recorded.",
                    )
                else:
                    await self._messenger.tell(
                        user_id=user_id,
                        channel=channel,
                        text=f"<@{claim.holder}> is deciding this step right now.",
                    )
            if not claimed:
                return
            await self._show(request, in_progress=InProgress(decision.verdict, user_id))
            outcome_notice = await self._send_decisions(
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
                request = await self._load(request_id)
            except MarketplaceError:
                # The decision may or may not be recorded; reconciliation will make the card true.
                log.warning("reload_after_decision_failed", request_id=request_id)
                return
            await self._show(request, notice=outcome_notice)
            await self._observe(request)

    async def _send_decisions(
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
    ) -> str | None:
        """PUT each claimed record; tell the steward what went wrong, if anything. Returns a card notice."""
        notice: str | None = None
        for step in steps:
            outcome, message = "ok", None
            try:
                await self._gateway.decide(token, step.id, decision)
            except ConflictError:
                outcome = "conflict"
                fresh = await self._load_quietly(request.id)
                decided = next((s for s in (fresh.steps if fresh else ()) if s.id == step.id), None)
                who = decided.decided_by.name if decided and decided.decided_by else "someone else"
                state = decided.status.value.lower() if decided else "decided"
                message = f"This step was already {state} by {who}."
            except ForbiddenError as exc:
                outcome, message = "forbidden", f"The Marketplace did not accept your decision: {exc.message}"
            except UnauthorizedError:
                outcome = "unauthorized"
                await self._relink(team_id, user_id, channel)
            except MarketplaceError as exc:
                outcome, message = "unavailable", UNAVAILABLE
                notice = "The last decision could not be recorded; the Marketplace did not answer."
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
                error=message,
                at=now,
            )
            log.info(
                "decision",
                request_id=request.id,
                step_id=step.id,
                verdict=decision.verdict.value,
                outcome=outcome,
            )
            if message:
                await self._messenger.tell(user_id=user_id, channel=channel, text=message)
        return notice

    # --- linking --------------------------------------------------------------------------------

    async def start_link(self, *, trigger_id: str, channel: str | None) -> None:
        await self._messenger.open_link_form(trigger_id, context=json.dumps({"c": channel}))

    async def complete_link(
        self, *, team_id: str, user_id: str, token: SecretStr, channel: str | None
    ) -> None:
        """Check a pasted token against the Marketplace and the Slack user's email, then keep it encrypted."""
        try:
            actor = await self._gateway.whoami(token)
        except UnauthorizedError:
            await self._messenger.tell(
                user_id=user_id, channel=channel, text="The Marketplace did not accept that token."
            )
            return
        except MarketplaceError:
            await self._messenger.tell(user_id=user_id, channel=channel, text=UNAVAILABLE)
            return
        slack_email = await self._directory.email_of(user_id)
        if not slack_email or not actor.email or slack_email.casefold() != actor.email.casefold():
            await self._messenger.tell(
                user_id=user_id,
                channel=channel,
                text=(
                    "That token belongs to a Marketplace user whose email is not the one on your Slack "
                    "profile, so it was not linked."
                ),
            )
            return
        await self._store.links.save(
            team_id=team_id,
            user_id=user_id,
            marketplace_user_id=actor.marketplace_id,
            marketplace_username=actor.username,
            email=actor.email,
            token=token,
            now=self._clock.now(),
        )
        self._actors.pop(user_id, None)
        await self._messenger.tell(
            user_id=user_id,
            channel=channel,
            text=f"Linked to the Marketplace as {actor.username}. Decisions you make here are in your name.",
        )

    async def unlink(self, *, team_id: str, user_id: str, channel: str | None) -> None:
        removed = await self._store.links.delete(team_id, user_id)
        self._actors.pop(user_id, None)
        text = (
            "Your Marketplace account is unlinked and its token deleted."
            if removed
            else "No Marketplace account was linked."
        )
        await self._messenger.tell(user_id=user_id, channel=channel, text=text)

    async def forget_workspace(self, team_id: str) -> None:
        """The app was uninstalled (or its tokens revoked): delete the stewards' Marketplace tokens."""
        removed = await self._store.links.delete_team(team_id)
        self._actors.clear()
        log.info("workspace_forgotten", team_id=team_id, links_deleted=removed)

    async def _linked(self, team_id: str, user_id: str) -> LinkedAccount | None:
        """The steward's link, or None; a token no configured key can decrypt counts as unlinked."""
        try:
            return await self._store.links.get(team_id, user_id)
        except VaultError:
            log.warning("linked_token_undecryptable", user_id=user_id)
            await self._store.links.delete(team_id, user_id)
            return None

    async def _relink(self, team_id: str, user_id: str, channel: str | None) -> None:
        await self._store.links.delete(team_id, user_id)
        self._actors.pop(user_id, None)
        await self._messenger.prompt_link(
            user_id=user_id,
            channel=channel,
            text="The Marketplace no longer accepts your linked token; please link your account again.",
        )

    # --- state and cards ------------------------------------------------------------------------

    async def _actor(self, user_id: str, token: SecretStr) -> Actor:
        """The steward's Marketplace identity, cached briefly: the Marketplace re-checks every PUT anyway."""
        loop_now = asyncio.get_running_loop().time()
        cached = self._actors.get(user_id)
        if cached and cached[1] > loop_now:
            return cached[0]
        actor = await self._gateway.whoami(token)
        self._actors[user_id] = (actor, loop_now + self._actor_ttl.total_seconds())
        return actor

    async def _load(self, request_id: str) -> AccessRequest:
        return await self._gateway.load(request_id, find_people=self._slack_ids)

    async def _load_quietly(self, request_id: str) -> AccessRequest | None:
        try:
            return await self._gateway.load(request_id, enrich=False)
        except MarketplaceError:
            return None

    async def _slack_ids(self, emails: list[str]) -> dict[str, str | None]:
        """Slack user ids for Marketplace emails (keys casefolded), looked up concurrently."""
        unique = {e.casefold(): e for e in emails if e}
        found = await asyncio.gather(*(self._directory.slack_id_for_email(e) for e in unique.values()))
        return dict(zip(unique, found, strict=True))

    async def _show(
        self, request: AccessRequest, *, in_progress: InProgress | None = None, notice: str | None = None
    ) -> None:
        """Post or update the card for `request`, then the thread replies and DM it has earned."""
        state = CardState(request, in_progress=in_progress, notice=notice)
        fingerprint = _fingerprint(state)
        now = self._clock.now()
        card = await self._store.cards.get(request.id)
        if card is None or card.ts is None:
            if request.status is not RequestStatus.PENDING:
                return  # settled before we ever saw it (auto-approved, canceled at once): nothing to review
            channel = self._router.channel_for(
                product_id=request.product_id, product_name=request.product_name, domain_id=request.domain_id
            )
            if not await self._store.cards.claim(
                request.id, channel, owner=self._owner, now=now, lease=self._lease
            ):
                return  # another worker is posting this card right now
            try:
                ref = await self._messenger.post_request(channel, state)
            except BaseException:
                await self._store.cards.release(request.id, self._owner)
                raise
            recorded = await self._store.cards.posted(
                request.id, ref.channel, ref.ts, fingerprint=fingerprint, status=request.status.value, now=now
            )
            if not recorded:
                # Our claim lapsed mid-post and another worker's card won: take ours back.
                log.warning("duplicate_card_retracted", request_id=request.id)
                await self._messenger.retract(ref)
                return
            # Steps decided before the card existed are on the card already; they need no thread reply.
            for step in request.steps:
                if step.status in _ANNOUNCED_STEPS:
                    await self._store.marks.claim(_step_key(step), now=now)
            return
        ref = MessageRef(card.channel, card.ts)
        if card.fingerprint != fingerprint:
            await self._messenger.update_request(ref, state)
            await self._store.cards.update_render(
                request.id, fingerprint=fingerprint, status=request.status.value, now=now
            )
        if in_progress is None:
            await self._announce(ref, request)

    async def _observe(self, request: AccessRequest) -> None:
        # After the card: a reminder or digest may link to it. The state is the one just shown, so
        # whatever path brought the news (webhook, Slack, reconciliation) stops reminders at once.
        await asyncio.gather(*(observer.request_seen(request) for observer in self._observers))

    async def _announce(self, ref: MessageRef, request: AccessRequest) -> None:
        """Thread replies for newly decided steps and the requester's DM, each exactly once."""
        now = self._clock.now()
        for step in request.steps:
            if step.status in _ANNOUNCED_STEPS:
                async with self._store.once(_step_key(step), now=now) as won:
                    if won:
                        await self._messenger.announce_step(ref, request, step)
        requester = request.requester.slack_user_id
        if request.status in _REQUESTER_OUTCOMES and requester:
            async with self._store.once(f"dm:{request.id}:{request.status.value}", now=now) as won:
                if won:
                    await self._messenger.notify_requester(requester, request)


def _step_key(step: ApprovalStep) -> str:
    return f"step:{step.id}:{step.status.value}"


def _fingerprint(state: CardState) -> str:
    # Dataclass reprs are deterministic for the same state, which is all a "did it change?" check needs.
    return hashlib.sha256(repr(state).encode()).hexdigest()
