"""Whether the Slack user acting is still the person whose Marketplace account is linked.

A link is made once, but a Slack account changes: its email is edited, it is deactivated, turned into
a guest, or it belongs to someone of another organisation seen through a shared channel. So every
click and every submit asks Slack again (served from a cache of at most a minute, so a burst of
clicks costs one users.info) and acts on the link only while:

- the email on the Slack profile is the one the link was made with, compared ASCII-lowercased: Slack
  and mail servers treat A-Z case-insensitively, but Unicode case folding would let a look-alike
  (`STRASSE` for `straße`, the Kelvin sign for K) stand for someone else's address;
- the account is not deactivated, its email is confirmed, and it is a full member of the workspace
  the app is installed in (a guest, or someone from another organisation, only when the config file
  allows it: `identity.allow_guests`, `identity.allow_external`).

An email that changed, or a deactivated account, ends the link: it can no longer be right, and a new
link proves the new address. The others are policy about who may act, not about whose token it is:
the link is kept and the person refused, so that lifting the setting (or confirming the email) needs
no new token. A `user_change` event applies the same rule as soon as Slack reports the change.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

import structlog

from marketplace_slack.infra.clock import Clock
from marketplace_slack.store.records import LinkedAccount
from marketplace_slack.workflow import sentences
from marketplace_slack.workflow.ports import Directory, Replies, SlackProfile
from marketplace_slack.workflow.sentences import Sentence

log = structlog.get_logger(__name__)

PROFILE_TTL: Final = timedelta(seconds=60)

_ASCII_UPPER: Final = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_lower(text: str) -> str:
    """`text` with only A-Z lowercased: no Unicode case mapping, so no look-alike folds into a match."""
    return text.translate(_ASCII_UPPER)


def same_email(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    return ascii_lower(a.strip()) == ascii_lower(b.strip())


@dataclass(frozen=True, slots=True)
class IdentityPolicy:
    """Who besides full members of the workspace may link and decide (config file: `identity`)."""

    allow_guests: bool = False
    allow_external: bool = False


class Standing(StrEnum):
    """What the Slack account's current state says about acting on a link made with `email`."""

    OK = "ok"
    EMAIL_CHANGED = "email_changed"
    DEACTIVATED = "deactivated"
    GUEST = "guest"
    EXTERNAL = "external"
    EMAIL_UNCONFIRMED = "email_unconfirmed"
    UNREADABLE = "unreadable"  # users.info failed: nothing is done, and nothing is ended

    @property
    def ends_link(self) -> bool:
        return self in (Standing.EMAIL_CHANGED, Standing.DEACTIVATED)

    @property
    def sentence(self) -> Sentence | None:
        return _SAID[self]


_SAID: Final[dict[Standing, Sentence | None]] = {
    Standing.OK: None,
    Standing.EMAIL_CHANGED: sentences.SLACK_EMAIL_CHANGED,
    Standing.DEACTIVATED: sentences.SLACK_ACCOUNT_DEACTIVATED,
    Standing.GUEST: sentences.SLACK_GUEST,
    Standing.EXTERNAL: sentences.SLACK_EXTERNAL,
    Standing.EMAIL_UNCONFIRMED: sentences.SLACK_EMAIL_UNCONFIRMED,
    Standing.UNREADABLE: sentences.SLACK_PROFILE_UNREADABLE,
}


def assess(
    profile: SlackProfile | None, *, email: str | None, team_id: str, policy: IdentityPolicy
) -> Standing:
    """The standing of `profile` for a link made with `email` in workspace `team_id`.

    The order matters only for what the person is told: the facts that end a link come first."""
    if profile is None:
        return Standing.UNREADABLE
    if profile.deleted:
        return Standing.DEACTIVATED
    if not same_email(profile.email, email):
        return Standing.EMAIL_CHANGED
    external = profile.stranger or bool(team_id and profile.team_id and profile.team_id != team_id)
    if external and not policy.allow_external:
        return Standing.EXTERNAL
    if (profile.restricted or profile.ultra_restricted) and not policy.allow_guests:
        return Standing.GUEST
    if not profile.email_confirmed:
        return Standing.EMAIL_UNCONFIRMED
    return Standing.OK


class Identity:
    """Slack profiles, each served for at most `ttl` after it was read (or reported by an event)."""

    def __init__(
        self,
        *,
        directory: Directory,
        clock: Clock,
        policy: IdentityPolicy | None = None,
        ttl: timedelta = PROFILE_TTL,
    ) -> None:
        self._directory = directory
        self._clock = clock
        self.policy = policy or IdentityPolicy()
        self._ttl = min(ttl, PROFILE_TTL)
        self._profiles: dict[str, tuple[SlackProfile, datetime]] = {}

    async def standing(
        self, team_id: str, user_id: str, email: str | None, *, fresh: bool = False
    ) -> Standing:
        """Whether `user_id` may act on a link made with `email`; `fresh` skips the cache (linking)."""
        profile = await self.profile(user_id, fresh=fresh)
        return assess(profile, email=email, team_id=team_id, policy=self.policy)

    async def profile(self, user_id: str, *, fresh: bool = False) -> SlackProfile | None:
        now = self._clock.now()
        cached = self._profiles.get(user_id)
        if cached is not None and not fresh and now - cached[1] < self._ttl:
            return cached[0]
        profile = await self._directory.profile_of(user_id)
        if profile is None:
            self._profiles.pop(user_id, None)  # a failed read is not remembered: the next one asks again
            return None
        self._profiles[user_id] = (profile, now)
        return profile

    def observe(self, profile: SlackProfile) -> None:
        """A profile Slack pushed (`user_change`): newer than anything cached."""
        self._profiles[profile.user_id] = (profile, self._clock.now())


class IdentityGuard:
    """Applies `Identity` to links: refuses, and ends the links that can no longer be right."""

    def __init__(
        self,
        *,
        identity: Identity,
        linked: Callable[[str, str], Awaitable[LinkedAccount | None]],
        forget: Callable[[str, str, str], Awaitable[None]],  # team, user, why (for the audit log)
        replies: Replies,
    ) -> None:
        self._identity = identity
        self._linked = linked
        self._forget = forget
        self._replies = replies

    async def vouch(self, link: LinkedAccount) -> Sentence | None:
        """None when the link's Slack user may act on it now; else why not (the link ended if it must)."""
        standing = await self._identity.standing(link.team_id, link.slack_user_id, link.email)
        if standing is Standing.OK:
            return None
        log.info("identity_refused", user_id=link.slack_user_id, standing=standing.value)
        if standing.ends_link:
            await self._end(link, standing)
        return standing.sentence

    async def vouch_unlinked(self, team_id: str, user_id: str) -> tuple[str | None, Sentence | None]:
        """For someone with no link (the app files for them): their Slack email, when the same rules
        let them act; else why not. The email is read fresh: it is what finds them in the Marketplace."""
        profile = await self._identity.profile(user_id, fresh=True)
        email = profile.email if profile is not None else None
        standing = assess(profile, email=email, team_id=team_id, policy=self._identity.policy)
        return (email, None) if standing is Standing.OK else (None, standing.sentence)

    async def user_changed(self, team_id: str, profile: SlackProfile) -> None:
        """Slack reports a member changed: end their link if its email changed or they were deactivated."""
        self._identity.observe(profile)
        link = await self._linked(team_id, profile.user_id)
        if link is None:
            return
        standing = assess(profile, email=link.email, team_id=team_id, policy=self._identity.policy)
        if not standing.ends_link:
            return  # nothing that makes the link wrong; policy is applied at the next click
        await self._end(link, standing)
        sentence = standing.sentence
        if profile.deleted or sentence is None:
            # Slack delivers nothing to a deactivated account (user_disabled): the log says it instead.
            log.info("link_ended_untold", user_id=profile.user_id, standing=standing.value)
            return
        await self._replies.tell(user_id=profile.user_id, channel=None, sentence=sentence)

    async def _end(self, link: LinkedAccount, standing: Standing) -> None:
        await self._forget(link.team_id, link.slack_user_id, standing.value)
        log.info("link_ended", user_id=link.slack_user_id, standing=standing.value)
