"""Renewal reminders: "remind me when I can request this again", one row per person and grant.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "renewal_reminders",
        sa.Column("team_id", sa.String(64), nullable=False),
        sa.Column("slack_user_id", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(255), nullable=False),
        _when("due_at", nullable=True),
        sa.Column("outcome", sa.String(32)),
        _when("done_at", nullable=True),
        sa.Column("claim_owner", sa.String(255)),
        _when("claimed_at", nullable=True),
        _when("created_at"),
        _when("updated_at"),
        sa.PrimaryKeyConstraint("team_id", "slack_user_id", "request_id", name="pk_renewal_reminders"),
    )
    op.create_index("ix_renewal_reminders_due_at", "renewal_reminders", ["due_at"])


def downgrade() -> None:
    op.drop_table("renewal_reminders")
