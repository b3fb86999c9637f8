"""Reconciliation's cursor over the Marketplace's changes, and the request versions cards show.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "sync_cursors",
        sa.Column("name", sa.String(64), nullable=False),
        _when("since", nullable=True),
        _when("swept_at", nullable=True),
        _when("updated_at"),
        sa.PrimaryKeyConstraint("name", name="pk_sync_cursors"),
    )
    op.create_table(
        "request_versions",
        sa.Column("request_id", sa.String(255), nullable=False),
        sa.Column("status", sa.String(64), nullable=False),
        _when("updated_at"),
        _when("seen_at"),
        sa.PrimaryKeyConstraint("request_id", name="pk_request_versions"),
    )


def downgrade() -> None:
    op.drop_table("request_versions")
    op.drop_table("sync_cursors")
