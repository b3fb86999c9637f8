"""Slack users by email and emails by Slack user, cached in the store so replicas share lookups."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from marketplace_slack.infra.clock import Clock
from marketplace_slack.slack.pacing import LOOKUPS, Pacer, Rate
from marketplace_slack.store.repository import Repository
from marketplace_slack.workflow.ports import SlackPerson, SlackProfile

log = structlog.get_logger(__name__)


class SlackDirectory:
    def __init__(
        self,
        client: AsyncWebClient,
        store: Repository,
        clock: Clock,
        *,
        ttl: timedelta = timedelta(hours=6),
        pacer: Pacer | None = None,
        lookups: Rate = LOOKUPS,
    ) -> None:
        self._client = client
        self._store = store
        self._clock = clock
        self._ttl = ttl
        # A burst of cards from people never seen is a burst of lookups: paced, not refused.
        self._pacer = pacer
        self._lookups = lookups

    @property
    def ttl(self) -> timedelta:
        """How long a lookup is served from the store's cache."""
        return self._ttl

    async def slack_id_for_email(self, email: str) -> str | None:
        """The Slack user with this email (case-insensitive, as Slack matches), or None."""
        found = await self.person_for_email(email)
        return found.user_id if found else None

    async def person_for_email(self, email: str) -> SlackPerson | None:
        """The Slack user with this email, with the time zone on their profile."""
        key = email.strip().casefold()
        if not key:
            return None
        now = self._clock.now()
        cached = await self._store.slack_users.get(key, now=now, ttl=self._ttl)
        if cached is not None:
            if cached.slack_user_id is None:
                return None
            return SlackPerson(cached.slack_user_id, cached.tz, cached.display_name)
        try:
            response = await self._lookup(email.strip())
            user = response.get("user") or {}
            slack_id: str | None = user.get("id")
            name = (user.get("profile") or {}).get("real_name") or user.get("real_name")
            tz = user.get("tz")
        except SlackApiError as exc:
            if exc.response.get("error") != "users_not_found":
                log.warning("slack_lookup_failed", error=exc.response.get("error"))
                return None  # a passing failure is not cached: the next card tries again
            slack_id, name, tz = None, None, None
        await self._store.slack_users.save(key, slack_user_id=slack_id, display_name=name, tz=tz, now=now)
        return SlackPerson(slack_id, tz, name) if slack_id else None

    async def _lookup(self, email: str) -> AsyncSlackResponse:
        if self._pacer is None:
            return await self._client.users_lookupByEmail(email=email)
        return await self._pacer.call(
            "users.lookupByEmail", self._lookups, lambda: self._client.users_lookupByEmail(email=email)
        )

    async def usergroup_members(self, usergroup_id: str) -> list[str]:
        try:
            response = await self._client.usergroups_users_list(usergroup=usergroup_id)
        except SlackApiError as exc:
            log.warning("usergroup_members_failed", error=exc.response.get("error"))
            return []
        users = response.get("users") or []
        return [str(u) for u in users if isinstance(u, str) and u]

    async def email_of(self, slack_user_id: str) -> str | None:
        """The email on a Slack profile (needs `users:read.email`); never cached, it proves identity."""
        try:
            response = await self._client.users_info(user=slack_user_id)
        except SlackApiError as exc:
            log.warning("slack_user_info_failed", error=exc.response.get("error"))
            return None
        email = ((response.get("user") or {}).get("profile") or {}).get("email")
        return email if isinstance(email, str) and email else None

    async def profile_of(self, slack_user_id: str) -> SlackProfile | None:
        """users.info as it stands now; the workflow caches it briefly (workflow/identity.py)."""
        try:
            response = await self._client.users_info(user=slack_user_id)
        except SlackApiError as exc:
            log.warning("slack_user_info_failed", error=exc.response.get("error"))
            return None
        user = response.get("user")
        return profile_from_user(user) if isinstance(user, Mapping) else None


def profile_from_user(user: Mapping[str, Any]) -> SlackProfile | None:
    """A profile from Slack's `user` object (users.info, or a `user_change` event); None without an id.

    Flags Slack leaves out count as false, except `is_email_confirmed`: an old payload without it is
    not taken to mean an unconfirmed email."""
    user_id = user.get("id")
    if not isinstance(user_id, str) or not user_id:
        return None
    profile = user.get("profile") or {}
    email = profile.get("email") if isinstance(profile, Mapping) else None
    team_id = user.get("team_id")
    return SlackProfile(
        user_id=user_id,
        email=email if isinstance(email, str) and email else None,
        deleted=user.get("deleted") is True,
        restricted=user.get("is_restricted") is True,
        ultra_restricted=user.get("is_ultra_restricted") is True,
        stranger=user.get("is_stranger") is True,
        team_id=team_id if isinstance(team_id, str) and team_id else None,
        email_confirmed=user.get("is_email_confirmed") is not False,
    )
