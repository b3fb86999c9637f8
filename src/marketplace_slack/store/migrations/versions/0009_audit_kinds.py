"""The audit log keeps every act an auditor asks about, not only decisions: refusals, links, unlinks,
ended links and agreement acceptances (`kind`, with what each needs in `detail`).

Rows written before this revision are decisions. A decision still names its request, record and
verdict (a CHECK says so); the other kinds may leave them empty.

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DECISION_COMPLETE = (
    "kind <> 'decision' OR (request_id IS NOT NULL AND record_id IS NOT NULL AND verdict IS NOT NULL)"
)


def upgrade() -> None:
    # SQLite changes nullability only by rebuilding the table; batch mode does that (plain ALTER on PG).
    # The server default fills `kind` for the rows already there, and for writers that predate it.
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("kind", sa.String(32), nullable=False, server_default="decision"))
        batch.add_column(sa.Column("detail", sa.Text(), nullable=True))
        batch.alter_column("request_id", existing_type=sa.String(255), nullable=True)
        batch.alter_column("record_id", existing_type=sa.String(255), nullable=True)
        batch.alter_column("verdict", existing_type=sa.String(16), nullable=True)
        batch.create_check_constraint("ck_audit_log_decision_complete", _DECISION_COMPLETE)
    op.create_index("ix_audit_log_at_id", "audit_log", ["at", "id"])


def downgrade() -> None:
    # The older schema has no room for the other kinds: going back drops them.
    op.execute("DELETE FROM audit_log WHERE kind <> 'decision'")
    op.drop_index("ix_audit_log_at_id", table_name="audit_log")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_constraint("ck_audit_log_decision_complete", type_="check")
        batch.alter_column("verdict", existing_type=sa.String(16), nullable=False)
        batch.alter_column("record_id", existing_type=sa.String(255), nullable=False)
        batch.alter_column("request_id", existing_type=sa.String(255), nullable=False)
        batch.drop_column("detail")
        batch.drop_column("kind")
