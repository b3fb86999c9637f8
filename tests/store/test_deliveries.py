"""Webhook retries and once-only actions: the first caller wins, every repeat is told no."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.store.repository import Repository


async def test_a_delivery_is_new_only_once(store: Repository, clock: FakeClock) -> None:
    assert await store.mark_delivery("d-1", "request.created", now=clock.now())
    assert not await store.mark_delivery("d-1", "request.created", now=clock.now())
    assert await store.mark_delivery("d-2", "request.created", now=clock.now())


async def test_the_same_delivery_arriving_at_two_replicas_at_once_is_processed_once(
    open_repository: Callable[..., Awaitable[Repository]], clock: FakeClock
) -> None:
    replicas = [await open_repository() for _ in range(4)]
    results = await asyncio.gather(
        *(r.mark_delivery("d-1", "request.updated", now=clock.now()) for r in replicas for _ in range(3))
    )
    assert sorted(results) == [False] * 11 + [True]


async def test_pruning_forgets_only_old_deliveries(store: Repository, clock: FakeClock) -> None:
    assert await store.mark_delivery("old", "e", now=clock.now())
    clock.advance(timedelta(days=3))
    assert await store.mark_delivery("new", "e", now=clock.now())
    assert await store.prune_deliveries(clock.now() - timedelta(days=1)) == 1
    assert await store.mark_delivery("old", "e", now=clock.now())  # forgotten, so new again
    assert not await store.mark_delivery("new", "e", now=clock.now())


async def test_claim_once_and_forget(store: Repository, clock: FakeClock) -> None:
    assert await store.claim_once("step:r1:APPROVED", now=clock.now())
    assert not await store.claim_once("step:r1:APPROVED", now=clock.now())
    assert await store.claim_once("dm:req-1:APPROVED", now=clock.now())
    assert await store.forget_once("step:r1:APPROVED")
    assert not await store.forget_once("step:r1:APPROVED")
    assert await store.claim_once("step:r1:APPROVED", now=clock.now())
