"""Alembic environment, run two ways.

At start-up `marketplace_slack.store.database.upgrade` hands over a connection that is already
inside the migration lock (config.attributes["connection"]). From the command line (`uv run alembic
...` at the repository root, for writing new revisions) it opens its own engine from `-x url=...`,
MPSLACK_DATABASE_URL, or the default SQLite file, and takes the same lock.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection

from marketplace_slack.store.database import migration_transaction
from marketplace_slack.store.engine import DEFAULT_URL, create_engine
from marketplace_slack.store.tables import UTCDateTime, metadata

config = context.config


def _url() -> str:
    return (
        context.get_x_argument(as_dictionary=True).get("url")
        or config.get_main_option("sqlalchemy.url")
        or os.environ.get("MPSLACK_DATABASE_URL")
        or DEFAULT_URL
    )


def _render_item(kind: str, obj: Any, _autogen_context: AutogenContext) -> str | Literal[False]:
    # Revisions must not import app code that may change later: spell the column type out.
    if kind == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_item=_render_item,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_own_engine(url: str) -> None:
    engine = create_engine(url)
    try:
        async with migration_transaction(engine) as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True, render_item=_render_item)
    with context.begin_transaction():
        context.run_migrations()
elif (given := config.attributes.get("connection")) is not None:
    _run(given)
else:
    asyncio.run(_run_own_engine(_url()))
