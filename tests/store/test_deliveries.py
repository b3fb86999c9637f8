"""Webhook retries and once-only actions: the first caller wins, every repeat is told no."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.store.repository import Repository


async def test_a_delivery_is_new_only_once(store: Repository, clock: FakeClock) -> None:
    assert await store.deliveries.mark("d-1", "request.created", now=clock.now())
    assert not await store.deliveries.mark("d-1", "request.created", now=clock.now())
    assert await store.deliveries.mark("d-2", "request.created", now=clock.now())


async def test_the_same_delivery_arriving_at_two_replicas_at_once_is_processed_once(
    open_repository: Callable[..., Awaitable[Repository]], clock: FakeClock
) -> None:
    replicas = [await open_repository() for _ in range(4)]
    results = await asyncio.gather(
        *(r.deliveries.mark("d-1", "request.updated", now=clock.now()) for r in replicas for _ in range(3))
    )
    assert sorted(results) == [False] * 11 + [True]


async def test_pruning_forgets_only_old_deliveries(store: Repository, clock: FakeClock) -> None:
    assert await store.deliveries.mark("old", "e", now=clock.now())
    clock.advance(timedelta(days=3))
    assert await store.deliveries.mark("new", "e", now=clock.now())
    assert await store.deliveries.prune(clock.now() - timedelta(days=1)) == 1
    assert await store.deliveries.mark("old", "e", now=clock.now())  # forgotten, so new again
    assert not await store.deliveries.mark("new", "e", now=clock.now())


async def test_claim_once_and_forget(store: Repository, clock: FakeClock) -> None:
    assert await store.marks.claim("step:r1:APPROVED", now=clock.now())
    assert not await store.marks.claim("step:r1:APPROVED", now=clock.now())
    assert await store.marks.claim("dm:req-1:APPROVED", now=clock.now())
    assert await store.marks.forget("step:r1:APPROVED")
    assert not await store.marks.forget("step:r1:APPROVED")
    assert await store.marks.claim("step:r1:APPROVED", now=clock.now())


async def test_once_forgets_the_mark_only_when_the_winners_action_fails(
    store: Repository, clock: FakeClock
) -> None:
    with pytest.raises(RuntimeError, match="Slack is down"):
        async with store.once("dm:req-1:APPROVED", now=clock.now()) as won:
            assert won
            raise RuntimeError("Slack is down")
    async with store.once("dm:req-1:APPROVED", now=clock.now()) as won:
        assert won  # the failed attempt left no mark behind
    async with store.once("dm:req-1:APPROVED", now=clock.now()) as won:
        assert not won  # done once, never again
    with pytest.raises(RuntimeError):
        async with store.once("dm:req-1:APPROVED", now=clock.now()) as won:
            assert not won
            raise RuntimeError("a loser's failure")
    assert not await store.marks.claim("dm:req-1:APPROVED", now=clock.now())  # the winner's mark stays


async def test_pruning_forgets_old_marks_of_the_kinds_named_only(store: Repository, clock: FakeClock) -> None:
    for key in ("reminder:r1:U1:1", "step:r1:APPROVED", "a_b:1", "aXb:1"):
        assert await store.marks.claim(key, now=clock.now())
    clock.advance(timedelta(days=3))
    assert await store.marks.claim("reminder:r1:U1:2", now=clock.now())
    assert await store.marks.prune(clock.now() - timedelta(days=1), prefixes=["reminder:", "a_b:"]) == 2
    assert await store.marks.claim("reminder:r1:U1:1", now=clock.now())  # old: forgotten
    assert await store.marks.claim("a_b:1", now=clock.now())
    assert not await store.marks.claim("aXb:1", now=clock.now())  # "_" is no wildcard
    assert not await store.marks.claim("step:r1:APPROVED", now=clock.now())  # a kind not named
    assert not await store.marks.claim("reminder:r1:U1:2", now=clock.now())  # young
    assert await store.marks.prune(clock.now(), prefixes=[]) == 0
