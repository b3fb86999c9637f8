"""Two-phase once-marks: who holds a mark, and whether its action is done.

A mark is claimed (held by `owner`, not done) before the message it guards is sent and marked done
once it is; a mark left not done by an owner that died is taken over after its lease. Marks that
exist already were settled under the old rule (claimed = done), so they are done.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("once_marks") as batch:
        batch.add_column(sa.Column("owner", sa.String(255), nullable=True))
        batch.add_column(sa.Column("done", sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table("once_marks") as batch:
        batch.drop_column("done")
        batch.drop_column("owner")
