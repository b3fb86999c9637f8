"""Decision claims name the process that holds them, so a restarted replica knows its own dead claims.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: claims taken before this revision have no owner and simply wait out their lease.
    op.add_column("decision_claims", sa.Column("owner", sa.String(255), nullable=True))


def downgrade() -> None:
    # SQLite drops a column only by rebuilding the table; batch mode does that (and is plain ALTER on PG).
    with op.batch_alter_table("decision_claims") as batch:
        batch.drop_column("owner")
