"""Who can decide an approval step, among people the app can find in Slack.

Two sources, because the Marketplace names approvers by criteria rather than by person:

- USER approvers name one Marketplace user: found through their linked account if they linked one,
  else by their Marketplace email (`GET /api/metadata/users`) looked up in Slack.
- Every other kind (GROUP, PERMISSION, DOMAIN PERMISSION, CATALOG PERMISSION, ATTRIBUTE, ...) is a
  criterion: the stewards who linked their Marketplace account and whose identity
  (`GET /api/auth/user`, cached, domain permissions included) meets it for the request's product
  and its domains, with the same rule the workflow uses to let them decide
  (`domain.approver_matches`). Stewards who never
  linked cannot be found this way; the card in the channel is still there for them.

Nobody is reminded to decide a request they are party to (the person it is for, or who filed it),
the same separation of duties that refuses their click, unless `decisions.allow_self_approval`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Protocol

import structlog
from pydantic import SecretStr

from marketplace_slack.domain import AccessRequest, Actor, ApprovalStep, Person, approver_matches
from marketplace_slack.infra.clock import Clock
from marketplace_slack.marketplace.errors import MarketplaceError, UnauthorizedError
from marketplace_slack.store.records import LinkedAccount
from marketplace_slack.store.repository import Repository
from marketplace_slack.workflow.link_expiry import LinkLifetime
from marketplace_slack.workflow.ports import Directory, SlackPerson

log = structlog.get_logger(__name__)

_LOOKUP_CONCURRENCY: Final = 8


class PeopleGateway(Protocol):
    async def whoami(self, token: SecretStr) -> Actor: ...

    async def user_email(self, marketplace_user: str) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Recipient:
    slack_user_id: str
    tz: str | None
    name: str | None


class ApproverFinder:
    def __init__(
        self,
        *,
        store: Repository,
        gateway: PeopleGateway,
        directory: Directory,
        clock: Clock,
        ttl: timedelta = timedelta(hours=1),
        allow_self_approval: bool = False,
        link_lifetime: LinkLifetime | None = None,
    ) -> None:
        self._store = store
        self._lifetime = link_lifetime or LinkLifetime()
        self._allow_self_approval = allow_self_approval
        self._gateway = gateway
        self._directory = directory
        self._clock = clock
        self._ttl = ttl
        # Identities change rarely and only decide who is *reminded* (the Marketplace checks every
        # decision itself), so an hour-old answer is good enough.
        self._actors: dict[tuple[str, str], tuple[Actor | None, datetime]] = {}
        self._emails: dict[str, tuple[str | None, datetime]] = {}

    async def recipients(self, request: AccessRequest, step: ApprovalStep) -> list[Recipient]:
        """The people in Slack who meet one of the step's approver criteria, the request's parties
        excluded (unless self-approval is allowed)."""
        links = await self._store.links.list()
        # An expired link reminds nobody and its token asks the Marketplace nothing; the parties'
        # links, expired or not, still tell who is not to be reminded about their own request.
        live_after = self._lifetime.live_after(self._clock.now())
        live = [link for link in links if link.linked_at > live_after]
        found: dict[str, Recipient] = {}
        parties = () if self._allow_self_approval else (request.requester, request.requested_by)
        named = {n for p in parties for n in (p.marketplace_id, p.username) if n}
        users = [a.ref for a in step.approvers if a.kind == "USER" and a.ref and a.ref not in named]
        criteria = [a for a in step.approvers if a.kind != "USER"]
        gate = asyncio.Semaphore(_LOOKUP_CONCURRENCY)

        async def user(ref: str) -> Recipient | None:
            async with gate:
                return await self._user(ref, live)

        for recipient in await asyncio.gather(*(user(ref) for ref in users)):
            if recipient is not None:
                found.setdefault(recipient.slack_user_id, recipient)
        if criteria:

            async def steward(link: LinkedAccount) -> Recipient | None:
                async with gate:
                    actor = await self._actor(link)
                if actor is None or not any(approver_matches(a, actor, request.domain_ids) for a in criteria):
                    return None
                return await self._person(link.slack_user_id, link.email, link.marketplace_username)

            for recipient in await asyncio.gather(*(steward(link) for link in live)):
                if recipient is not None:
                    found.setdefault(recipient.slack_user_id, recipient)
        excluded: set[str] = set()
        for party in dict.fromkeys(parties):
            excluded |= await self._slack_ids(party, links)
        return [r for r in found.values() if r.slack_user_id not in excluded]

    async def _slack_ids(self, person: Person, links: list[LinkedAccount]) -> set[str]:
        """A party's Slack ids, so they are never reminded to decide their own request."""
        ids = {k.slack_user_id for k in links if k.marketplace_user_id == person.marketplace_id}
        if person.slack_user_id:
            ids.add(person.slack_user_id)
        elif person.email:
            found = await self._directory.person_for_email(person.email)
            if found is not None:
                ids.add(found.user_id)
        return ids

    async def _user(self, ref: str, links: list[LinkedAccount]) -> Recipient | None:
        link = next((k for k in links if ref in (k.marketplace_user_id, k.marketplace_username)), None)
        if link is not None:
            return await self._person(link.slack_user_id, link.email, link.marketplace_username)
        email = await self._email(ref)
        if not email:
            return None
        person = await self._directory.person_for_email(email)
        return Recipient(person.user_id, person.tz, person.name) if person else None

    async def _person(self, slack_user_id: str, email: str | None, fallback: str) -> Recipient:
        # The profile's time zone comes with the email look-up (cached in the store).
        person: SlackPerson | None = await self._directory.person_for_email(email) if email else None
        if person is not None and person.user_id == slack_user_id:
            return Recipient(slack_user_id, person.tz, person.name or fallback)
        return Recipient(slack_user_id, None, fallback)

    async def _email(self, ref: str) -> str | None:
        now = self._clock.now()
        cached = self._emails.get(ref)
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            email = await self._gateway.user_email(ref)
        except MarketplaceError as exc:
            log.warning("approver_email_failed", error=type(exc).__name__)
            return None
        self._emails[ref] = (email, now + self._ttl)
        return email

    async def _actor(self, link: LinkedAccount) -> Actor | None:
        key = (link.team_id, link.slack_user_id)
        now = self._clock.now()
        cached = self._actors.get(key)
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            actor: Actor | None = await self._gateway.whoami(link.token)
        except UnauthorizedError:
            actor = None  # a revoked token: they will be asked to link again when they next click
        except MarketplaceError as exc:
            log.warning("approver_identity_failed", error=type(exc).__name__)
            return None  # not cached: try again next time
        self._actors[key] = (actor, now + self._ttl)
        return actor
