"""The schema comes from the migrations alone, agrees with tables.py, and survives racing replicas."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, column, insert, inspect, select, table
from sqlalchemy.exc import IntegrityError

from backends import StoreDatabase, StoreDatabases
from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.infra.vault import TokenVault
from marketplace_slack.store.database import current_revision, downgrade, head_revision, upgrade
from marketplace_slack.store.repository import Repository
from marketplace_slack.store.tables import UTCDateTime, audit_log, metadata

EXPECTED_TABLES = {table.name for table in metadata.sorted_tables} | {"alembic_version"}


def _tables(sync: Connection) -> set[str]:
    return set(inspect(sync).get_table_names())


def _differences(sync: Connection) -> list[object]:
    return list(compare_metadata(MigrationContext.configure(sync), metadata))


async def test_upgrade_from_empty_creates_every_table_and_matches_tables_py(
    store_database: StoreDatabase,
) -> None:
    engine = store_database.engine()
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(_tables) == set()
        assert await current_revision(engine) is None
        await upgrade(engine)
        assert await current_revision(engine) == head_revision() is not None
        async with engine.connect() as conn:
            assert await conn.run_sync(_tables) == EXPECTED_TABLES
            # A column added to tables.py without a migration (or the reverse) shows up here.
            assert await conn.run_sync(_differences) == []
    finally:
        await engine.dispose()


async def test_downgrade_to_base_and_back(store_database: StoreDatabase) -> None:
    engine = store_database.engine()
    try:
        await upgrade(engine)
        await downgrade(engine, "base")
        async with engine.connect() as conn:
            assert await conn.run_sync(_tables) == {"alembic_version"}
        await upgrade(engine)
        assert await current_revision(engine) == head_revision()
    finally:
        await engine.dispose()


async def test_replicas_starting_together_all_come_up_at_head(
    open_repository: Callable[..., Awaitable[Repository]], clock: FakeClock
) -> None:
    repos = await asyncio.gather(*(open_repository() for _ in range(4)))
    assert len(repos) == 4
    assert await current_revision(repos[0].engine) == head_revision()
    # And a later start finds nothing to do but still works.
    again = await open_repository()
    assert await again.deliveries.mark("d-1", "request.created", now=clock.now())
    assert not await repos[3].deliveries.mark("d-1", "request.created", now=clock.now())


async def test_migrating_several_databases_at_once_in_one_process(
    store_databases: StoreDatabases, vault: TokenVault, clock: FakeClock
) -> None:
    # Alembic keeps the running migration in module globals; interleaved, one would run the other's DDL.
    databases = [await store_databases.new() for _ in range(3)]
    repos = await asyncio.gather(*(database.open(vault) for database in databases * 2))
    try:
        for repo in repos:
            assert await current_revision(repo.engine) == head_revision()
        assert await repos[0].deliveries.mark("d-1", "e", now=clock.now())
        assert not await repos[3].deliveries.mark("d-1", "e", now=clock.now())  # same database as repos[0]
        assert await repos[1].deliveries.mark("d-1", "e", now=clock.now())  # a different one
    finally:
        for repo in repos:
            await repo.aclose()


_MIGRATE_IN_A_SUBPROCESS = """
import asyncio, sys
from marketplace_slack.store.database import upgrade
from marketplace_slack.store.engine import create_engine

async def main(url, schema):
    engine = create_engine(url, schema=schema or None)
    try:
        print("ready", flush=True)
        sys.stdin.readline()  # all start at once, after the slow imports
        await upgrade(engine)
    finally:
        await engine.dispose()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


async def test_replicas_in_separate_processes_starting_together(store_database: StoreDatabase) -> None:
    # Separate processes share no Python state: only the database's own lock keeps them apart.
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _MIGRATE_IN_A_SUBPROCESS,
            store_database.url,
            store_database.schema or "",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        for _ in range(2)
    ]
    try:
        for process in processes:
            assert process.stdout is not None
            assert await asyncio.wait_for(process.stdout.readline(), timeout=60) == b"ready\n"
        outputs = await asyncio.wait_for(
            asyncio.gather(*(p.communicate(b"go\n") for p in processes)), timeout=60
        )
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()
    failures = [out.decode() for p, (out, _) in zip(processes, outputs, strict=True) if p.returncode != 0]
    assert failures == [], failures
    engine = store_database.engine()
    try:
        assert await current_revision(engine) == head_revision()
    finally:
        await engine.dispose()


async def test_decisions_audited_before_the_kinds_migration_are_decisions(
    store_database: StoreDatabase,
) -> None:
    engine = store_database.engine()
    try:
        await upgrade(engine, "0007")
        async with engine.begin() as conn:
            # The log as 0007 left it: decisions only, no kind, no detail.
            old = table(
                "audit_log",
                column("at", UTCDateTime()),
                *(
                    column(name)
                    for name in ("request_id", "record_id", "slack_user_id", "verdict", "outcome")
                ),
            )
            await conn.execute(
                insert(old).values(
                    at=datetime(2026, 11, 1, tzinfo=UTC),
                    request_id="req-old",
                    record_id="rec-old",
                    slack_user_id="U1",
                    verdict="APPROVE",
                    outcome="ok",
                )
            )
        await upgrade(engine)
        async with engine.connect() as conn:
            row = (
                await conn.execute(select(audit_log.c.kind, audit_log.c.detail, audit_log.c.record_id))
            ).one()
            assert row == ("decision", None, "rec-old")
            assert await conn.run_sync(_differences) == []
        async with engine.begin() as conn:
            # Other kinds may leave the decision's fields empty...
            await conn.execute(
                insert(audit_log).values(
                    at=datetime(2026, 11, 2, tzinfo=UTC), kind="unlink", slack_user_id="U1", outcome="ok"
                )
            )
        # ...a decision may not, and a half duration stays refused (both CHECKs survived the rebuild).
        for bad in (
            {"kind": "decision", "request_id": "r", "slack_user_id": "U1", "outcome": "ok"},
            {"kind": "unlink", "slack_user_id": "U1", "outcome": "ok", "duration": 3},
        ):
            with pytest.raises(IntegrityError):
                async with engine.begin() as conn:
                    await conn.execute(insert(audit_log).values(at=datetime(2026, 11, 3, tzinfo=UTC), **bad))
        await downgrade(engine, "0007")
        async with engine.connect() as conn:
            rows = (await conn.execute(select(old.c.request_id))).all()
        assert rows == [("req-old",)]  # going back keeps the decisions and drops what 0007 cannot hold
    finally:
        await engine.dispose()


async def test_the_link_lifecycle_migration_keeps_one_link_per_marketplace_user(
    store_database: StoreDatabase,
) -> None:
    engine = store_database.engine()
    old = table(
        "linked_accounts",
        *(
            column(name)
            for name in (
                "team_id",
                "slack_user_id",
                "marketplace_user_id",
                "marketplace_username",
                "token_ciphertext",
            )
        ),
        column("linked_at", UTCDateTime()),
        column("updated_at", UTCDateTime()),
    )

    def link(user: str, marketplace_user: str, day: int) -> dict[str, object]:
        at = datetime(2026, 11, day, tzinfo=UTC)
        return {
            "team_id": "T1",
            "slack_user_id": user,
            "marketplace_user_id": marketplace_user,
            "marketplace_username": marketplace_user,
            "token_ciphertext": b"ciphertext",
            "linked_at": at,
            "updated_at": at,
        }

    try:
        await upgrade(engine, "0009")
        async with engine.begin() as conn:
            # Before 0010 one Marketplace user could be linked from several Slack users.
            await conn.execute(
                insert(old).values(
                    [
                        link("U1", "mp-sara", 1),
                        link("U2", "mp-sara", 3),
                        link("U3", "mp-sara", 2),
                        link("U4", "mp-omar", 1),
                    ]
                )
            )
        await upgrade(engine)
        async with engine.connect() as conn:
            kept = (await conn.execute(select(old.c.slack_user_id).order_by(old.c.slack_user_id))).all()
            ended = (
                await conn.execute(
                    select(audit_log.c.kind, audit_log.c.slack_user_id, audit_log.c.outcome).order_by(
                        audit_log.c.slack_user_id
                    )
                )
            ).all()
            assert await conn.run_sync(_differences) == []
        # The most recently updated link stays; the others end, each with its audit row.
        assert kept == [("U2",), ("U4",)]
        assert ended == [("link_ended", "U1", "displaced"), ("link_ended", "U3", "displaced")]
        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(insert(old).values(link("U5", "mp-sara", 4)))
        await downgrade(engine, "0009")
        async with engine.begin() as conn:
            await conn.execute(insert(old).values(link("U5", "mp-sara", 4)))  # 0009 allowed it
    finally:
        await engine.dispose()
