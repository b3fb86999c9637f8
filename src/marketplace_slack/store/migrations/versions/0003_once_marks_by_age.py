"""Once-marks by age: pruning settled marks reads an index instead of the whole table.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_once_marks_claimed_at", "once_marks", ["claimed_at"])


def downgrade() -> None:
    op.drop_index("ix_once_marks_claimed_at", table_name="once_marks")
