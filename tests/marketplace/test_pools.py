"""A connection pool per lane: background work holding every connection of its pool never makes a
click wait for one (infra/tasks.py names the lanes, marketplace/transport.py picks the pool)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from marketplace_slack.infra.tasks import BackgroundTasks, Lane
from marketplace_slack.marketplace.client import MarketplaceClient

from .loopback import Reply, ScriptedServer, Seen


class Arrivals(list[Seen]):
    """The server's record of requests, which says when one has arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived = asyncio.Event()

    def append(self, seen: Seen) -> None:
        super().append(seen)
        self.arrived.set()


def _pool(name: str) -> httpx.AsyncClient:
    # One connection only: a second call in the same pool would wait for the first to end.
    return httpx.AsyncClient(
        headers={"X-Pool": name}, limits=httpx.Limits(max_connections=1), timeout=httpx.Timeout(5.0)
    )


@pytest.mark.timeout(20)
async def test_a_click_gets_a_connection_while_background_work_holds_all_of_its_pool(
    server: ScriptedServer,
) -> None:
    interactive, background = _pool("interactive"), _pool("background")
    client = MarketplaceClient(
        server.base_url, "sbx_app", http=interactive, background_http=background, max_retries=0
    )
    steward = client.with_token("sbx_steward")  # another identity: the same pools
    tasks = BackgroundTasks(concurrency=4, queue=4)
    server.script(Reply(hang=True))  # the reconciliation's call: a tenant that never answers
    server.default = Reply(json=[])
    server.seen = arrivals = Arrivals()
    stuck = tasks.spawn(client.get_webhooks(), name="job:reconcile", lane=Lane.BACKGROUND)
    await arrivals.arrived.wait()  # it holds the background pool's only connection now
    click = tasks.offer(steward.get_webhooks(), name="start-approve")
    assert click is not None
    assert await asyncio.wait_for(click, 5) == []
    assert [seen.headers.get("X-Pool") for seen in server.seen] == ["background", "interactive"]
    assert server.seen[1].headers.get("Authorization") == "Bearer sbx_steward"
    stuck.cancel()
    await tasks.drain()
    await client.aclose()
    assert not interactive.is_closed  # pools it was given are closed by their maker (the app)
    await interactive.aclose()
    await background.aclose()


async def test_without_a_background_pool_both_lanes_share_the_one(server: ScriptedServer) -> None:
    server.default = Reply(json=[])
    pool = _pool("only")
    async with MarketplaceClient(server.base_url, "sbx_app", http=pool) as client:
        tasks = BackgroundTasks()
        tasks.spawn(client.get_webhooks(), name="job", lane=Lane.BACKGROUND)
        await tasks.drain()
        await client.get_webhooks()
    assert [seen.headers.get("X-Pool") for seen in server.seen] == ["only", "only"]
    await pool.aclose()
