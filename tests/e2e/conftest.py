"""The whole app on loopback: Marketplace sandbox, fake Slack, and the app between them, on both stores."""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator

import pytest

from marketplace_slack.infra.clock import FakeClock
from marketplace_slack_standins.stage import Stage, open_stage


@pytest.fixture
async def stage(
    store_database: object,
    clock: FakeClock,
) -> AsyncIterator[Stage]:
    db = store_database
    extra = {"MPSLACK_DATABASE_SCHEMA": db.schema} if getattr(db, "schema", None) else {}
    async with open_stage(database_url=db.url, clock=clock, **extra) as running:  # type: ignore[attr-defined]
        yield running


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """What the app did in the background is part of the test: checked in the test's own phase, not in
    the fixture's teardown, so an `xfail` mark covers it too."""
    yield
    running = getattr(item, "funcargs", {}).get("stage")
    if isinstance(running, Stage):
        assert running.slack.violations == [], "the app sent something Slack would reject"
        assert running.app.tasks.failures == 0, "a background task failed"
