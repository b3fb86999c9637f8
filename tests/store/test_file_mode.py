"""The SQLite file, and the -wal and -shm files SQLite makes beside it, are readable by their owner only."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from marketplace_slack.infra.vault import TokenVault
from marketplace_slack.store.database import open_store

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


async def test_a_new_database_file_is_private_whatever_the_umask(tmp_path: Path) -> None:
    path = tmp_path / "state" / "app.db"
    previous = os.umask(0o022)  # the usual umask, which would leave a file readable by everyone
    try:
        store = await open_store(
            f"sqlite+aiosqlite:///{path}", TokenVault([SecretStr(Fernet.generate_key().decode())])
        )
        try:
            await store.links.save(
                "T1",
                "U1",
                marketplace_user_id="m1",
                marketplace_username="sara",
                email=None,
                token=SecretStr("sbx_sara"),
                now=datetime(2026, 1, 1, tzinfo=UTC),
            )
            files = {p.name: stat.S_IMODE(p.stat().st_mode) for p in path.parent.iterdir()}
        finally:
            await store.aclose()
    finally:
        os.umask(previous)
    assert {"app.db", "app.db-wal", "app.db-shm"} <= set(files)
    assert files == {name: 0o600 for name in files}


async def test_an_existing_file_keeps_the_mode_its_operator_gave_it(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    path.touch(mode=0o640)
    path.chmod(0o640)
    store = await open_store(
        f"sqlite+aiosqlite:///{path}", TokenVault([SecretStr(Fernet.generate_key().decode())])
    )
    await store.aclose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
