"""Shared fixtures: real servers on loopback, an injected clock, and the PostgreSQL switch."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from marketplace_slack.clock import FakeClock

DATA = Path(__file__).parent / "data"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def sandbox(clock: FakeClock) -> AsyncIterator[object]:
    """A running Marketplace sandbox on 127.0.0.1 with the seeded world, driven by the fake clock."""
    from marketplace_slack.sandbox.server import SandboxServer

    async with SandboxServer(clock=clock) as server:
        yield server


def pg_url() -> str | None:
    """PostgreSQL for the tests that run on both databases; CI and the dev machine have one at 5432."""
    return os.environ.get(
        "MARKETPLACE_SLACK_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
    )
