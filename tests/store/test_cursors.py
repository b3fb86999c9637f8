"""Reconciliation's cursor and the request versions cards show: never backwards, one sweeper per period."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.store.cursors import Known
from marketplace_slack.store.repository import Repository

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # the Marketplace's clock
HOUR = timedelta(hours=1)


async def _card(store: Repository, request_id: str, status: str, now: datetime) -> None:
    await store.cards.posted(request_id, "C1", f"1.{request_id}", fingerprint="f", status=status, now=now)


async def test_the_cursor_starts_empty_and_only_moves_forward(store: Repository, clock: FakeClock) -> None:
    now = clock.now()
    assert await store.cursors.get("requests") is None
    assert await store.cursors.advance("requests", T0, now=now)
    assert not await store.cursors.advance("requests", T0 - HOUR, now=now)  # a slower replica's pass
    assert not await store.cursors.advance("requests", T0, now=now)
    cursor = await store.cursors.get("requests")
    assert cursor is not None and cursor.since == T0 and cursor.swept_at is None
    assert await store.cursors.advance("requests", T0 + HOUR, now=now)
    assert (await store.cursors.get("requests")).since == T0 + HOUR  # type: ignore[union-attr]


async def test_one_replica_sweeps_per_period(store: Repository, clock: FakeClock) -> None:
    now = clock.now()
    claims = [store.cursors.claim_sweep("requests", now=now, every=HOUR) for _ in range(4)]
    wins = await asyncio.gather(*claims)
    assert sorted(wins) == [False, False, False, True]
    assert (await store.cursors.get("requests")).since is None  # type: ignore[union-attr]  # still no pass
    assert not await store.cursors.claim_sweep("requests", now=now + HOUR / 2, every=HOUR)
    assert await store.cursors.claim_sweep("requests", now=now + HOUR, every=HOUR)
    await store.cursors.advance("requests", T0, now=now)
    cursor = await store.cursors.get("requests")
    assert cursor is not None and (cursor.since, cursor.swept_at) == (T0, now + HOUR)


async def test_a_version_is_never_replaced_by_an_older_one(store: Repository, clock: FakeClock) -> None:
    now = clock.now()
    await _card(store, "req-1", "APPROVED", now)
    await store.cursors.seen("req-1", "REVOKED", T0 + HOUR, now=now)
    await store.cursors.seen("req-1", "APPROVED", T0, now=now)  # a slower path with older news
    assert await store.cursors.known(["req-1", "req-2"]) == {"req-1": Known("APPROVED", "REVOKED", T0 + HOUR)}
    await store.cursors.seen("req-2", "PENDING", T0, now=now)  # shown, but no card (its channel refused)
    assert (await store.cursors.known(["req-2"]))["req-2"] == Known(None, "PENDING", T0)
    await store.cursors.seen_all(
        [("req-1", "EXPIRED", T0), ("req-2", "CANCELED", T0 + HOUR), ("req-3", "DENIED", T0)], now=now
    )
    assert await store.cursors.known(["req-1", "req-2", "req-3"]) == {
        "req-1": Known("APPROVED", "REVOKED", T0 + HOUR),  # kept: the newer one
        "req-2": Known(None, "CANCELED", T0 + HOUR),
        "req-3": Known(None, "DENIED", T0),
    }
    await store.cursors.seen_all([], now=now)


async def test_known_answers_for_many_ids_at_once(store: Repository, clock: FakeClock) -> None:
    now = clock.now()
    ids = [f"req-{n}" for n in range(1200)]  # more than one batch of bound parameters
    for request_id in ids[::300]:
        await _card(store, request_id, "PENDING", now)
    known = await store.cursors.known(ids)
    assert sorted(known) == sorted(ids[::300])
    assert all(k == Known("PENDING", None, None) for k in known.values())


async def test_unseen_cards_are_those_nothing_showed_lately(store: Repository, clock: FakeClock) -> None:
    now = clock.now()
    for request_id, status in [("req-1", "PENDING"), ("req-2", "PENDING"), ("req-3", "APPROVED")]:
        await _card(store, request_id, status, now)
    await store.cards.claim("req-4", "C1", owner="r1", now=now, lease=HOUR)  # claimed, not posted
    await store.cursors.seen("req-1", "PENDING", T0, now=now - 2 * HOUR)
    await store.cursors.seen("req-2", "PENDING", T0, now=now)
    assert await store.cursors.unseen_cards(["PENDING"], seen_before=now - HOUR) == ["req-1"]
    assert await store.cursors.unseen_cards(["PENDING", "APPROVED"], seen_before=now + HOUR) == [
        "req-3",  # never seen
        "req-1",
        "req-2",
    ]
    assert await store.cursors.unseen_cards(["PENDING", "APPROVED"], seen_before=now + HOUR, limit=2) == [
        "req-3",
        "req-1",
    ]
