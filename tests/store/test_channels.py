"""Failing channels and the cards waiting for them: episodes, backoff, one retrier, moved cards."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.store.channels import backoff
from marketplace_slack.store.repository import Repository

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


def test_backoff_doubles_from_the_first_delay_up_to_the_longest() -> None:
    delays = [backoff(n, first=MINUTE, longest=HOUR) for n in range(1, 9)]
    assert delays == [MINUTE * m for m in (1, 2, 4, 8, 16, 32, 60, 60)]
    assert backoff(10_000, first=MINUTE, longest=HOUR) == HOUR


async def test_an_episode_counts_attempts_holds_its_cards_and_ends_when_none_waits(
    store: Repository, clock: FakeClock
) -> None:
    now = clock.now()
    first = await store.channels.failed(
        "G1", "channel_not_found", "req-1", now=now, first_delay=MINUTE, longest_delay=HOUR
    )
    assert (first.attempts, first.next_attempt_at) == (1, now + MINUTE)
    again = await store.channels.failed(
        "G1", "is_archived", "req-2", now=now, first_delay=MINUTE, longest_delay=HOUR
    )
    assert (again.attempts, again.reason, again.next_attempt_at) == (2, "is_archived", now + 2 * MINUTE)
    assert again.first_failed_at == now
    assert await store.channels.waiting("G1") == ["req-1", "req-2"]
    assert sorted(await store.channels.held(now=now)) == ["req-1", "req-2"]
    [failing] = await store.channels.failing()
    assert failing.waiting == 2

    assert await store.channels.tell_owner("G1", now=now)
    assert not await store.channels.tell_owner("G1", now=now)  # once per episode

    assert not await store.channels.recovered("G1")  # cards still wait
    assert await store.channels.done("req-1")
    assert await store.channels.delivered("req-2", "G1", now=now)
    assert await store.channels.held(now=now) == []
    assert await store.channels.recovered("G1")
    assert await store.channels.failing() == []
    assert not await store.channels.delivered("req-3", "G1", now=now)  # no failure: a read, nothing else


async def test_replicas_retrying_at_once_each_take_a_channel_once(
    open_repository: Callable[..., Awaitable[Repository]], clock: FakeClock
) -> None:
    replicas = [await open_repository() for _ in range(4)]
    for channel in ("G1", "G2"):
        await replicas[0].channels.failed(
            channel,
            "not_in_channel",
            f"req-{channel}",
            now=clock.now(),
            first_delay=MINUTE,
            longest_delay=HOUR,
        )
    clock.advance(MINUTE)
    claimed = await asyncio.gather(*(r.channels.claim_due(clock.now(), hold=MINUTE) for r in replicas))
    assert sorted(f.channel for batch in claimed for f in batch) == ["G1", "G2"]
    assert await replicas[0].channels.claim_due(clock.now(), hold=MINUTE) == []


async def test_a_moved_card_is_recorded_once(store: Repository, clock: FakeClock) -> None:
    now = clock.now()
    assert await store.cards.claim("req-1", "C1", owner="a", now=now, lease=MINUTE)
    assert await store.cards.posted("req-1", "C1", "1.1", fingerprint="f1", status="PENDING", now=now)
    assert await store.cards.moved(
        "req-1", old=("C1", "1.1"), new=("C1", "2.2"), fingerprint="f2", status="APPROVED", now=now
    )
    # A second replica that also found the card gone lost the race: it deletes its own repost.
    assert not await store.cards.moved(
        "req-1", old=("C1", "1.1"), new=("C1", "3.3"), fingerprint="f2", status="APPROVED", now=now
    )
    card = await store.cards.get("req-1")
    assert card is not None and (card.ts, card.fingerprint, card.status) == ("2.2", "f2", "APPROVED")
