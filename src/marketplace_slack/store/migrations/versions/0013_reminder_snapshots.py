"""What a reminder tick needs, in the store: a tracked step's request as its card last showed it.

`reminder_steps.snapshot` (JSON) holds the parts of the request that planning reads (its parties,
product, domains and open steps with their approvers), written whenever the card is shown, so
finding a step's recipients asks the Marketplace nothing; steps tracked before this revision have
none and are read from the Marketplace once, when next planned. The "what is due" queries already
have their indexes (`plan_at`, `next_due_at`, `due_at`).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reminder_steps") as batch:
        batch.add_column(sa.Column("snapshot", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reminder_steps") as batch:
        batch.drop_column("snapshot")
