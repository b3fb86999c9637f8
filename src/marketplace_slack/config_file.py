"""The YAML configuration file: routes, reminders, channel digests, expiry notices and link lifetimes.

Scalars (tokens, URLs, ports) come from the environment (`config.Settings`); this file holds what is
naturally a structure. It is named by `MPSLACK_CONFIG_FILE` (or the older `MPSLACK_ROUTES_FILE`),
read once at start-up and validated strictly: an unknown key, a bad time zone or cron expression
stops start-up with one line per problem naming the file and the key. Every section is optional;
docs/reminders.md has the complete schema and an example.
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any, Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from apscheduler.triggers.cron import CronTrigger
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from marketplace_slack.workflow.link_expiry import LinkLifetime
from marketplace_slack.workflow.routing import SLACK_USER_ID, Route
from marketplace_slack.workflow.workhours import WorkingHours, weekday_numbers


class ConfigFileError(Exception):
    """The configuration file is unusable; the message names the file, the key and the problem."""


# --- value types ---------------------------------------------------------------------------------


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not an IANA time zone such as Europe/Berlin") from None
    return name


TimeZoneName = Annotated[str, AfterValidator(_zone)]

# Slack channel names are lower case, so capitals and digits after C (public), G (private) or D (a DM)
# can only be an id. Slack refuses a name where it wants an id, long after start-up.
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]+")


def channel_id(value: str) -> str:
    if not _CHANNEL_ID.fullmatch(value):
        raise ValueError(
            f"{value!r} is a name, not a channel id: use the channel's id, e.g. C0123ABCDEF "
            "(its details in Slack, About, at the bottom)"
        )
    return value


ChannelId = Annotated[str, AfterValidator(channel_id)]


def _route_channel(route: Route) -> Route:
    channel_id(route.channel)
    return route


_SPAN = re.compile(r"(\d+)\s*([dhm])")


def _span(text: str) -> str:
    compact = text.strip().lower()
    if not compact or _SPAN.sub("", compact).strip():
        raise ValueError(f"{text!r} is not a working-time span such as 4h, 90m, 1d or 1d 4h")
    return compact


WorkingSpan = Annotated[str, AfterValidator(_span)]
"""Working time: `d` is one working day (the length of `working_hours`), `h` hours, `m` minutes."""


def span_duration(span: str, hours: WorkingHours) -> timedelta:
    units = {"d": hours.day_length, "h": timedelta(hours=1), "m": timedelta(minutes=1)}
    return sum((units[unit] * int(amount) for amount, unit in _SPAN.findall(span)), timedelta(0))


_CRON_DAY_NUMBERS: Final = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")  # cron: 0 and 7 = Sunday


def crontab(expr: str) -> str:
    """A five-field crontab with numeric weekdays spelled out.

    APScheduler 3 numbers weekdays from Monday = 0, unlike cron (Sunday = 0), so `1-5` would mean
    Tuesday to Saturday there; names mean the same to both.
    """
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"{expr!r} is not a five-field cron expression such as '0 9 * * mon-fri'")
    days = []
    for part in fields[4].split(","):
        match = re.fullmatch(r"(\d)(?:-(\d))?(?:/(\d+))?", part)
        if match is None:
            days.append(part)
            continue
        low = int(match.group(1))
        high = int(match.group(2)) if match.group(2) else (7 if match.group(3) else low)
        step = int(match.group(3) or 1)
        if high > 7 or low > high:
            raise ValueError(f"weekday field {part!r} is not a range within 0-7")
        days.extend(dict.fromkeys(_CRON_DAY_NUMBERS[n] for n in range(low, high + 1, step)))
    fields[4] = ",".join(dict.fromkeys(days))
    normalized = " ".join(fields)
    CronTrigger.from_crontab(normalized, timezone="UTC")  # raises ValueError with its own reason
    return normalized


CronExpression = Annotated[str, AfterValidator(crontab)]


# --- sections ------------------------------------------------------------------------------------


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WorkingHoursConfig(_Section):
    start: time = time(9, 0)
    end: time = time(18, 0)
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = ["mon", "tue", "wed", "thu", "fri"]

    @model_validator(mode="after")
    def _sensible(self) -> WorkingHoursConfig:
        self.hours()  # raises ValueError with the reason
        return self

    def hours(self) -> WorkingHours:
        return WorkingHours(self.start, self.end, weekday_numbers(self.days))


class EscalationConfig(_Section):
    after: int = Field(default=3, ge=1, le=100)
    channel: ChannelId | None = None
    usergroup: str | None = None
    timezone: TimeZoneName | None = None  # whose working hours gate it; default reminders.timezone

    @model_validator(mode="after")
    def _somewhere(self) -> EscalationConfig:
        if not self.channel and not self.usergroup:
            raise ValueError("an escalation needs a `channel`, a `usergroup`, or both")
        return self


class RemindersConfig(_Section):
    enabled: bool = True
    mode: Literal["thread", "dm"] = "thread"
    first_after: WorkingSpan = "4h"
    repeat_every: WorkingSpan = "1d"
    working_hours: WorkingHoursConfig = WorkingHoursConfig()
    timezone: TimeZoneName = "UTC"  # for people whose Slack profile has no time zone
    escalation: EscalationConfig | None = None

    @model_validator(mode="after")
    def _repeats(self) -> RemindersConfig:
        if span_duration(self.repeat_every, self.working_hours.hours()) < timedelta(minutes=30):
            raise ValueError("repeat_every must be at least 30m of working time")
        return self

    @property
    def hours(self) -> WorkingHours:
        return self.working_hours.hours()

    @property
    def first_delay(self) -> timedelta:
        return span_duration(self.first_after, self.hours)

    @property
    def interval(self) -> timedelta:
        return span_duration(self.repeat_every, self.hours)


class DigestConfig(_Section):
    channel: ChannelId
    schedule: CronExpression = "0 9 * * mon-fri"
    timezone: TimeZoneName = "UTC"
    scope: Literal["channel", "all"] = "channel"  # cards routed to this channel, or every pending one
    post_when_empty: bool = False


class ExpiryConfig(_Section):
    enabled: bool = True
    days_before: list[Annotated[int, Field(ge=1, le=365)]] = [7, 1]

    @property
    def leads(self) -> tuple[int, ...]:
        """Distinct lead times in days, longest first."""
        return tuple(sorted(set(self.days_before), reverse=True))


class DecisionsConfig(_Section):
    # Separation of duties: the person a request is for, or who filed it, does not decide it from
    # Slack. A company that wants otherwise says so here.
    allow_self_approval: bool = False


class IdentityConfig(_Section):
    # Who besides full members of the workspace may link and decide: guests (`is_restricted`,
    # `is_ultra_restricted`) and people of another organisation (`is_stranger`, another team).
    allow_guests: bool = False
    allow_external: bool = False


class LinksConfig(_Section):
    # A pasted token acts for its steward until the link ends: it expires this long after it was made
    # (linking again renews it), and its holder is told by DM this many days before.
    expire_after_days: int = Field(default=90, ge=1, le=3650)
    warn_days_before: int = Field(default=3, ge=0, le=365)

    @model_validator(mode="after")
    def _warned_within(self) -> LinksConfig:
        if self.warn_days_before >= self.expire_after_days:
            raise ValueError("warn_days_before must be fewer days than expire_after_days")
        return self

    @property
    def lifetime(self) -> LinkLifetime:
        return LinkLifetime(
            expire_after=timedelta(days=self.expire_after_days),
            warn_before=timedelta(days=self.warn_days_before),
        )


class CardsConfig(_Section):
    # A card is read by everyone in its channel; a requester's email is theirs to share. Off, the card
    # names them (a mention when Slack knows them) without it.
    show_requester_email: bool = False


class RequestsConfig(_Section):
    # Consumers request access from Slack with their own linked token. With `file_as_app`, the app's
    # own account files for a consumer who has not linked (found in the Marketplace by their Slack
    # email), and the card and the audit log say it was filed through Slack for them.
    file_as_app: bool = False
    # "Request for someone else" (a users_select in the modal): the request is for that person.
    allow_for_others: bool = True
    # Unfurl Marketplace data-product links pasted in Slack (manifest.yml `unfurl_domains`).
    unfurl_links: bool = True


class ConfigFile(_Section):
    routes: list[Annotated[Route, AfterValidator(_route_channel)]] = []
    # Told in a DM when the app cannot post in a channel whose route names no `owner` of its own.
    channel_owner: str | None = Field(default=None, pattern=SLACK_USER_ID)
    reminders: RemindersConfig = RemindersConfig()
    digests: list[DigestConfig] = []
    expiry: ExpiryConfig = ExpiryConfig()
    decisions: DecisionsConfig = DecisionsConfig()
    identity: IdentityConfig = IdentityConfig()
    cards: CardsConfig = CardsConfig()
    links: LinksConfig = LinksConfig()
    requests: RequestsConfig = RequestsConfig()

    @field_validator("digests")
    @classmethod
    def _one_digest_per_channel(cls, digests: list[DigestConfig]) -> list[DigestConfig]:
        channels = [d.channel for d in digests]
        repeated = sorted({c for c in channels if channels.count(c) > 1})
        if repeated:
            raise ValueError(f"one digest per channel; repeated: {', '.join(repeated)}")
        return digests

    def digest_for(self, channel: str) -> DigestConfig | None:
        return next((d for d in self.digests if d.channel == channel), None)


def load_config_file(path: Path | None) -> ConfigFile:
    """The parsed file, or the defaults when there is none. Raises ConfigFileError."""
    if path is None:
        return ConfigFile()
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return ConfigFile.model_validate(raw)
    except OSError as exc:
        raise ConfigFileError(f"{path}: cannot be read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ConfigFileError(f"{path}: is not valid YAML ({exc})") from None
    except ValidationError as exc:
        raise ConfigFileError(describe(path, exc)) from None


def describe(path: Path, exc: ValidationError) -> str:
    lines = []
    for error in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(p) for p in error["loc"]) or "(top level)"
        message = str(error["msg"]).removeprefix("Value error, ")
        lines.append(f"{path}: {where}: {message}")
    return "\n".join(lines)
