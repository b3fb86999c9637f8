"""Table definitions: the repository's view of the schema that the Alembic migrations create.

The migrations spell the schema out on their own (a migration must not change when this file does);
`tests/store` checks that the two agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.types import TypeDecorator

from marketplace_slack.infra.clock import utc

# Deterministic constraint names, so later migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in, aware UTC out, on every backend.

    SQLite has no time zones: SQLAlchemy writes the wall-clock fields and drops tzinfo, so values
    are converted to UTC before writing (which also keeps the stored text comparable in SQL) and
    marked UTC again on read. Naive input is refused: its meaning depends on the host.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("the store takes timezone-aware datetimes only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else utc(value)


# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
_BigId = BigInteger().with_variant(Integer(), "sqlite")

cards = Table(
    "cards",
    metadata,
    Column("request_id", String(255), primary_key=True),
    Column("team_id", String(64)),
    Column("channel", String(64), nullable=False),
    Column("ts", String(64)),  # None while the card is claimed but not posted yet
    Column("fingerprint", String(128)),
    Column("status", String(64)),
    Column("claim_owner", String(255)),
    Column("claimed_at", UTCDateTime()),
    Column("posted_at", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("summary", Text()),  # JSON: what a digest lists about the request, as the card last showed it
    Column("snapshot", Text()),  # JSON: the request as the card last showed it (workflow/cards.py)
    UniqueConstraint("channel", "ts"),
    Index(None, "status"),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("delivery_id", String(255), primary_key=True),
    Column("event_type", String(128), nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
    Index(None, "received_at"),
)

linked_accounts = Table(
    "linked_accounts",
    metadata,
    Column("team_id", String(64), primary_key=True),
    Column("slack_user_id", String(64), primary_key=True),
    Column("marketplace_user_id", String(255), nullable=False),
    Column("marketplace_username", String(255), nullable=False),
    Column("email", String(320)),
    Column("token_ciphertext", LargeBinary(), nullable=False),
    Column("linked_at", UTCDateTime(), nullable=False),  # reset by every re-link: the link's age
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("warned_at", UTCDateTime()),  # this link's "expires soon" DM went; None again on a re-link
    Column("claim_owner", String(255)),  # the replica warning about or ending it now, for a lease
    Column("claimed_at", UTCDateTime()),
    # One live link per Marketplace user: a second Slack account linking it ends the first link
    # (store/links.py), and two links racing cannot both stay.
    Index(None, "marketplace_user_id", unique=True),
    Index(None, "linked_at"),  # links due to end
    Index(None, "warned_at", "linked_at"),  # links due a warning
)

decision_claims = Table(
    "decision_claims",
    metadata,
    Column("record_id", String(255), primary_key=True),
    Column("request_id", String(255), nullable=False),
    Column("slack_user_id", String(64), nullable=False),
    Column("verdict", String(16), nullable=False),
    Column("claimed_at", UTCDateTime(), nullable=False),
    Column("outcome", String(255)),  # None while in flight
    Column("owner", String(255)),  # the process holding it (`instance/incarnation`); None before 0006
    Index(None, "request_id"),
)

# Every act an auditor asks about (store/audit.py): decisions, refusals, links and unlinks, agreements.
# A decision names its request, record and verdict; the other kinds say what they need in `detail`.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("kind", String(32), nullable=False, server_default="decision"),
    Column("request_id", String(255)),
    Column("record_id", String(255)),
    Column("team_id", String(64)),
    Column("slack_user_id", String(64), nullable=False),
    Column("marketplace_user_id", String(255)),
    Column("verdict", String(16)),
    Column("duration", Integer()),
    Column("duration_unit", String(16)),
    Column("reason", Text()),
    Column("outcome", String(64), nullable=False),
    Column("error", Text()),
    Column("detail", Text()),  # JSON
    CheckConstraint("(duration IS NULL) = (duration_unit IS NULL)", name="duration_complete"),
    CheckConstraint(
        "kind <> 'decision' OR (request_id IS NOT NULL AND record_id IS NOT NULL AND verdict IS NOT NULL)",
        name="decision_complete",
    ),
    Index(None, "request_id"),
    Index(None, "at", "id"),  # the export walks the log in time order, a page at a time
)

slack_users = Table(
    "slack_users",
    metadata,
    Column("email", String(320), primary_key=True),  # lowercased
    Column("slack_user_id", String(64)),  # None: looked up, nobody in Slack has this email
    Column("display_name", String(255)),
    Column("tz", String(64)),
    Column("fetched_at", UTCDateTime(), nullable=False),
    Index(None, "fetched_at"),
)

# Things the workflow does at most once (a thread reply per decided step, a DM per outcome, each
# reminder, escalation, digest slot and expiry notice).
once_marks = Table(
    "once_marks",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("claimed_at", UTCDateTime(), nullable=False),
    # Who holds a mark whose action is under way (None for marks settled in one step), and whether
    # the action is done: a mark not done whose owner died is taken over after its lease.
    Column("owner", String(255)),
    Column("done", Boolean(), nullable=False, server_default=true()),
    Index(None, "claimed_at"),  # pruning finds settled marks by age, not by scanning every key
)

# Approval steps the app reminds about. A row is added cheaply whenever a card shows an open step;
# finding who to remind (Marketplace and Slack look-ups) happens later, on the scheduler's tick.
reminder_steps = Table(
    "reminder_steps",
    metadata,
    Column("record_id", String(255), primary_key=True),
    Column("request_id", String(255), nullable=False),
    Column("opened_at", UTCDateTime(), nullable=False),  # when the step became PENDING
    Column("plan_at", UTCDateTime()),  # when to look for its recipients (again); None once stopped
    Column("stopped_at", UTCDateTime()),  # decided, canceled, settled or off: nothing more to send
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    # JSON: the request as its card last showed it, what planning reads instead of the Marketplace.
    Column("snapshot", Text()),
    Index(None, "request_id"),
    Index(None, "plan_at"),
)

# One reminder schedule per step and recipient: each person is reminded in their own working hours.
reminders = Table(
    "reminders",
    metadata,
    Column("record_id", String(255), primary_key=True),
    Column("recipient", String(64), primary_key=True),  # Slack user id
    Column("request_id", String(255), nullable=False),
    Column("recipient_name", String(255)),
    Column("tz", String(64)),  # IANA zone from the Slack profile; None: the configured default
    Column("mode", String(16), nullable=False),  # thread | dm
    Column("sent", Integer(), nullable=False),  # reminders sent so far
    Column("next_due_at", UTCDateTime()),  # None: nothing more to send (stopped or escalated)
    Column("snoozed_until", UTCDateTime()),
    Column("last_sent_at", UTCDateTime()),
    Column("claim_owner", String(255)),  # the replica sending it now, for at most a lease
    Column("claimed_at", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index(None, "request_id"),
    Index(None, "next_due_at"),
)

# "Your access ends soon" DMs: one row per temporary grant and lead time (days before it ends).
expiry_notices = Table(
    "expiry_notices",
    metadata,
    Column("request_id", String(255), primary_key=True),
    Column("days_before", Integer(), primary_key=True),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("due_at", UTCDateTime()),  # None once done
    Column("outcome", String(32)),  # sent, superseded, stopped, no_slack_user
    Column("done_at", UTCDateTime()),
    Column("claim_owner", String(255)),
    Column("claimed_at", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index(None, "due_at"),
)

# "Remind me when I can request again": one row per person and grant they were told is still active;
# due when the grant ends, then the grant's "it ended" DM goes to them (once, whoever else sends it).
renewal_reminders = Table(
    "renewal_reminders",
    metadata,
    Column("team_id", String(64), primary_key=True),
    Column("slack_user_id", String(64), primary_key=True),
    Column("request_id", String(255), primary_key=True),
    Column("due_at", UTCDateTime()),  # None once done
    Column("outcome", String(32)),  # sent, still_active, renewed, gone, no_longer_due
    Column("done_at", UTCDateTime()),
    Column("claim_owner", String(255)),
    Column("claimed_at", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index(None, "due_at"),
)

# Channels the app could not post in, one row per failure episode (deleted when the channel works
# again), so the operator and readiness see it and the retry knows when to try next.
channel_failures = Table(
    "channel_failures",
    metadata,
    Column("channel", String(64), primary_key=True),
    Column("reason", String(64), nullable=False),  # Slack's error code, the latest one
    Column("first_failed_at", UTCDateTime(), nullable=False),
    Column("last_failed_at", UTCDateTime(), nullable=False),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("attempts", Integer(), nullable=False),
    Column("owner_told_at", UTCDateTime()),  # the route's owner was told of this episode
    Index(None, "next_attempt_at"),
)

# Requests whose card is waiting for its channel: what a retry of that channel shows again.
card_waits = Table(
    "card_waits",
    metadata,
    Column("request_id", String(255), primary_key=True),
    Column("channel", String(64), nullable=False),
    Column("since", UTCDateTime(), nullable=False),
    Index(None, "channel"),
)

# Where reconciliation resumes: one row per listing it follows (the Marketplace's access requests).
sync_cursors = Table(
    "sync_cursors",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("since", UTCDateTime()),  # the Marketplace's updatedAt the next pass lists down to; None: full
    Column("swept_at", UTCDateTime()),  # the last slow sweep of pending cards (the app's clock)
    Column("updated_at", UTCDateTime(), nullable=False),
)

# The version of each request a card last showed (status and the Marketplace's updatedAt), so a
# pass re-reads only requests whose listing says something else.
request_versions = Table(
    "request_versions",
    metadata,
    Column("request_id", String(255), primary_key=True),
    Column("status", String(64), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),  # the Marketplace's clock
    Column("seen_at", UTCDateTime(), nullable=False),  # the app's clock
)
