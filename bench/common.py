"""What the benchmarks share: the PostgreSQL they use, a free port, waiting for the app to serve, and
the statistics they print."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Final

import httpx
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

PG_URL: Final = os.environ.get(
    "MARKETPLACE_SLACK_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


@contextlib.asynccontextmanager
async def pg_schema(prefix: str) -> AsyncIterator[str]:
    """A fresh schema in the benchmarks' PostgreSQL (`PG_URL`), dropped with everything in it after."""
    schema = f"{prefix}_{secrets.token_hex(4)}"
    admin = create_async_engine(PG_URL, poolclass=NullPool)
    try:
        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        yield schema
    finally:
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await admin.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_healthy(url: str, *, tries: int = 400) -> None:
    """Until `url`/healthz answers 200 (20 s by default), or RuntimeError."""
    async with httpx.AsyncClient() as http:
        for _ in range(tries):
            with contextlib.suppress(httpx.TransportError):
                if (await http.get(f"{url}/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.05)
    raise RuntimeError("the app did not start")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def status_mb(pid: int, key: str = "VmRSS") -> float:
    """A memory figure of /proc/<pid>/status (VmRSS: resident now; VmHWM: its peak), in MB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(f"{key}:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def serve_env(
    sandbox: Any, slack: Any, *, port: int, secret: str, webhook_key: str, channel: str, **settings: str
) -> dict[str, str]:
    """The environment `marketplace-slack serve` runs in against the sandbox and the stand-in Slack:
    its own port, a fresh encryption key, quiet logs, and no periodic reconciliation or tick (a
    benchmark starts what it measures itself); `settings` adds to it or overrides it."""
    return {
        **os.environ,
        "MARKETPLACE_URL": sandbox.base_url,
        "MARKETPLACE_TOKEN": sandbox.token_for("admin"),
        "MARKETPLACE_WEBHOOK_SIGNING_KEY": webhook_key,
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": secret,
        "SLACK_API_URL": slack.base_url,
        "MPSLACK_DEFAULT_CHANNEL": channel,
        "MPSLACK_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "MPSLACK_HOST": "127.0.0.1",
        "MPSLACK_PORT": str(port),
        "MPSLACK_LOG_LEVEL": "WARNING",
        "MPSLACK_RECONCILE_SECONDS": "3600",
        "MPSLACK_TICK_SECONDS": "3600",
        **settings,
    }


@contextlib.asynccontextmanager
async def app_database(store: str, tmp: Path, name: str) -> AsyncIterator[dict[str, str]]:
    """The app's database settings for `store`: a SQLite file in `tmp`, or a fresh PostgreSQL schema
    dropped afterwards (`name` names both)."""
    if store == "sqlite":
        yield {"MPSLACK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / f'{name}.db'}"}
        return
    async with pg_schema(f"bench_{name}") as schema:
        yield {"MPSLACK_DATABASE_URL": PG_URL, "MPSLACK_DATABASE_SCHEMA": schema}
