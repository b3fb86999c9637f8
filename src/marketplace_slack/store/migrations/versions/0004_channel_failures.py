"""Channels the app cannot post in, and the request cards waiting for them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "channel_failures",
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        _when("first_failed_at"),
        _when("last_failed_at"),
        _when("next_attempt_at"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _when("owner_told_at", nullable=True),
        sa.PrimaryKeyConstraint("channel", name="pk_channel_failures"),
    )
    op.create_index("ix_channel_failures_next_attempt_at", "channel_failures", ["next_attempt_at"])
    op.create_table(
        "card_waits",
        sa.Column("request_id", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        _when("since"),
        sa.PrimaryKeyConstraint("request_id", name="pk_card_waits"),
    )
    op.create_index("ix_card_waits_channel", "card_waits", ["channel"])


def downgrade() -> None:
    op.drop_table("card_waits")
    op.drop_table("channel_failures")
