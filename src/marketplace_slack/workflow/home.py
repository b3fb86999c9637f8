"""App Home and "my requests": one person's requests and reviews, read with their own token.

A Home is published when its owner opens it, and again when something on it changes: a request of
theirs (as requester or filer) or one it listed as waiting on them. Refreshes are throttled per person
(`MIN_INTERVAL`): a change within it marks the Home stale, and the timekeeper's tick publishes stale
Homes whose interval has passed. Only people who opened their Home are tracked, and only in memory:
a restart forgets them, and their next visit publishes afresh.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

import structlog
from pydantic import SecretStr

from marketplace_slack.domain import AccessRequest, RequestStatus
from marketplace_slack.infra.clock import Clock
from marketplace_slack.marketplace.consumer import ConsumerGateway
from marketplace_slack.marketplace.errors import MarketplaceError, UnauthorizedError
from marketplace_slack.store.repository import Repository
from marketplace_slack.workflow import sentences
from marketplace_slack.workflow.consumer_ports import Home, HomeSnapshot
from marketplace_slack.workflow.identity import IdentityGuard
from marketplace_slack.workflow.linking import Accounts
from marketplace_slack.workflow.ports import Replies

log = structlog.get_logger(__name__)

MIN_INTERVAL: Final = timedelta(seconds=30)
RECENT: Final = timedelta(days=30)  # settled requests shown under "recent outcomes"
_OUTCOMES: Final = frozenset(
    {RequestStatus.DENIED, RequestStatus.CANCELED, RequestStatus.REVOKED, RequestStatus.EXPIRED}
)


@dataclass(slots=True)
class _Visitor:
    team_id: str
    published_at: datetime | None = None
    stale: bool = False
    shown: set[str] = field(default_factory=set)  # request ids the last Home listed


class HomeService:
    def __init__(
        self,
        *,
        accounts: Accounts,
        consumer: ConsumerGateway,
        home: Home,
        replies: Replies,
        clock: Clock,
        store: Repository,
        identity: IdentityGuard | None = None,
    ) -> None:
        self._store = store
        self._accounts = accounts
        self._consumer = consumer
        self._home = home
        self._replies = replies
        self._clock = clock
        self._identity = identity
        self._visitors: dict[str, _Visitor] = {}  # Slack user id -> what their Home last showed

    async def snapshot(self, team_id: str, user_id: str) -> HomeSnapshot:
        """What `user_id`'s Home shows now (a linked person's requests and reviews; else how to link)."""
        now = self._clock.now()
        link = await self._accounts.linked(team_id, user_id)
        if link is None:
            return HomeSnapshot(now=now)
        expires = self._accounts.lifetime.expires_at(link.linked_at)
        refused = await self._identity.vouch(link) if self._identity is not None else None
        if refused is not None:
            return HomeSnapshot(now=now, notice=refused)
        try:
            waiting, own = await self._consumer.mine(link.token)
        except UnauthorizedError:
            await self._accounts.forget(team_id, user_id)
            return HomeSnapshot(now=now, notice=sentences.RELINK_NEEDED)
        except MarketplaceError as exc:
            log.warning("home_unreadable", error=type(exc).__name__)
            return HomeSnapshot(
                now=now,
                linked_as=link.marketplace_username,
                link_expires_at=expires,
                notice=sentences.MARKETPLACE_UNREACHABLE_READ,
            )
        return HomeSnapshot(
            now=now,
            linked_as=link.marketplace_username,
            link_expires_at=expires,
            waiting_on_me=tuple(waiting),
            my_pending=tuple(r for r in own if r.status is RequestStatus.PENDING),
            my_recent=tuple(r for r in own if r.status in _OUTCOMES and now - _changed(r) <= RECENT),
            my_access=tuple(r for r in own if _active(r, now)),
        )

    async def refresh(self, team_id: str, user_id: str) -> None:
        """Publish `user_id`'s Home now (they opened it, or it went stale)."""
        snapshot = await self.snapshot(team_id, user_id)
        visitor = self._visitors.setdefault(user_id, _Visitor(team_id))
        visitor.team_id, visitor.published_at, visitor.stale = team_id, self._clock.now(), False
        visitor.shown = {r.id for part in _parts(snapshot) for r in part}
        await self._home.publish_home(user_id, snapshot)

    async def show_requests(self, team_id: str, user_id: str, channel: str | None) -> None:
        """`/marketplace requests`: the "my requests" part, only for the person who asked."""
        if await self._accounts.linked(team_id, user_id) is None:
            await self._replies.prompt_link(
                user_id=user_id, channel=channel, sentence=sentences.LINK_TO_REQUEST
            )
            return
        await self._home.show_requests(user_id, channel, await self.snapshot(team_id, user_id))

    async def cancel(self, team_id: str, user_id: str, request_id: str, channel: str | None) -> None:
        """Cancel the person's own pending request with their token (after Slack's confirm dialog)."""
        link = await self._accounts.linked(team_id, user_id)
        if link is None:
            await self._replies.prompt_link(
                user_id=user_id, channel=channel, sentence=sentences.LINK_TO_REQUEST
            )
            return
        refused = await self._identity.vouch(link) if self._identity is not None else None
        if refused is not None:
            await self._replies.tell(user_id=user_id, channel=channel, sentence=refused)
            return
        try:
            request = await self._consumer.request(link.token, request_id)
        except UnauthorizedError:
            await self._accounts.relink(team_id, user_id, channel)
            return
        except MarketplaceError as exc:
            log.warning("cancel_refused", request_id=request_id, error=type(exc).__name__)
            await self._replies.tell(user_id=user_id, channel=channel, sentence=sentences.CANCEL_REFUSED)
            return
        # They canceled it themselves, here: the "your request was canceled" DM would tell them
        # nothing new. Marked before the call, as the webhook of the cancel may come first.
        key = f"dm:{request_id}:{RequestStatus.CANCELED.value}"
        marked = await self._store.marks.claim(key, now=self._clock.now())
        try:
            await self._consumer.cancel(link.token, request_id)
        except MarketplaceError as exc:
            # A lost answer, or a retry's 409 after the first DELETE worked: look before saying no.
            if isinstance(exc, UnauthorizedError) or not await self._canceled(link.token, request_id):
                if marked:
                    await self._store.marks.forget(key)
                if isinstance(exc, UnauthorizedError):
                    await self._accounts.relink(team_id, user_id, channel)
                    return
                log.warning("cancel_refused", request_id=request_id, error=type(exc).__name__)
                await self._replies.tell(user_id=user_id, channel=channel, sentence=sentences.CANCEL_REFUSED)
                return
        await self._replies.tell(
            user_id=user_id, channel=channel, sentence=sentences.request_canceled(request.product_name)
        )
        await self.refresh(team_id, user_id)

    async def _canceled(self, token: SecretStr, request_id: str) -> bool:
        """Whether the request is canceled now (False when that cannot be read either)."""
        try:
            return (await self._consumer.request(token, request_id)).status is RequestStatus.CANCELED
        except MarketplaceError:
            return False

    async def unlink(self, team_id: str, user_id: str) -> None:
        await self._accounts.unlink(team_id=team_id, user_id=user_id, channel=None)
        await self.refresh(team_id, user_id)

    # --- keeping Homes current -------------------------------------------------------------------

    async def request_seen(self, request: AccessRequest) -> None:
        """A request changed (the card keeper saw it): the Homes that show it, or whose owner it
        concerns, are refreshed now, or marked stale when refreshed within MIN_INTERVAL."""
        people = {request.requester.slack_user_id, request.requested_by.slack_user_id}
        for user_id, visitor in list(self._visitors.items()):
            if user_id in people or request.id in visitor.shown:
                visitor.stale = True
        await self.refresh_due()

    async def refresh_due(self) -> int:
        """Publish the stale Homes whose last publication is at least MIN_INTERVAL old."""
        now = self._clock.now()
        due = [
            (user_id, v)
            for user_id, v in self._visitors.items()
            if v.stale and (v.published_at is None or now - v.published_at >= MIN_INTERVAL)
        ]
        for user_id, visitor in due:
            try:
                await self.refresh(visitor.team_id, user_id)
            except Exception:  # one Home never stops the others
                log.warning("home_refresh_failed", exc_info=True)
        return len(due)


def _parts(snapshot: HomeSnapshot) -> tuple[tuple[AccessRequest, ...], ...]:
    return (snapshot.waiting_on_me, snapshot.my_pending, snapshot.my_recent, snapshot.my_access)


def _changed(request: AccessRequest) -> datetime:
    return request.updated_at or request.created_at


def _active(request: AccessRequest, now: datetime) -> bool:
    return request.status is RequestStatus.APPROVED and (
        request.expiration is None or request.expiration > now
    )
