"""Shared fixtures: real servers on loopback and an injected clock; the two store backends are a plugin."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from marketplace_slack.infra.clock import FakeClock

DATA = Path(__file__).parent / "data"

# The `store` / `store_database` fixtures (SQLite and PostgreSQL) live in tests/backends.py.
pytest_plugins = ["backends"]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def sandbox(clock: FakeClock) -> AsyncIterator[object]:
    """A running Marketplace sandbox on 127.0.0.1 with the seeded world, driven by the fake clock."""
    from marketplace_slack_standins.sandbox.server import SandboxServer

    async with SandboxServer(clock=clock) as server:
        yield server
