"""What installing the app granted: the bot token's scopes and the App Home messages tab, as a manifest
declares them, and which scope each Web API method the fake serves needs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml

from marketplace_slack_standins.fakeslack.errors import ApiError

# A bare FakeSlack is a minimal install: the bot scopes the app has always had, no chat:write.public and
# no messages tab. The stage installs what manifest.yml declares; other tests grant more explicitly,
# as an admin would by reinstalling.
DEFAULT_SCOPES: frozenset[str] = frozenset(
    {"chat:write", "commands", "im:write", "users:read", "users:read.email", "usergroups:read"}
)
DEFAULT_MESSAGES_TAB = False
DEFAULT_HOME_TAB = False

# Any one of these scopes lets the token call the method; methods absent here need none.
METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "chat.postMessage": ("chat:write",),
    "chat.update": ("chat:write",),
    "chat.delete": ("chat:write",),
    "chat.postEphemeral": ("chat:write",),
    "chat.unfurl": ("links:write",),
    "conversations.join": ("channels:join",),
    "users.info": ("users:read",),
    "users.list": ("users:read",),
    "users.lookupByEmail": ("users:read.email",),
    "usergroups.users.list": ("usergroups:read",),
}
# Events whose delivery needs a scope (Slack drops the subscription without it).
EVENT_SCOPES: dict[str, tuple[str, ...]] = {"user_change": ("users:read",), "link_shared": ("links:read",)}
# conversations.open / info / members need the scope for the kind of conversation they touch.
OPEN_SCOPES = {"im": ("im:write",), "mpim": ("mpim:write",)}
READ_SCOPES = {
    "public": ("channels:read",),
    "private": ("groups:read",),
    "im": ("im:read",),
    "mpim": ("mpim:read",),
}

# conversations.history / conversations.replies: the `*:history` scope of the conversation's kind.
HISTORY_SCOPES = {
    "public": ("channels:history",),
    "private": ("groups:history",),
    "im": ("im:history",),
    "mpim": ("mpim:history",),
}
# Every history scope, for a test installing the app without them (`Install.without(*ALL_HISTORY_SCOPES)`):
# a team may leave them out of the manifest, and the app must still work, preferring late to doubled.
ALL_HISTORY_SCOPES: frozenset[str] = frozenset(s for scopes in HISTORY_SCOPES.values() for s in scopes)


@dataclass(slots=True)
class Install:
    """Mutable, like a workspace admin reinstalling the app with other scopes or settings."""

    scopes: set[str] = field(default_factory=lambda: set(DEFAULT_SCOPES))
    messages_tab_enabled: bool = DEFAULT_MESSAGES_TAB
    bot_events: set[str] = field(default_factory=set)  # settings.event_subscriptions.bot_events
    unfurl_domains: set[str] = field(default_factory=set)  # features.unfurl_domains: link_shared for these
    home_tab_enabled: bool = DEFAULT_HOME_TAB  # features.app_home.home_tab_enabled

    @classmethod
    def from_manifest(cls, text: str) -> Install:
        """The install a Slack app manifest (YAML or JSON) asks for."""
        manifest: Any = yaml.safe_load(text) or {}
        bot = ((manifest.get("oauth_config") or {}).get("scopes") or {}).get("bot") or []
        app_home = (manifest.get("features") or {}).get("app_home") or {}
        events = ((manifest.get("settings") or {}).get("event_subscriptions") or {}).get("bot_events") or []
        features = manifest.get("features") or {}
        return cls(
            scopes=set(bot),
            messages_tab_enabled=bool(app_home.get("messages_tab_enabled", False)),
            bot_events=set(events),
            unfurl_domains=set(features.get("unfurl_domains") or []),
            home_tab_enabled=bool(app_home.get("home_tab_enabled", False)),
        )

    def without(self, *scopes: str) -> Install:
        """A copy of this install lacking `scopes`, as an admin installing a trimmed manifest grants it."""
        return Install(
            scopes=self.scopes - set(scopes),
            messages_tab_enabled=self.messages_tab_enabled,
            bot_events=set(self.bot_events),
            unfurl_domains=set(self.unfurl_domains),
            home_tab_enabled=self.home_tab_enabled,
        )

    def receives(self, event_type: str) -> bool:
        """Whether Slack sends the app `event_type`: subscribed to, with the scope the event needs."""
        needed = EVENT_SCOPES.get(event_type, ())
        return event_type in self.bot_events and (not needed or bool(self.scopes.intersection(needed)))

    def require(self, method: str, needed: Iterable[str] | None = None) -> None:
        """Refuse as Slack does when the token lacks every scope that would allow the call."""
        wanted = tuple(needed if needed is not None else METHOD_SCOPES.get(method, ()))
        if wanted and not self.scopes.intersection(wanted):
            raise ApiError("missing_scope", needed=",".join(wanted), provided=",".join(sorted(self.scopes)))

    def header(self) -> str:
        """Slack reports the token's scopes on every answer in X-OAuth-Scopes."""
        return ",".join(sorted(self.scopes))
