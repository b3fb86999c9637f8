"""A real store on both backends, for every test that needs one (a plugin of the root conftest).

`store` is a migrated, empty `Repository`, parametrised over SQLite (a file in tmp_path) and
PostgreSQL (a fresh schema per test in the database named by `pg_url()`, dropped afterwards, so
concurrent test runs on the same server never meet). `store_database` gives the location itself,
for tests that open several stores on one database, as several replicas would (`open_repository`
does that); `store_databases.new()` makes more empty databases of the same backend.

PostgreSQL being unreachable fails the test, unless MARKETPLACE_SLACK_SKIP_PG=1.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from marketplace_slack.infra.vault import TokenVault
from marketplace_slack.store.database import open_store
from marketplace_slack.store.engine import create_engine
from marketplace_slack.store.repository import Repository

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def pg_url() -> str:
    """PostgreSQL for the tests that run on both databases; CI and the dev machine have one at 5432."""
    return os.environ.get(
        "MARKETPLACE_SLACK_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
    )


@dataclass(frozen=True)
class StoreDatabase:
    backend: str
    url: str
    schema: str | None = None

    async def open(self, vault: TokenVault, *, migrate: bool = True) -> Repository:
        return await open_store(self.url, vault, schema=self.schema, migrate=migrate)

    def engine(self) -> AsyncEngine:
        """A bare engine on the same tables (no migrations), for peeking at raw rows."""
        return create_engine(self.url, schema=self.schema)


class StoreDatabases:
    """Makes empty databases of one backend and removes them afterwards."""

    def __init__(self, backend: str, tmp_path_factory: pytest.TempPathFactory) -> None:
        self.backend = backend
        self._tmp = tmp_path_factory
        self._admin: AsyncEngine | None = None
        self._schemas: list[str] = []

    async def new(self) -> StoreDatabase:
        if self.backend == "sqlite":
            return StoreDatabase("sqlite", f"sqlite+aiosqlite:///{self._tmp.mktemp('store') / 'store.db'}")
        url = pg_url()
        assert url is not None
        if self._admin is None:
            self._admin = create_async_engine(url, poolclass=NullPool)
        schema = f"t_{secrets.token_hex(6)}"
        try:
            async with self._admin.begin() as conn:
                await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        except Exception as exc:
            where = make_url(url).render_as_string(hide_password=True)
            if os.environ.get("MARKETPLACE_SLACK_SKIP_PG") == "1":
                pytest.skip(
                    f"PostgreSQL at {where} unreachable ({exc!r}); skipped by MARKETPLACE_SLACK_SKIP_PG=1"
                )
            pytest.fail(
                f"PostgreSQL at {where} unreachable: {exc!r}. Start it, point MARKETPLACE_SLACK_TEST_PG_URL "
                "at one, or set MARKETPLACE_SLACK_SKIP_PG=1 to skip the PostgreSQL half."
            )
        self._schemas.append(schema)
        return StoreDatabase("postgresql", url, schema)

    async def aclose(self) -> None:
        if self._admin is None:
            return
        try:
            for schema in self._schemas:
                await self._drop(self._admin, schema)
        finally:
            await self._admin.dispose()

    @staticmethod
    async def _drop(admin: AsyncEngine, schema: str) -> None:
        drop = text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        try:
            async with admin.begin() as conn:
                await conn.execute(text("SET LOCAL lock_timeout = '5s'"))
                await conn.execute(drop)
            return
        except DBAPIError:
            pass
        # A failed test can leave a session mid-transaction on its tables (a task still awaiting when
        # the test ended), which would make the drop wait forever. Only this test's sessions can hold
        # locks in its randomly named schema.
        async with admin.begin() as conn:
            await conn.execute(
                text(
                    "SELECT pg_terminate_backend(l.pid) FROM pg_locks l "
                    "JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = :schema AND l.pid <> pg_backend_pid()"
                ),
                {"schema": schema},
            )
        async with admin.begin() as conn:
            await conn.execute(text("SET LOCAL lock_timeout = '5s'"))
            await conn.execute(drop)


@pytest.fixture(params=BACKENDS)
async def store_databases(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[StoreDatabases]:
    databases = StoreDatabases(request.param, tmp_path_factory)
    try:
        yield databases
    finally:
        await databases.aclose()


@pytest.fixture
async def store_database(store_databases: StoreDatabases) -> StoreDatabase:
    return await store_databases.new()


@pytest.fixture
def vault_keys() -> list[SecretStr]:
    return [SecretStr(TokenVault.generate_key())]


@pytest.fixture
def vault(vault_keys: list[SecretStr]) -> TokenVault:
    return TokenVault(vault_keys)


@pytest.fixture
async def open_repository(
    store_database: StoreDatabase, vault: TokenVault
) -> AsyncIterator[Callable[..., Awaitable[Repository]]]:
    """Open more repositories (separate engines, like replicas) on the test's database; all closed after."""
    opened: list[Repository] = []

    async def _open(vault_: TokenVault | None = None, *, migrate: bool = True) -> Repository:
        repo = await store_database.open(vault_ or vault, migrate=migrate)
        opened.append(repo)
        return repo

    yield _open
    for repo in opened:
        await repo.aclose()


@pytest.fixture
async def store(open_repository: Callable[..., Awaitable[Repository]]) -> Repository:
    return await open_repository()
