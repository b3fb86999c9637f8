"""Who and what lives in the fake workspace: its identity, people and channels."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

DEFAULT_TEAM_ID = "T0MARKET"
DEFAULT_TEAM_NAME = "Marketplace Demo"
DEFAULT_TEAM_DOMAIN = "marketplace-demo"
DEFAULT_APP_ID = "A0MARKET"
DEFAULT_BOT_ID = "B0MPBOT"
DEFAULT_BOT_USER_ID = "U0MPBOT"
DEFAULT_BOT_TOKEN = "xoxb-0000000000-fake-marketplace-slack"  # noqa: S105 - a placeholder, not a secret
# Slack still sends the deprecated verification token in payloads; Bolt ignores it.
VERIFICATION_TOKEN = "verification_token"  # noqa: S105


@dataclass(frozen=True, slots=True)
class SlackUser:
    id: str
    name: str
    real_name: str
    email: str
    tz: str = "UTC"
    display_name: str = ""
    title: str = ""
    is_bot: bool = False
    deleted: bool = False  # deactivated: users.info still answers, with `deleted: true`
    is_restricted: bool = False  # a multi-channel guest
    is_ultra_restricted: bool = False  # a single-channel guest (Slack sets is_restricted too)
    is_stranger: bool = False  # someone of another organisation, seen through a shared channel
    team_id: str | None = None  # their own team; None: the workspace the app is installed in
    is_email_confirmed: bool = True

    def tz_offset(self, at: datetime) -> int:
        """Seconds east of UTC at `at`; Slack reports the offset in force now, so DST moves it."""
        offset = at.astimezone(ZoneInfo(self.tz)).utcoffset()
        return int(offset.total_seconds()) if offset is not None else 0

    def as_slack(self, *, team_id: str, at: datetime) -> dict[str, object]:
        """The `user` object of users.info / users.lookupByEmail."""
        local = at.astimezone(ZoneInfo(self.tz))
        display = self.display_name or self.name
        team_id = self.team_id or team_id
        user: dict[str, object] = {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "deleted": self.deleted,
            "real_name": self.real_name,
            "tz": self.tz,
            "tz_label": local.tzname() or self.tz,
            "tz_offset": self.tz_offset(at),
            "is_admin": False,
            "is_owner": False,
            "is_restricted": self.is_restricted,
            "is_ultra_restricted": self.is_ultra_restricted,
            "is_bot": self.is_bot,
            "is_app_user": False,
            # Top-level in users.info, not in `profile`, as Slack sends it.
            "is_email_confirmed": self.is_email_confirmed,
            "updated": 1700000000,
            "profile": {
                "title": self.title,
                "real_name": self.real_name,
                "real_name_normalized": self.real_name,
                "display_name": display,
                "display_name_normalized": display,
                "email": self.email,
                "team": team_id,
            },
        }
        if self.is_stranger:  # Slack only sends the flag for strangers
            user["is_stranger"] = True
        return user


@dataclass(frozen=True, slots=True)
class SlackChannel:
    id: str
    name: str
    is_private: bool = False
    members: tuple[str, ...] = ()  # who is in it from the start; the bot only once invited


# The Marketplace sandbox seeds these usernames; Omar's address differs in letter case on purpose so
# lookups prove they ignore case like Slack's users.lookupByEmail does.
DEFAULT_USERS: tuple[SlackUser, ...] = (
    SlackUser("U0ADMIN", "admin", "Avery Admin", "admin@example.com", "America/New_York", title="Governor"),
    SlackUser("U0SARA", "sara", "Sara Stone", "sara@example.com", "Europe/Berlin", title="Data Steward"),
    SlackUser("U0OMAR", "omar", "Omar Haddad", "Omar@Example.com", "Asia/Tokyo", title="Analyst"),
    SlackUser("U0GINA", "gina", "Gina Park", "gina@example.com", "America/Los_Angeles", title="Data Owner"),
    SlackUser("U0RICK", "rick", "Rick Alvarez", "rick@example.com", "America/Chicago", title="Engineer"),
    SlackUser("U0NORA", "nora", "Nora Lind", "nora@example.com", "Asia/Kolkata", title="Data Scientist"),
)

_EVERYONE = tuple(u.id for u in DEFAULT_USERS)

# A fresh install: the bot is in no channel until someone invites it.
DEFAULT_CHANNELS: tuple[SlackChannel, ...] = (
    SlackChannel("C0STEWARDS", "data-stewards", members=_EVERYONE),
    SlackChannel("C0GENERAL", "general", members=_EVERYONE),
    SlackChannel("G0SECURITY", "security-review", is_private=True, members=("U0ADMIN", "U0SARA", "U0GINA")),
)


def user_name_for(user_id: str, users: tuple[SlackUser, ...] = DEFAULT_USERS) -> str:
    return next((u.name for u in users if u.id == user_id), user_id.lower())


def channel_name_for(channel_id: str, channels: tuple[SlackChannel, ...] = DEFAULT_CHANNELS) -> str:
    # Slack names a DM "directmessage" in interaction payloads and slash commands.
    if channel_id.startswith("D"):
        return "directmessage"
    return next((c.name for c in channels if c.id == channel_id), channel_id.lower())
