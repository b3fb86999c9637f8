"""Reconciliation: every card made true to the Marketplace, whatever webhooks were lost.

A webhook is only a hint, and the vendor does not redeliver a failed one; so every few minutes the
app asks the Marketplace what changed: its request listing, newest `updatedAt` first, down to where
the last pass got to (`repo.cursors`, shared by replicas). Only requests whose listing differs from
what their card last showed are read again (a read is several calls; a page of the listing is one),
so a quiet pass costs one page however many cards there are, and an approved card whose grant was
revoked or expired, or a request canceled while its webhook was lost, is corrected on the next pass.

- What a card last showed is its request's version (status, `updatedAt`), recorded by `SeenVersions`
  whichever path showed it (webhook, click, reconciliation): a change the webhook already brought
  costs the next pass nothing.
- The cursor stops `overlap` short of the newest change seen, for the Marketplace's clocks and for
  changes committed out of order or in the same instant; the overlap is re-listed, not re-read.
  A request that could not be shown holds the cursor back (for at most `hold_limit`), so it is
  tried again; a listing that fails part-way does not move the cursor at all.
- The first pass (no cursor yet) walks the whole listing: it posts missing cards for pending
  requests, re-reads every card whose request says something else, and also reads the cards not
  settled for good that the listing did not return.
- Once per `sweep_every` (an hour; one replica wins it) a slow sweep walks the pending listing (a
  call per page) and reads the cards shown as PENDING that it no longer returns (the account lost
  visibility, or the request is gone: a 404 is handled as it always was) and the pending requests
  it returns without a card. It also reads a share of the pending cards nothing has shown for
  `refresh_after` (a day), longest unseen first, sized so every pending card is read once a day:
  the Marketplace may not move a request's `updatedAt` when one stage of several is decided, so a
  lost webhook for that is corrected within a day (at once by any click or later webhook).
  Approved cards are followed through the listing only: a revoke or an expiry moves `updatedAt`.
- Requests that have no card and are not pending are nobody's business here: they were settled
  before the app saw them. Cards waiting for a failing channel are left to `retry_waiting`.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Final

import structlog

from marketplace_slack.domain import AccessRequest, RequestStatus
from marketplace_slack.infra.clock import Clock
from marketplace_slack.marketplace.errors import MarketplaceError
from marketplace_slack.store.cursors import Cursor
from marketplace_slack.store.repository import Repository
from marketplace_slack.workflow.cards import CardKeeper
from marketplace_slack.workflow.ports import Gateway

log = structlog.get_logger(__name__)

CURSOR: Final = "access_requests"
OVERLAP: Final = timedelta(minutes=2)
SWEEP_EVERY: Final = timedelta(hours=1)
REFRESH_AFTER: Final = timedelta(days=1)
HOLD_LIMIT: Final = timedelta(days=1)
# Card statuses that can still change (approved access can be revoked or expire; statuses the app
# does not know, it cannot call final); the others are settled for good.
UNSETTLED: Final = (RequestStatus.PENDING.value, RequestStatus.APPROVED.value, RequestStatus.OTHER.value)


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    checked: int  # requests read again and shown
    failed: int  # of those, the ones that could not be (plus a listing that failed part-way)
    listed: int = 0  # entries of the change listing read
    full: bool = False  # the first pass: the whole listing
    swept: int = 0  # of `checked`, those the slow sweep read


class SeenVersions:
    """Told about each request a card has just shown: remembers which version that was."""

    def __init__(self, store: Repository, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def request_seen(self, request: AccessRequest) -> None:
        if request.updated_at is None:
            return
        await self._store.cursors.seen(
            request.id, request.status.value, request.updated_at, now=self._clock.now()
        )


class Reconciler:
    def __init__(
        self,
        *,
        keeper: CardKeeper,
        store: Repository,
        gateway: Gateway,
        clock: Clock,
        concurrency: int = 8,
        claim_lease: timedelta = timedelta(seconds=120),
        overlap: timedelta = OVERLAP,
        sweep_every: timedelta = SWEEP_EVERY,
        refresh_after: timedelta = REFRESH_AFTER,
        hold_limit: timedelta = HOLD_LIMIT,
    ) -> None:
        self._keeper = keeper
        self._store = store
        self._gateway = gateway
        self._clock = clock
        self._concurrency = concurrency
        self._overlap = overlap
        self._sweep_every = sweep_every
        self._refresh_after = max(refresh_after, sweep_every)
        self._hold_limit = hold_limit
        self._lease = claim_lease

    async def run(self) -> ReconcileReport:
        """One pass: read again what changed since the last one, and show it."""
        now = self._clock.now()
        cursor = await self._store.cursors.get(CURSOR)
        since = cursor.since if cursor is not None else None
        full = since is None
        # Cards waiting for a failing channel are `retry_waiting`'s, on its backoff: a reconcile every
        # few minutes must not hammer a channel that refuses them.
        held = set(await self._store.channels.held(now=now))

        listing: dict[str, tuple[RequestStatus, datetime]] = {}
        complete = True
        try:
            async for request_id, status, updated_at in self._gateway.request_changes(since=since):
                # A page shift repeats an entry; the first one seen is the newer.
                listing.setdefault(request_id, (status, updated_at))
        except MarketplaceError as exc:
            complete = False
            log.warning("reconcile_listing_failed", error=type(exc).__name__, listed=len(listing))

        due = await self._changed(listing, now)
        swept: list[str] = []
        if full:
            # The first pass reads every card anyway: it starts the sweep's clock.
            await self._store.cursors.claim_sweep(CURSOR, now=now, every=self._sweep_every)
            if complete:
                unlisted = await self._store.cards.request_ids(statuses=UNSETTLED)
                swept = [i for i in unlisted if i not in listing]
        elif self._sweep_due(cursor, now) and await self._store.cursors.claim_sweep(
            CURSOR, now=now, every=self._sweep_every
        ):
            swept = [i for i in await self._sweep(now) if i not in due]
        # A thread reply or DM nobody could confirm is looked for (and sent if missing) after its lease,
        # even when nothing else about its request changed.
        unsent = await self._store.marks.unsent_requests(now=now, lease=self._lease)
        ids = [i for i in dict.fromkeys([*due, *swept, *unsent]) if i not in held]
        failures = await self._sync_all(ids)

        if complete and listing:
            await self._advance(listing, failures, now)
        report = ReconcileReport(
            checked=len(ids),
            failed=len(failures) + (0 if complete else 1),
            listed=len(listing),
            full=full,
            swept=len([i for i in ids if i not in due]),
        )
        log.info("reconciled", **asdict(report))
        return report

    async def _sweep(self, now: datetime) -> list[str]:
        """What the slow sweep reads: pending cards the pending listing no longer returns, pending
        requests it returns without a card, and a share of the pending cards longest unseen."""
        pending: set[str] = set()
        try:
            async for request_id in self._gateway.pending_request_ids():
                pending.add(request_id)
        except MarketplaceError as exc:
            log.warning("reconcile_sweep_listing_failed", error=type(exc).__name__)
            pending = set()
            listed = False
        else:
            listed = True
        shown = await self._store.cards.request_ids(statuses=[RequestStatus.PENDING.value])
        unlisted = [i for i in shown if i not in pending] if listed else []
        known = await self._store.cursors.known(pending)
        uncarded = [i for i in pending if i not in known or known[i].card_status is None]
        # Every pending card read again once per `refresh_after`, spread over the sweeps of that time.
        share = math.ceil(len(shown) * (self._sweep_every / self._refresh_after))
        stale = await self._store.cursors.unseen_cards(
            [RequestStatus.PENDING.value], seen_before=now - self._refresh_after, limit=share
        )
        return list(dict.fromkeys([*unlisted, *uncarded, *stale]))

    def _sweep_due(self, cursor: Cursor | None, now: datetime) -> bool:
        # Read first: most passes are not due, and claiming takes the (SQLite) write lock.
        return cursor is None or cursor.swept_at is None or cursor.swept_at <= now - self._sweep_every

    async def _changed(self, listing: dict[str, tuple[RequestStatus, datetime]], now: datetime) -> list[str]:
        """The listed requests whose card does not show what the listing says (or, pending, has none)."""
        known = await self._store.cursors.known(listing)
        due: list[str] = []
        adopted: list[tuple[str, str, datetime]] = []
        for request_id, (status, updated_at) in listing.items():
            k = known.get(request_id)
            if k is None or k.card_status is None:
                if status is RequestStatus.PENDING:
                    due.append(request_id)  # its card is missing: a lost "created", or a failed post
                continue  # settled before the app saw it: there is nothing to review
            if k.status == status.value and k.updated_at == updated_at and k.card_status == status.value:
                # The card shows this version already. A version seen but not shown (the card could
                # not be updated: gone, its channel refusing it) leaves the card's own status behind.
                continue
            if k.status is None and k.card_status == status.value and status is not RequestStatus.PENDING:
                # A card from before versions were kept, showing this outcome already: adopt it.
                adopted.append((request_id, status.value, updated_at))
                continue
            due.append(request_id)
        await self._store.cursors.seen_all(adopted, now=now)
        return due

    async def _sync_all(self, ids: list[str]) -> set[str]:
        """Show each request; the ids that could not be shown."""
        gate = asyncio.Semaphore(self._concurrency)
        failures: set[str] = set()

        async def one(request_id: str) -> None:
            async with gate:
                try:
                    await self._keeper.sync_request(request_id)
                except MarketplaceError as exc:
                    failures.add(request_id)
                    log.warning("reconcile_failed", request_id=request_id, error=type(exc).__name__)
                except Exception:  # one request's trouble (Slack, say) never stops the others
                    failures.add(request_id)
                    log.exception("reconcile_failed", request_id=request_id)

        await asyncio.gather(*(one(i) for i in ids))
        return failures

    async def _advance(
        self, listing: dict[str, tuple[RequestStatus, datetime]], failures: set[str], now: datetime
    ) -> None:
        newest = max(updated_at for _, updated_at in listing.values())
        since = newest - self._overlap
        held_back = [listing[i][1] for i in failures if i in listing]
        if held_back:
            # Listed again next time, so tried again; but one request failing for ever must not make
            # every pass re-list everything after it.
            since = max(min(since, *held_back), newest - self._hold_limit)
        await self._store.cursors.advance(CURSOR, since, now=now)
