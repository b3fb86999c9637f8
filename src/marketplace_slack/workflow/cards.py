"""Request cards kept true to the Marketplace: notifications in, thread replies, the DM.

The Marketplace is always the truth: a card is re-rendered from freshly read state after anything
happens, and every step that could be repeated (a webhook retry, a second replica posting the same
card, a thread reply) is guarded by a unique key in the store.

A channel that refuses a card (the bot is not in a private channel, it is archived...) holds nothing
up: the failure is recorded (`repo.channels`), logged, counted and told once to the channel's owner,
the request waits for the channel, and `retry_waiting` tries again with backoff until the card is
posted. A card that can no longer be updated (deleted, its channel archived) is posted again; the
thread replies and the requester's DM never wait for the card.

A post whose outcome nobody knows (`DeliveryUnknown`: its answer was lost and the history could not
tell) keeps its card claim or once-mark held: the message is late, never doubled. After the lease
(or at once, for a claim left by an earlier life of this instance) the next show takes it over and
the messenger looks for the message before posting (`look_first`). A second card that exists anyway
(a claimer that outlived its lease) is retired: made true, without buttons, pointing to the live one.

Each posted card keeps its snapshot, the request as it last showed it (`repo.cards.snapshot`), so a
decision reads only the request's records before its PUT and shows the card from the snapshot and
the PUT's answer (`current`, `after_decision`) instead of reading the whole request again.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Final, Protocol

import structlog
from pydantic import TypeAdapter, ValidationError

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
from marketplace_slack.workflow import sentences
from marketplace_slack.workflow.ports import (
    Cards,
    ChannelUnavailable,
    DeliveryUnknown,
    Directory,
    Gateway,
    MessageGone,
    MessageRef,
    Notices,
    dm_key,
    filed_key,
    filer_dm_key,
    step_key,
)
from marketplace_slack.workflow.routing import Router

log = structlog.get_logger(__name__)

# Steps whose determination earns a thread reply, and request outcomes that earn the requester a DM.
_ANNOUNCED_STEPS = frozenset({RecordStatus.APPROVED, RecordStatus.DENIED})
# How a request ended, as the people it is for (and whoever filed it for them) are told in a DM.
_REQUESTER_OUTCOMES = frozenset(
    {
        RequestStatus.APPROVED,
        RequestStatus.DENIED,
        RequestStatus.CANCELED,
        RequestStatus.REVOKED,
        RequestStatus.EXPIRED,
    }
)

# A failing channel is tried again a minute after it refused, then after twice as long each time, at
# most hourly: soon enough that a card follows an invitation quickly, rare enough not to pester Slack.
RETRY_FIRST: Final = timedelta(minutes=1)
RETRY_LONGEST: Final = timedelta(hours=1)
# Webhooks read at once: a burst of a thousand otherwise queues a thousand reads on the store's
# connection pool (past its timeout, losing the webhook) and the Marketplace; the cards wait for
# their turn in the channel after the reads, outside this bound.
INTAKE: Final = 16
# A card's snapshot is its request as JSON; one written by an older version that no longer reads is
# no snapshot at all (the request is read instead).
_SNAPSHOT: Final = TypeAdapter(AccessRequest)


class RequestObserver(Protocol):
    """Told about each request the workflow has just shown (reminders, digests, expiry notices)."""

    async def request_seen(self, request: AccessRequest) -> None: ...


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
        observers: Sequence[RequestObserver] = (),
        on_channel_failure: Callable[[str, str], None] | None = None,
        intake: int = INTAKE,
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
        self._observers = tuple(observers)
        self._on_channel_failure = on_channel_failure  # (channel, reason): the app's metric
        self._intake = asyncio.Semaphore(intake)

    async def on_notification(self, note: Notification) -> None:
        """A webhook delivery: a hint to re-read one request. Repeated deliveries do nothing."""
        async with self._intake:
            now = self._clock.now()
            if note.delivery_id and not await self._store.deliveries.mark(
                note.delivery_id, note.event_type, now=now
            ):
                log.info("webhook_duplicate", delivery_id=note.delivery_id, event_type=note.event_type)
                return
        if not note.is_request_event or not note.access_request_id:
            log.info("webhook_ignored", event_type=note.event_type, delivery_id=note.delivery_id)
            return
        await self.sync_request(note.access_request_id, gate=self._intake)

    async def sync_request(self, request_id: str, *, gate: asyncio.Semaphore | None = None) -> None:
        """Make the request's card, thread and requester DM true to the Marketplace now. `gate` bounds
        the reads in flight (a burst of webhooks), not the wait for the card's turn in its channel."""
        async with self._locks(request_id):
            try:
                async with gate or contextlib.nullcontext():
                    request = await self.load(request_id)
            except NotFoundError:
                log.info("request_not_found", request_id=request_id)
                return
            await self.show(request)
            await self.observe(request)

    async def card_url(self, request_id: str) -> str | None:
        """A link to the request's card, once it is posted (for the consumer's confirmation)."""
        card = await self._store.cards.get(request_id)
        if card is None or card.ts is None:
            return None
        return await self._cards.permalink(MessageRef(card.channel, card.ts))  # None when Slack says no

    async def load(self, request_id: str) -> AccessRequest:
        """The request as a card shows it: with its people found in Slack."""
        return await self._gateway.load(request_id, find_people=self._slack_ids)

    async def current(self, request_id: str) -> AccessRequest | None:
        """The request as its card last showed it, with its approval records read now (one call);
        None when the card keeps no snapshot (not posted yet, or posted before snapshots were kept).

        For deciding: who may decide what is judged on the records as they stand; what else a card
        shows changes rarely, and the next read of the whole request brings it up to date."""
        snapshot = await self.snapshot(request_id)
        if snapshot is None:
            return None
        steps = await self._gateway.steps(request_id, find_people=self._slack_ids)
        return replace(snapshot, steps=steps)

    async def after_decision(self, request: AccessRequest, answers: Sequence[ApprovalStep]) -> AccessRequest:
        """`request` (as read before the PUT) once the Marketplace answered `answers`."""
        return await self._gateway.after_decision(request, answers, find_people=self._slack_ids)

    async def snapshot(self, request_id: str) -> AccessRequest | None:
        body = await self._store.cards.snapshot(request_id)
        if body is None:
            return None
        try:
            return _SNAPSHOT.validate_json(body)
        except ValidationError:
            log.info("card_snapshot_unreadable", request_id=request_id)
            return None

    async def show(
        self, request: AccessRequest, *, in_progress: InProgress | None = None, notice: str | None = None
    ) -> bool:
        """Post or update the card for `request`, then the thread replies and DM it has earned.

        False when the card could not go to its channel: that is recorded and retried, not raised.
        """
        state = CardState(
            request, in_progress=in_progress, notice=notice, notify_only=self.notify_only(request)
        )
        fingerprint = _fingerprint(state)
        now = self._clock.now()
        card = await self._store.cards.get(request.id)
        if card is None or card.ts is None:
            settled = request.status is not RequestStatus.PENDING
            if settled and not await self._store.channels.waits(request.id):
                # Settled before we ever saw it (auto-approved, canceled at once): nothing to review.
                # A request filed from Slack still earns its people's DMs; one filed elsewhere that
                # never had a card (history found by a first reconciliation) does not.
                if await self._store.marks.exists(filed_key(request.id)):
                    await self._tell_people(request)
                return True
            channel = self._channel_for(request)
            claim = await self._store.cards.claim(
                request.id, channel, owner=self._owner, now=now, lease=self._lease
            )
            if not claim:
                return True  # another worker is posting this card right now
            try:
                # Taken over from an owner that died: its card may be in the channel already.
                ref = await self._cards.post_request(channel, state, look_first=claim.taken_over)
            except ChannelUnavailable as refused:
                await self._store.cards.release(request.id, self._owner)
                await self._channel_failed(request.id, refused)
                return False
            except DeliveryUnknown as unknown:
                # Posted or not, nobody can tell: the claim stays held, and after its lease the next
                # show takes it over and looks first. A late card, never a doubled one.
                log.warning("card_delivery_unknown", request_id=request.id, reason=unknown.reason)
                return True
            except asyncio.CancelledError:
                # Stopped mid-post (a shutdown): the card may be in Slack. The claim stays, so whoever
                # takes it over (this instance's next life, at once) looks before posting.
                raise
            except BaseException:
                await self._store.cards.release(request.id, self._owner)
                raise
            recorded = await self._store.cards.posted(
                request.id,
                ref.channel,
                ref.ts,
                fingerprint=fingerprint,
                status=request.status.value,
                now=now,
                snapshot=_snapshot(request),
            )
            if not recorded:
                # Our claim lapsed mid-post and another worker's card won: ours is made true and inert.
                await self._retire(ref, state)
                return True
            # Steps decided before the card existed are on the card already; they need no thread reply.
            for step in request.steps:
                if step.status in _ANNOUNCED_STEPS:
                    await self._store.marks.claim(step_key(step), now=now)
            await self._store.channels.delivered(request.id, ref.channel, now=now)
            if settled and in_progress is None:
                await self._announce(ref, request)  # it settled while its card waited: the requester hears
            return True
        ref = MessageRef(card.channel, card.ts)
        shown = True
        if card.fingerprint != fingerprint:
            try:
                await self._cards.update_request(ref, state)
            except MessageGone as gone:
                log.warning("card_gone", request_id=request.id, channel=ref.channel, reason=gone.reason)
                reposted = await self._repost(request, state, fingerprint, ref, now)
                shown = reposted is not None
                ref = reposted or ref
            except ChannelUnavailable as refused:
                await self._channel_failed(request.id, refused)
                shown = False
            else:
                await self._store.cards.update_render(
                    request.id,
                    fingerprint=fingerprint,
                    status=request.status.value,
                    now=now,
                    snapshot=_snapshot(request),
                )
        if in_progress is None:
            # Whatever became of the card: the thread replies and the DM do not depend on it.
            await self._announce(ref, request)
        return shown

    async def retry_waiting(self, now: datetime | None = None) -> int:
        """Try the failing channels that are due again: show each card waiting for one, and end the
        channel's failure once none waits. Returns how many waiting cards were shown."""
        now = now or self._clock.now()
        due = await self._store.channels.claim_due(now, hold=RETRY_FIRST)

        async def one(channel: str) -> int:
            try:
                return await self._retry_channel(channel)
            except Exception:  # one bad channel never stops the others
                log.exception("channel_retry_failed", channel=channel)
                return 0

        return sum(await asyncio.gather(*(one(f.channel) for f in due)))

    async def _retry_channel(self, channel: str) -> int:
        shown = 0
        for request_id in await self._store.channels.waiting(channel):
            try:
                if not await self._retry_request(request_id):
                    log.info("channel_still_failing", channel=channel, request_id=request_id)
                    return shown  # refused again (and recorded): the rest wait for the next attempt
            except MarketplaceError as exc:  # this request cannot be read now; the others can
                log.warning("card_retry_failed", request_id=request_id, error=type(exc).__name__)
                continue
            shown += 1
        if await self._store.channels.recovered(channel):
            log.info("channel_recovered", channel=channel, shown=shown)
        return shown

    async def _retry_request(self, request_id: str) -> bool:
        async with self._locks(request_id):
            try:
                request = await self.load(request_id)
            except NotFoundError:
                log.info("card_wait_dropped", request_id=request_id, reason="request_not_found")
                await self._store.channels.done(request_id)
                return True
            if not await self.show(request):
                return False
            await self._store.channels.done(request_id)
            await self.observe(request)
            return True

    async def _repost(
        self, request: AccessRequest, state: CardState, fingerprint: str, old: MessageRef, now: datetime
    ) -> MessageRef | None:
        """Post again a card that can no longer be updated, and record its new place. None when its
        channel refuses it (recorded, and retried like any waiting card)."""
        try:
            # Always a look first: an earlier repost whose answer was lost holds no claim to tell of it.
            new = await self._cards.post_request(
                self._channel_for(request), state, look_first=True, replacing=old
            )
        except ChannelUnavailable as refused:
            await self._channel_failed(request.id, refused)
            return None
        except DeliveryUnknown as unknown:  # the next show finds the old card gone and tries again
            log.warning("card_delivery_unknown", request_id=request.id, reason=unknown.reason)
            return None
        if not await self._store.cards.moved(
            request.id,
            old=(old.channel, old.ts),
            new=(new.channel, new.ts),
            fingerprint=fingerprint,
            status=request.status.value,
            now=now,
            snapshot=_snapshot(request),
        ):
            # Another worker posted it again first: ours is made true and inert, theirs is used.
            return await self._retire(new, state)
        log.info("card_reposted", request_id=request.id, channel=new.channel, was=old.channel)
        await self._store.channels.delivered(request.id, new.channel, now=now)
        return new

    async def _retire(self, orphan: MessageRef, state: CardState) -> MessageRef | None:
        """A second card of one request never stays live: the recorded card is the live one, and the
        orphan shows the truth without buttons, pointing to it. Returns the live card."""
        log.warning("duplicate_card_retired", request_id=state.request.id, ts=orphan.ts)
        card = await self._store.cards.get(state.request.id)
        live = MessageRef(card.channel, card.ts) if card is not None and card.ts else None
        try:
            await self._cards.retire(orphan, state, live=live)
        except Exception:  # the card itself is safe; reconciliation meets the orphan again
            log.warning("duplicate_card_not_retired", request_id=state.request.id, exc_info=True)
        return live

    async def _channel_failed(self, request_id: str, refused: ChannelUnavailable) -> None:
        """Record the refusal, log and count it, and tell the channel's owner once per episode."""
        now = self._clock.now()
        channel, reason = refused.channel, refused.reason
        failure = await self._store.channels.failed(
            channel, reason, request_id, now=now, first_delay=RETRY_FIRST, longest_delay=RETRY_LONGEST
        )
        log.warning(
            "channel_unavailable",
            channel=channel,
            reason=reason,
            request_id=request_id,
            attempts=failure.attempts,
            next_attempt_at=failure.next_attempt_at.isoformat(),
        )
        if self._on_channel_failure is not None:
            self._on_channel_failure(channel, reason)
        owner = self._router.owner_for(channel)
        if owner is None or not await self._store.channels.tell_owner(channel, now=now):
            return
        try:
            await self._notices.notify_owner(owner, sentences.channel_unavailable(channel, reason))
        except Exception:  # the card is what matters; the owner is told on the next failure
            log.warning("channel_owner_not_told", channel=channel, exc_info=True)
            await self._store.channels.untell_owner(channel)
        else:
            log.info("channel_owner_told", channel=channel, owner=owner)

    def notify_only(self, request: AccessRequest) -> bool:
        """Whether `request` is decided in the Marketplace only (its route's `decisions: marketplace`)."""
        return self._router.notify_only(
            product_id=request.product_id, product_name=request.product_name, domain_id=request.domain_id
        )

    def _channel_for(self, request: AccessRequest) -> str:
        return self._router.channel_for(
            product_id=request.product_id, product_name=request.product_name, domain_id=request.domain_id
        )

    async def observe(self, request: AccessRequest) -> None:
        # After the card: a reminder or digest may link to it. The state is the one just shown, so
        # whatever path brought the news (webhook, Slack, reconciliation) stops reminders at once.
        await asyncio.gather(*(observer.request_seen(request) for observer in self._observers))

    async def _announce(self, ref: MessageRef, request: AccessRequest) -> None:
        """Thread replies for newly decided steps and the requester's DM, each exactly once."""
        # Each mark is held while its message is sent and done once it is. A failure forgets it, so
        # the message is tried again when the card is next shown; DeliveryUnknown (it may be in
        # Slack) keeps it held until its lease lapses; a mark taken over from an owner that died
        # (`mark.taken_over`) sends with a look first.
        now = self._clock.now()
        for step in request.steps:
            if step.status in _ANNOUNCED_STEPS:
                try:
                    async with self._store.once(
                        step_key(step), now=now, owner=self._owner, lease=self._lease
                    ) as mark:
                        if mark:
                            await self._cards.announce_step(ref, request, step, look_first=mark.taken_over)
                except DeliveryUnknown as unknown:  # held: late, never doubled
                    log.warning(
                        "thread_reply_unknown", request_id=request.id, step_id=step.id, reason=unknown.reason
                    )
                except Exception:  # the DM below goes out regardless
                    log.warning("thread_reply_failed", request_id=request.id, step_id=step.id, exc_info=True)
        await self._tell_people(request)

    async def _tell_people(self, request: AccessRequest) -> None:
        """The DM of how the request ended, to the person it is for and to whoever filed it for them,
        each once (a mark per person and outcome)."""
        if request.status not in _REQUESTER_OUTCOMES:
            return
        now = self._clock.now()
        people = [(request.requester.slack_user_id, dm_key(request), False)]
        if request.requested_by.marketplace_id != request.requester.marketplace_id:
            people.append((request.requested_by.slack_user_id, filer_dm_key(request), True))
        for slack_user_id, key, as_filer in people:
            if not slack_user_id:
                continue
            try:
                async with self._store.once(key, now=now, owner=self._owner, lease=self._lease) as mark:
                    if mark:
                        await self._notices.notify_requester(
                            slack_user_id, request, look_first=mark.taken_over, as_filer=as_filer
                        )
            except DeliveryUnknown as unknown:
                log.warning("requester_dm_unknown", request_id=request.id, reason=unknown.reason)

    async def _slack_ids(self, emails: list[str]) -> dict[str, str | None]:
        """Slack user ids for Marketplace emails (keys casefolded), looked up concurrently."""
        unique = {e.casefold(): e for e in emails if e}
        found = await asyncio.gather(*(self._directory.slack_id_for_email(e) for e in unique.values()))
        return dict(zip(unique, found, strict=True))


def _snapshot(request: AccessRequest) -> str:
    return _SNAPSHOT.dump_json(request).decode()


def _fingerprint(state: CardState) -> str:
    # Dataclass reprs are deterministic for the same state, which is all a "did it change?" check needs.
    return hashlib.sha256(repr(state).encode()).hexdigest()
