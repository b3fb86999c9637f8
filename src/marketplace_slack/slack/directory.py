"""Slack users by email and emails by Slack user, cached in the store so replicas share lookups."""

from __future__ import annotations

from datetime import timedelta

import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from marketplace_slack.infra.clock import Clock
from marketplace_slack.store.repository import Repository
from marketplace_slack.workflow.ports import SlackPerson

log = structlog.get_logger(__name__)


class SlackDirectory:
    def __init__(
        self, client: AsyncWebClient, store: Repository, clock: Clock, *, ttl: timedelta = timedelta(hours=6)
    ) -> None:
        self._client = client
        self._store = store
        self._clock = clock
        self._ttl = ttl

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
            response = await self._client.users_lookupByEmail(email=email.strip())
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
