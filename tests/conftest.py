"""Shared fixtures: real servers on loopback and an injected clock; the two store backends are a plugin."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

from marketplace_slack.infra import logs
from marketplace_slack.infra.clock import FakeClock

DATA = Path(__file__).parent / "data"

# The `store` / `store_database` fixtures (SQLite and PostgreSQL) live in tests/backends.py.
pytest_plugins = ["backends"]


@pytest.fixture(autouse=True)
def _logging_left_as_found(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A test that runs the CLI in-process configures structlog the production way, caching each
    logger on first use; a later test's `capture_logs` would then see nothing. So within tests loggers
    are never cached, and the configuration (the standard library's levels and redaction included)
    is reset after each test."""
    configure = structlog.configure

    def uncached(*args: Any, **kwargs: Any) -> None:
        kwargs["cache_logger_on_first_use"] = False
        configure(*args, **kwargs)

    monkeypatch.setattr(structlog, "configure", uncached)
    factory, root_level = logging.getLogRecordFactory(), logging.root.level
    levels = {name: logging.getLogger(name).level for name in logs.LIBRARIES}
    yield
    structlog.reset_defaults()
    # `logs.configure` also redacts and caps the standard library's logging, which is process-wide.
    logs.uninstall_redaction()
    logging.setLogRecordFactory(factory)
    logging.root.setLevel(root_level)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def sandbox(clock: FakeClock) -> AsyncIterator[object]:
    """A running Marketplace sandbox on 127.0.0.1 with the seeded world, driven by the fake clock."""
    from marketplace_slack_standins.sandbox.server import SandboxServer

    async with SandboxServer(clock=clock) as server:
        yield server
