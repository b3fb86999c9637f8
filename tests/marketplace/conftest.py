"""Fixtures for the Marketplace client tests: a scripted loopback server and a sleep recorder."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable

import pytest

from marketplace_slack.marketplace.client import MarketplaceClient

from .loopback import ScriptedServer, SleepRecorder


class TopOfRange(random.Random):
    """Full jitter picks uniformly in [0, ceiling]; this picks the ceiling, so delays are exact."""

    def uniform(self, a: float, b: float) -> float:
        return b


@pytest.fixture
async def server() -> AsyncIterator[ScriptedServer]:
    scripted = ScriptedServer()
    await scripted.start()
    try:
        yield scripted
    finally:
        await scripted.stop()


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
async def make_client(sleeps: SleepRecorder) -> AsyncIterator[Callable[..., MarketplaceClient]]:
    """Build clients that record backoff sleeps and use the top of each jitter range."""
    made: list[MarketplaceClient] = []

    def build(base_url: str, token: str | None = "sbx_test", **kwargs: object) -> MarketplaceClient:
        options: dict[str, object] = {"sleep": sleeps, "rng": TopOfRange(), "timeout": 5.0}
        options.update(kwargs)
        client = MarketplaceClient(base_url, token, **options)  # type: ignore[arg-type]
        made.append(client)
        return client

    yield build
    for client in made:
        await client.aclose()
