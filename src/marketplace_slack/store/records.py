"""What the repository hands back: plain frozen values, free of SQLAlchemy, datetimes aware UTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from pydantic import SecretStr

from marketplace_slack.domain import Duration, DurationUnit, Verdict

OUTCOME_OK: Final = "ok"


@dataclass(frozen=True, slots=True)
class CardRecord:
    """Where a request's card lives. `ts` is None while the card is only claimed, not yet posted."""

    request_id: str
    channel: str
    ts: str | None
    team_id: str | None
    fingerprint: str | None  # of the last rendered state, so an identical re-render can be skipped
    status: str | None  # the request status the card last showed
    claim_owner: str | None
    claimed_at: datetime | None
    posted_at: datetime | None
    created_at: datetime
    updated_at: datetime
    summary: str | None = None  # JSON written by the digests (see digests.summary_json)

    @property
    def posted(self) -> bool:
        return self.ts is not None


@dataclass(frozen=True, slots=True)
class LinkedAccount:
    team_id: str
    slack_user_id: str
    marketplace_user_id: str
    marketplace_username: str
    email: str | None
    token: SecretStr  # decrypted; SecretStr keeps it out of repr and logs
    linked_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class LinkRef:
    """Which link, and whom to tell about it, without its token: a link ended by another's, or due."""

    team_id: str
    slack_user_id: str
    marketplace_user_id: str
    marketplace_username: str
    linked_at: datetime  # tells this link from a later re-link of the same Slack user


@dataclass(frozen=True, slots=True)
class SavedLink:
    link: LinkedAccount
    # Links of other Slack users to the same Marketplace user, ended by this one (one live link each).
    displaced: tuple[LinkRef, ...] = ()


class ClaimStatus(StrEnum):
    WON = "won"
    HELD = "held"


@dataclass(frozen=True, slots=True)
class DecisionClaim:
    """The answer to "may I send this determination?": won, or held by `holder` since `since`.

    A held claim that is `finished` was already sent (its `outcome` says how it went); otherwise
    `holder` is deciding it right now, which may be the same steward's earlier click.
    """

    status: ClaimStatus
    record_id: str
    request_id: str
    holder: str  # Slack user id; the caller's own when won
    verdict: Verdict
    since: datetime
    finished: bool = False
    outcome: str | None = None
    owner: str | None = None  # the process that holds it (`infra/owners.py`), when it said

    @property
    def won(self) -> bool:
        return self.status is ClaimStatus.WON


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One decision taken through Slack and what the Marketplace made of it."""

    id: int
    at: datetime
    request_id: str
    record_id: str
    team_id: str | None
    slack_user_id: str
    marketplace_user_id: str | None
    verdict: Verdict
    duration: int | None  # with `duration_unit`; both None for a denial or an indefinite approval
    duration_unit: DurationUnit | None
    reason: str | None
    outcome: str  # "ok", or an error code such as "conflict", "forbidden", "unavailable"
    error: str | None  # the message shown to the steward, if any

    @property
    def ok(self) -> bool:
        return self.outcome == OUTCOME_OK

    @property
    def approved_for(self) -> Duration | None:
        if self.duration is None or self.duration_unit is None:
            return None
        return Duration(self.duration, self.duration_unit)


@dataclass(frozen=True, slots=True)
class CachedSlackUser:
    """A Slack lookup by email; `slack_user_id` None records that nobody in Slack has that email."""

    email: str
    slack_user_id: str | None
    display_name: str | None
    tz: str | None
    fetched_at: datetime

    @property
    def found(self) -> bool:
        return self.slack_user_id is not None


@dataclass(frozen=True, slots=True)
class StepToPlan:
    """An open approval step whose reminder recipients are to be found (again)."""

    record_id: str
    request_id: str
    opened_at: datetime
    snapshot: str | None = None  # the request as its card last showed it (JSON); None before 0013


@dataclass(frozen=True, slots=True)
class NewReminder:
    record_id: str
    recipient: str
    request_id: str
    mode: str
    next_due_at: datetime
    tz: str | None = None
    recipient_name: str | None = None


@dataclass(frozen=True, slots=True)
class ReminderRecord:
    """One recipient's reminder schedule for one approval step."""

    record_id: str
    recipient: str
    request_id: str
    recipient_name: str | None
    tz: str | None
    mode: str
    sent: int
    next_due_at: datetime | None
    snoozed_until: datetime | None
    last_sent_at: datetime | None
    claim_owner: str | None
    claimed_at: datetime | None

    @property
    def active(self) -> bool:
        return self.next_due_at is not None


@dataclass(frozen=True, slots=True)
class ExpiryRecord:
    request_id: str
    days_before: int
    expires_at: datetime
    due_at: datetime | None
    outcome: str | None
    done_at: datetime | None
    claim_owner: str | None
    claimed_at: datetime | None


@dataclass(frozen=True, slots=True)
class RenewalRecord:
    team_id: str
    slack_user_id: str
    request_id: str
    due_at: datetime | None
    outcome: str | None
    done_at: datetime | None
    claim_owner: str | None
    claimed_at: datetime | None


@dataclass(frozen=True, slots=True)
class ChannelFailure:
    """A channel the app cannot post in, since `first_failed_at`; `waiting`: the cards held for it."""

    channel: str
    reason: str  # Slack's error code, the latest one
    first_failed_at: datetime
    last_failed_at: datetime
    next_attempt_at: datetime
    attempts: int
    owner_told_at: datetime | None
    waiting: int = 0
