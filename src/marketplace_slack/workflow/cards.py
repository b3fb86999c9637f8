"""Request cards kept true to the Marketplace: notifications in, reconciliation, thread replies, the DM.

The Marketplace is always the truth: a card is re-rendered from freshly read state after anything
happens, and every step that could be repeated (a webhook retry, a second replica posting the same
card, a thread reply) is guarded by a unique key in the store.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

import structlog

from marketplace_slack.domain import (
    AccessRequest,
    ApprovalStep,
    CardState,
    InProgress,
    RecordStatus,
    RequestStatus,
)
from marketplace_slack.infra.clock import Clock
from marketplace_slack.infra.tasks import KeyedLocks
from marketplace_slack.marketplace.errors import MarketplaceError, NotFoundError
from marketplace_slack.marketplace.webhooks import Notification
from marketplace_slack.store.repository import Repository
from marketplace_slack.workflow.ports import Cards, Directory, Gateway, MessageRef, Notices
from marketplace_slack.workflow.routing import Router

log = structlog.get_logger(__name__)

# Steps whose determination earns a thread reply, and request outcomes that earn the requester a DM.
_ANNOUNCED_STEPS = frozenset({RecordStatus.APPROVED, RecordStatus.DENIED})
_REQUESTER_OUTCOMES = frozenset({RequestStatus.APPROVED, RequestStatus.DENIED})


class RequestObserver(Protocol):
    """Told about each request the workflow has just shown (reminders, digests, expiry notices)."""

    async def request_seen(self, request: AccessRequest) -> None: ...


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    checked: int
    failed: int


class CardKeeper:
    def __init__(
        self,
        *,
        store: Repository,
        gateway: Gateway,
        cards: Cards,
        notices: Notices,
        directory: Directory,
        router: Router,
        clock: Clock,
        owner: str,
        locks: KeyedLocks,
        claim_lease: timedelta,
        reconcile_concurrency: int = 8,
        observers: Sequence[RequestObserver] = (),
    ) -> None:
        self._store = store
        self._gateway = gateway
        self._cards = cards
        self._notices = notices
        self._directory = directory
        self._router = router
        self._clock = clock
        self._owner = owner  # names this process in claims, so a dead replica's claims can be taken over
        self._locks = locks  # one per request, shared with the decisions so a card is shown in order
        self._lease = claim_lease
        self._reconcile_concurrency = reconcile_concurrency
        self._observers = tuple(observers)

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
                request = await self.load(request_id)
            except NotFoundError:
                log.info("request_not_found", request_id=request_id)
                return
            await self.show(request)
            await self.observe(request)

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

    async def load(self, request_id: str) -> AccessRequest:
        """The request as a card shows it: with its people found in Slack."""
        return await self._gateway.load(request_id, find_people=self._slack_ids)

    async def show(
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
                ref = await self._cards.post_request(channel, state)
            except BaseException:
                await self._store.cards.release(request.id, self._owner)
                raise
            recorded = await self._store.cards.posted(
                request.id, ref.channel, ref.ts, fingerprint=fingerprint, status=request.status.value, now=now
            )
            if not recorded:
                # Our claim lapsed mid-post and another worker's card won: take ours back.
                log.warning("duplicate_card_retracted", request_id=request.id)
                await self._cards.retract(ref)
                return
            # Steps decided before the card existed are on the card already; they need no thread reply.
            for step in request.steps:
                if step.status in _ANNOUNCED_STEPS:
                    await self._store.marks.claim(_step_key(step), now=now)
            return
        ref = MessageRef(card.channel, card.ts)
        if card.fingerprint != fingerprint:
            await self._cards.update_request(ref, state)
            await self._store.cards.update_render(
                request.id, fingerprint=fingerprint, status=request.status.value, now=now
            )
        if in_progress is None:
            await self._announce(ref, request)

    async def observe(self, request: AccessRequest) -> None:
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
                        await self._cards.announce_step(ref, request, step)
        requester = request.requester.slack_user_id
        if request.status in _REQUESTER_OUTCOMES and requester:
            async with self._store.once(f"dm:{request.id}:{request.status.value}", now=now) as won:
                if won:
                    await self._notices.notify_requester(requester, request)

    async def _slack_ids(self, emails: list[str]) -> dict[str, str | None]:
        """Slack user ids for Marketplace emails (keys casefolded), looked up concurrently."""
        unique = {e.casefold(): e for e in emails if e}
        found = await asyncio.gather(*(self._directory.slack_id_for_email(e) for e in unique.values()))
        return dict(zip(unique, found, strict=True))


def _step_key(step: ApprovalStep) -> str:
    return f"step:{step.id}:{step.status.value}"


def _fingerprint(state: CardState) -> str:
    # Dataclass reprs are deterministic for the same state, which is all a "did it change?" check needs.
    return hashlib.sha256(repr(state).encode()).hexdigest()
