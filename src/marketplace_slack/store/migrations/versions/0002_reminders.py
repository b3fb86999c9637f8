"""Reminders, digests and expiry notices: reminder steps and schedules, expiry notices, card summaries.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.add_column("cards", sa.Column("summary", sa.Text()))

    op.create_table(
        "reminder_steps",
        sa.Column("record_id", sa.String(255), nullable=False),
        sa.Column("request_id", sa.String(255), nullable=False),
        _when("opened_at"),
        _when("plan_at", nullable=True),
        _when("stopped_at", nullable=True),
        _when("created_at"),
        _when("updated_at"),
        sa.PrimaryKeyConstraint("record_id", name="pk_reminder_steps"),
    )
    op.create_index("ix_reminder_steps_request_id", "reminder_steps", ["request_id"])
    op.create_index("ix_reminder_steps_plan_at", "reminder_steps", ["plan_at"])

    op.create_table(
        "reminders",
        sa.Column("record_id", sa.String(255), nullable=False),
        sa.Column("recipient", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(255), nullable=False),
        sa.Column("recipient_name", sa.String(255)),
        sa.Column("tz", sa.String(64)),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        _when("next_due_at", nullable=True),
        _when("snoozed_until", nullable=True),
        _when("last_sent_at", nullable=True),
        sa.Column("claim_owner", sa.String(255)),
        _when("claimed_at", nullable=True),
        _when("created_at"),
        _when("updated_at"),
        sa.PrimaryKeyConstraint("record_id", "recipient", name="pk_reminders"),
    )
    op.create_index("ix_reminders_request_id", "reminders", ["request_id"])
    op.create_index("ix_reminders_next_due_at", "reminders", ["next_due_at"])

    op.create_table(
        "expiry_notices",
        sa.Column("request_id", sa.String(255), nullable=False),
        sa.Column("days_before", sa.Integer(), nullable=False),
        _when("expires_at"),
        _when("due_at", nullable=True),
        sa.Column("outcome", sa.String(32)),
        _when("done_at", nullable=True),
        sa.Column("claim_owner", sa.String(255)),
        _when("claimed_at", nullable=True),
        _when("created_at"),
        _when("updated_at"),
        sa.PrimaryKeyConstraint("request_id", "days_before", name="pk_expiry_notices"),
    )
    op.create_index("ix_expiry_notices_due_at", "expiry_notices", ["due_at"])


def downgrade() -> None:
    for table in ("expiry_notices", "reminders", "reminder_steps"):
        op.drop_table(table)
    # Batch mode, so SQLite (which cannot always drop a column in place) copies the table instead.
    with op.batch_alter_table("cards") as batch:
        batch.drop_column("summary")
