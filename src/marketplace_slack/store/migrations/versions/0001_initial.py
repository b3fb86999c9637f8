"""Initial schema: cards, deliveries, linked accounts, decision claims, audit log, Slack users, once-marks.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "cards",
        sa.Column("request_id", sa.String(255), nullable=False),
        sa.Column("team_id", sa.String(64)),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("ts", sa.String(64)),
        sa.Column("fingerprint", sa.String(128)),
        sa.Column("status", sa.String(64)),
        sa.Column("claim_owner", sa.String(255)),
        _when("claimed_at", nullable=True),
        _when("posted_at", nullable=True),
        _when("created_at"),
        _when("updated_at"),
        sa.PrimaryKeyConstraint("request_id", name="pk_cards"),
        sa.UniqueConstraint("channel", "ts", name="uq_cards_channel_ts"),
    )
    op.create_index("ix_cards_status", "cards", ["status"])

    op.create_table(
        "webhook_deliveries",
        sa.Column("delivery_id", sa.String(255), nullable=False),
        sa.Column("event_type", sa.String(128), nullable=False),
        _when("received_at"),
        sa.PrimaryKeyConstraint("delivery_id", name="pk_webhook_deliveries"),
    )
    op.create_index("ix_webhook_deliveries_received_at", "webhook_deliveries", ["received_at"])

    op.create_table(
        "linked_accounts",
        sa.Column("team_id", sa.String(64), nullable=False),
        sa.Column("slack_user_id", sa.String(64), nullable=False),
        sa.Column("marketplace_user_id", sa.String(255), nullable=False),
        sa.Column("marketplace_username", sa.String(255), nullable=False),
        sa.Column("email", sa.String(320)),
        sa.Column("token_ciphertext", sa.LargeBinary(), nullable=False),
        _when("linked_at"),
        _when("updated_at"),
        sa.PrimaryKeyConstraint("team_id", "slack_user_id", name="pk_linked_accounts"),
    )
    op.create_index("ix_linked_accounts_marketplace_user_id", "linked_accounts", ["marketplace_user_id"])

    op.create_table(
        "decision_claims",
        sa.Column("record_id", sa.String(255), nullable=False),
        sa.Column("request_id", sa.String(255), nullable=False),
        sa.Column("slack_user_id", sa.String(64), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        _when("claimed_at"),
        sa.Column("outcome", sa.String(255)),
        sa.PrimaryKeyConstraint("record_id", name="pk_decision_claims"),
    )
    op.create_index("ix_decision_claims_request_id", "decision_claims", ["request_id"])

    op.create_table(
        "audit_log",
        # SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        _when("at"),
        sa.Column("request_id", sa.String(255), nullable=False),
        sa.Column("record_id", sa.String(255), nullable=False),
        sa.Column("team_id", sa.String(64)),
        sa.Column("slack_user_id", sa.String(64), nullable=False),
        sa.Column("marketplace_user_id", sa.String(255)),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("duration", sa.Integer()),
        sa.Column("duration_unit", sa.String(16)),
        sa.Column("reason", sa.Text()),
        sa.Column("outcome", sa.String(64), nullable=False),
        sa.Column("error", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
        sa.CheckConstraint(
            "(duration IS NULL) = (duration_unit IS NULL)", name="ck_audit_log_duration_complete"
        ),
    )
    op.create_index("ix_audit_log_request_id", "audit_log", ["request_id"])

    op.create_table(
        "slack_users",
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("slack_user_id", sa.String(64)),
        sa.Column("display_name", sa.String(255)),
        sa.Column("tz", sa.String(64)),
        _when("fetched_at"),
        sa.PrimaryKeyConstraint("email", name="pk_slack_users"),
    )
    op.create_index("ix_slack_users_fetched_at", "slack_users", ["fetched_at"])

    op.create_table(
        "once_marks",
        sa.Column("key", sa.String(255), nullable=False),
        _when("claimed_at"),
        sa.PrimaryKeyConstraint("key", name="pk_once_marks"),
    )


def downgrade() -> None:
    tables = ("once_marks", "slack_users", "audit_log", "decision_claims", "linked_accounts")
    for table in (*tables, "webhook_deliveries", "cards"):
        op.drop_table(table)
