"""Async engines for the two supported backends, tuned so concurrent writers queue instead of failing."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Connection, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util import await_only

DEFAULT_URL: Final = "sqlite+aiosqlite:///./marketplace-slack.db"

# Execution option marking a transaction that will write. On SQLite it begins with BEGIN IMMEDIATE,
# taking the write lock up front: a deferred transaction that reads and then writes can fail with
# SQLITE_BUSY without ever waiting, while IMMEDIATE waits its turn under busy_timeout.
WRITE: Final = {"marketplace_slack_write": True}

SQLITE_BUSY_TIMEOUT_MS: Final = 15_000
_WAL_RETRY_SECONDS: Final = 0.05


class UnsupportedDatabase(ValueError):
    pass


def create_engine(url: str, *, schema: str | None = None) -> AsyncEngine:
    """An engine for `sqlite+aiosqlite:///path` or `postgresql+asyncpg://...`.

    `schema` (PostgreSQL only) puts the app's tables in that existing schema via search_path.
    """
    parsed = make_url(url)
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    if backend == "sqlite":
        if driver != "aiosqlite":
            raise UnsupportedDatabase("SQLite needs the async driver: sqlite+aiosqlite:///path/to/file.db")
        if schema is not None:
            raise UnsupportedDatabase("a schema can only be chosen on PostgreSQL")
        database = parsed.database or ""
        if database in ("", ":memory:") or database.startswith("file::memory:"):
            # Every pooled connection would see its own empty database.
            raise UnsupportedDatabase("an in-memory SQLite database cannot be shared: give a file path")
        _create_private(Path(database).expanduser())
        engine = create_async_engine(parsed)
        _tune_sqlite(engine)
        return engine
    if backend == "postgresql":
        if driver != "asyncpg":
            raise UnsupportedDatabase("PostgreSQL needs the async driver: postgresql+asyncpg://...")
        connect_args: dict[str, Any] = {}
        if schema is not None:
            connect_args["server_settings"] = {"search_path": schema}
        return create_async_engine(parsed, pool_pre_ping=True, connect_args=connect_args)
    raise UnsupportedDatabase(f"unsupported database {backend!r}: use SQLite or PostgreSQL")


def _create_private(path: Path) -> None:
    """Create the SQLite file readable by its owner only, before SQLite opens it.

    It holds encrypted tokens, but also who asked for what; SQLite gives the -wal and -shm files it
    makes beside it the database file's own permissions, so those follow. An existing file is left as
    its operator made it.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def _tune_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own implicit BEGIN skips SELECTs and DDL; we begin transactions ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            # WAL: readers never block the writer, and the writer never blocks readers.
            _enter_wal(cursor)
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get("marketplace_slack_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _enter_wal(cursor: Any) -> None:
    """Switch to WAL, waiting out another connection's transaction like busy_timeout would.

    Changing the journal mode needs the database to itself, and SQLite answers "database is
    locked" at once instead of calling the busy handler: two replicas opening a new database
    together would otherwise fail at random. The wait yields to the event loop (this runs in
    SQLAlchemy's greenlet, so `await_only` can suspend it).
    """
    waited = 0.0
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or waited * 1000 >= SQLITE_BUSY_TIMEOUT_MS:
                raise
        await_only(asyncio.sleep(_WAL_RETRY_SECONDS))
        waited += _WAL_RETRY_SECONDS
