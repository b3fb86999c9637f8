"""Links have a lifetime, and a Marketplace user has one live link.

`warned_at` says the link's "expires soon" DM went; `claim_owner` / `claimed_at` are the lease of the
replica warning about or ending it. The index on `marketplace_user_id` becomes unique: where two
Slack accounts were linked to one Marketplace user, the most recently updated link stays and the
others end here, each with an audit row (`link_ended`, outcome `displaced`), since nobody can be
told from a migration.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables as this revision finds them, spelled out here: a migration must not change with tables.py.
_links = sa.table(
    "linked_accounts",
    *(sa.column(name) for name in ("team_id", "slack_user_id", "marketplace_user_id")),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
_audit = sa.table(
    "audit_log",
    sa.column("at", sa.DateTime(timezone=True)),
    *(
        sa.column(name)
        for name in ("kind", "team_id", "slack_user_id", "marketplace_user_id", "outcome", "detail")
    ),
)


def _outranked() -> sa.ColumnElement[bool]:
    """A link another link to the same Marketplace user outranks: updated later, or (a tie) a
    greater key."""
    newer = _links.alias("newer")
    return sa.exists().where(
        newer.c.marketplace_user_id == _links.c.marketplace_user_id,
        sa.or_(
            newer.c.updated_at > _links.c.updated_at,
            sa.and_(
                newer.c.updated_at == _links.c.updated_at,
                sa.tuple_(newer.c.team_id, newer.c.slack_user_id)
                > sa.tuple_(_links.c.team_id, _links.c.slack_user_id),
            ),
        ),
    )


def upgrade() -> None:
    ended = sa.select(
        sa.func.current_timestamp(),
        sa.literal("link_ended"),
        _links.c.team_id,
        _links.c.slack_user_id,
        _links.c.marketplace_user_id,
        sa.literal("displaced"),
        sa.literal('{"by": "migration 0010"}'),
    ).where(_outranked())
    op.execute(
        _audit.insert().from_select(
            ["at", "kind", "team_id", "slack_user_id", "marketplace_user_id", "outcome", "detail"], ended
        )
    )
    op.execute(_links.delete().where(_outranked()))
    with op.batch_alter_table("linked_accounts") as batch:
        batch.add_column(sa.Column("warned_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("claim_owner", sa.String(255), nullable=True))
        batch.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
    op.drop_index("ix_linked_accounts_marketplace_user_id", table_name="linked_accounts")
    op.create_index(
        "ix_linked_accounts_marketplace_user_id", "linked_accounts", ["marketplace_user_id"], unique=True
    )
    op.create_index("ix_linked_accounts_linked_at", "linked_accounts", ["linked_at"])
    op.create_index("ix_linked_accounts_warned_at_linked_at", "linked_accounts", ["warned_at", "linked_at"])


def downgrade() -> None:
    op.drop_index("ix_linked_accounts_warned_at_linked_at", table_name="linked_accounts")
    op.drop_index("ix_linked_accounts_linked_at", table_name="linked_accounts")
    op.drop_index("ix_linked_accounts_marketplace_user_id", table_name="linked_accounts")
    op.create_index("ix_linked_accounts_marketplace_user_id", "linked_accounts", ["marketplace_user_id"])
    with op.batch_alter_table("linked_accounts") as batch:
        batch.drop_column("claimed_at")
        batch.drop_column("claim_owner")
        batch.drop_column("warned_at")
