"""Start-up: open the database, bring its schema to the current revision, hand back the repository."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Final
from weakref import WeakKeyDictionary

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from marketplace_slack.infra.vault import TokenVault
from marketplace_slack.store.engine import WRITE, create_engine
from marketplace_slack.store.repository import Repository

# Inside the package, so it ships in the wheel and is found from any working directory.
MIGRATIONS_DIR: Final = Path(__file__).resolve().parent / "migrations"

# pg_advisory_xact_lock(classid, objid): the first half names this app, the second the schema, so
# replicas sharing a schema take turns while other schemas (other apps, other test runs) do not wait.
_PG_LOCK_CLASS: Final = 0x4D50_534C  # "MPSL"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


_loop_locks: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = WeakKeyDictionary()


def _in_process_lock() -> asyncio.Lock:
    # Alembic keeps the running migration in module globals (`alembic.context`, `alembic.op`): two
    # migrations interleaving on one event loop, even on different databases, would run each
    # other's operations. One lock per loop, since tests run a loop each.
    loop = asyncio.get_running_loop()
    lock = _loop_locks.get(loop)
    if lock is None:
        lock = _loop_locks[loop] = asyncio.Lock()
    return lock


@asynccontextmanager
async def migration_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """One transaction that only one migrator at a time can be in, on either backend.

    PostgreSQL runs DDL transactionally, so a second replica that waited for the lock then finds
    the schema at head and does nothing. On SQLite, BEGIN IMMEDIATE is the lock. The in-process
    lock is taken first, so that a task holding the database lock never waits for it.
    """
    async with _in_process_lock(), engine.execution_options(**WRITE).begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:cls, hashtext(current_schema()))"),
                {"cls": _PG_LOCK_CLASS},
            )
        yield connection


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    async with migration_transaction(engine) as connection:
        await connection.run_sync(_run_command, "upgrade", revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    async with migration_transaction(engine) as connection:
        await connection.run_sync(_run_command, "downgrade", revision)


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _run_command(connection: Connection, name: str, revision: str) -> None:
    config = alembic_config()
    # env.py runs on this connection instead of opening its own.
    config.attributes["connection"] = connection
    if name == "upgrade":
        command.upgrade(config, revision)
    else:
        command.downgrade(config, revision)


async def open_store(
    url: str, vault: TokenVault, *, schema: str | None = None, migrate: bool = True
) -> Repository:
    """Connect, upgrade the schema to head (safe to race from several replicas), return the repository.

    Close it with `await store.aclose()` (or use it as `async with`).
    """
    engine = create_engine(url, schema=schema)
    try:
        if migrate:
            await upgrade(engine)
    except BaseException:
        await engine.dispose()
        raise
    return Repository(engine, vault)
