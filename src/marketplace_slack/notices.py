"""What the workflow asks Slack to say besides the card: reminders, escalations, digests, expiry notices.

Plain frozen values, free of Block Kit: `reminders.py`, `digests.py` and `expiry.py` decide who gets
which, `slack/` renders and delivers them (see `ports.Messenger`). Untrusted strings stay raw here;
the renderers escape them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from marketplace_slack.domain import Approver, Person, RequestKind
from marketplace_slack.ports import MessageRef


@dataclass(frozen=True, slots=True)
class ReminderNote:
    """One reminder about one approval step, to `recipients` (Slack user ids, mentioned)."""

    request_id: str
    record_id: str
    product_name: str
    kind: RequestKind
    requester: Person
    waiting_since: datetime  # when the step became open
    recipients: tuple[str, ...]
    number: int  # 1 for the first reminder
    step_number: int | None = None
    steps_total: int = 1
    card_url: str | None = None  # the card's permalink, for reminders outside its thread
    marketplace_url: str | None = None


@dataclass(frozen=True, slots=True)
class EscalationNote:
    """A step that stayed undecided after its reminders, for an escalation channel or user group."""

    request_id: str
    record_id: str
    product_name: str
    kind: RequestKind
    requester: Person
    waiting_since: datetime
    reminders: int
    not_acted: tuple[str, ...]  # names of the reminded approvers, shown, not mentioned
    approvers: tuple[Approver, ...] = ()
    usergroup: str | None = None  # a Slack user group id to mention
    step_number: int | None = None
    steps_total: int = 1
    card_url: str | None = None
    marketplace_url: str | None = None


@dataclass(frozen=True, slots=True)
class DigestEntry:
    """One pending request as a digest lists it (from what its card last showed)."""

    request_id: str
    product_name: str
    requester: str  # a name, never a mention: a digest pings nobody
    created_at: datetime
    product_id: str = ""
    risk: str | None = None
    waiting_for: tuple[Approver, ...] = ()
    step_number: int | None = None
    steps_total: int = 1
    card: MessageRef | None = None
    url: str | None = None  # the card's permalink, once known


@dataclass(frozen=True, slots=True)
class Digest:
    entries: tuple[DigestEntry, ...]
    scope: str = "channel"  # "channel": the requests whose cards are in this channel; "all"


@dataclass(frozen=True, slots=True)
class ExpiryNote:
    """Temporary access ending soon, for the member who holds it."""

    request_id: str
    product_id: str
    product_name: str
    kind: RequestKind
    expires_at: datetime
    timezone: str  # the member's, for the fallback text (Slack renders dates per reader anyway)
    request_again_url: str | None = None
    marketplace_url: str | None = None


def age_words(delta: timedelta) -> str:
    """`45 minutes`, `5 hours`, `3 days`: coarse on purpose, it is read at a glance."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 60:
        return f"{minutes} minute{'' if minutes == 1 else 's'}"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} hour{'' if hours == 1 else 's'}"
    days = hours // 24
    return f"{days} days"
