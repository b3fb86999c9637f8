"""A card's snapshot: the request as the card last showed it, so a decision can show the card again
from it and the Marketplace's answer instead of reading the whole request twice.

Rows written before this revision have none; their next decision reads the request as before, and the
card shown after it stores one.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("cards", sa.Column("snapshot", sa.Text()))


def downgrade() -> None:
    # SQLite drops a column only by rebuilding the table; batch mode does that (plain ALTER on PG).
    with op.batch_alter_table("cards") as batch:
        batch.drop_column("snapshot")
