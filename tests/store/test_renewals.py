"""Renewal reminders in the store (both backends): one per person and grant, claimed once, moved."""

from __future__ import annotations

from datetime import timedelta

from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.store.repository import Repository

LEASE = timedelta(minutes=2)


async def test_a_reminder_is_claimed_once_when_due_and_done_for_good(
    store: Repository, clock: FakeClock
) -> None:
    ends = clock.now() + timedelta(days=2)
    await store.renewals.schedule("T1", "U1", "grant-1", due_at=ends, now=clock.now())
    await store.renewals.schedule("T1", "U1", "grant-1", due_at=ends, now=clock.now())  # asked twice
    assert await store.renewals.claim_due(now=clock.now(), owner="a", lease=LEASE) == []  # not yet

    clock.advance(timedelta(days=2))
    [row] = await store.renewals.claim_due(now=clock.now(), owner="a", lease=LEASE)
    assert await store.renewals.claim_due(now=clock.now(), owner="b", lease=LEASE) == []  # one replica
    assert not await store.renewals.done(row, owner="b", outcome="sent", now=clock.now())
    assert await store.renewals.done(row, owner="a", outcome="sent", now=clock.now())
    clock.advance(timedelta(days=30))
    assert await store.renewals.claim_due(now=clock.now(), owner="a", lease=LEASE) == []
    [done] = await store.renewals.list()
    assert done.outcome == "sent" and done.due_at is None


async def test_a_released_reminder_comes_back_at_its_new_time_and_a_dead_claim_is_taken_over(
    store: Repository, clock: FakeClock
) -> None:
    await store.renewals.schedule("T1", "U1", "grant-1", due_at=clock.now(), now=clock.now())
    [row] = await store.renewals.claim_due(now=clock.now(), owner="a", lease=LEASE)
    later = clock.now() + timedelta(days=7)
    assert await store.renewals.release(row, owner="a", postpone_to=later)
    clock.advance(timedelta(days=6))
    assert await store.renewals.claim_due(now=clock.now(), owner="a", lease=LEASE) == []
    clock.advance(timedelta(days=1))
    assert await store.renewals.claim_due(now=clock.now(), owner="a", lease=LEASE)  # and then "a" died
    clock.advance(LEASE)
    [taken] = await store.renewals.claim_due(now=clock.now(), owner="b", lease=LEASE)
    assert taken.claim_owner == "b"
