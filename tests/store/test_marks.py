"""Two-phase once-marks: held while a message is under way, done once it is, taken over when its
owner died, kept held when the outcome is unknown, and never pruned young while unsettled."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import column, insert, select, table

from backends import StoreDatabase
from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.store.database import upgrade
from marketplace_slack.store.marks import OutcomeUnknown
from marketplace_slack.store.repository import Repository
from marketplace_slack.store.tables import UTCDateTime, once_marks

LEASE = timedelta(seconds=120)
ME = "replica-a/incarnation2"
EARLIER_ME = "replica-a/incarnation1"
OTHER = "replica-b/incarnation1"


async def _row(store: Repository, key: str) -> tuple[str | None, bool] | None:
    async with store.engine.connect() as conn:
        row = (await conn.execute(select(once_marks).where(once_marks.c.key == key))).first()
    return None if row is None else (row.owner, row.done)


async def test_a_finished_body_marks_it_done_and_nobody_takes_it_over(
    store: Repository, clock: FakeClock
) -> None:
    async with store.once("dm:req-1:APPROVED", now=clock.now(), owner=OTHER, lease=LEASE) as mark:
        assert mark and not mark.taken_over
        assert await _row(store, "dm:req-1:APPROVED") == (OTHER, False)  # held while under way
    assert await _row(store, "dm:req-1:APPROVED") == (None, True)
    clock.advance(LEASE * 100)
    async with store.once("dm:req-1:APPROVED", now=clock.now(), owner=ME, lease=LEASE) as mark:
        assert not mark


async def test_a_failed_body_forgets_the_mark(store: Repository, clock: FakeClock) -> None:
    with pytest.raises(RuntimeError):
        async with store.once("step:s1:APPROVED", now=clock.now(), owner=ME, lease=LEASE) as mark:
            assert mark
            raise RuntimeError("thread_not_found")
    assert await _row(store, "step:s1:APPROVED") is None
    async with store.once("step:s1:APPROVED", now=clock.now(), owner=ME, lease=LEASE) as mark:
        assert mark and not mark.taken_over


async def test_an_unknown_outcome_keeps_it_held_until_its_lease_then_it_is_taken_over(
    store: Repository, clock: FakeClock
) -> None:
    with pytest.raises(OutcomeUnknown):
        async with store.once("dm:req-1:APPROVED", now=clock.now(), owner=OTHER, lease=LEASE) as mark:
            assert mark
            raise OutcomeUnknown("answer lost")
    assert await _row(store, "dm:req-1:APPROVED") == (OTHER, False)
    clock.advance(LEASE - timedelta(seconds=1))
    async with store.once("dm:req-1:APPROVED", now=clock.now(), owner=ME, lease=LEASE) as mark:
        assert not mark  # late rather than doubled: its owner may still find out
    clock.advance(timedelta(seconds=1))
    async with store.once("dm:req-1:APPROVED", now=clock.now(), owner=ME, lease=LEASE) as mark:
        assert mark and mark.taken_over  # look first
    assert await _row(store, "dm:req-1:APPROVED") == (None, True)


async def test_a_mark_held_by_an_earlier_life_of_this_instance_is_taken_over_at_once(
    store: Repository, clock: FakeClock
) -> None:
    assert await store.marks.hold("step:s1:APPROVED", now=clock.now(), owner=EARLIER_ME, lease=LEASE)
    assert not await store.marks.hold("step:s1:APPROVED", now=clock.now(), owner=OTHER, lease=LEASE)
    mark = await store.marks.hold("step:s1:APPROVED", now=clock.now(), owner=ME, lease=LEASE)
    assert mark and mark.taken_over
    assert not await store.marks.hold("step:s1:APPROVED", now=clock.now(), owner=ME, lease=LEASE)


async def test_a_body_taken_over_meanwhile_does_not_forget_the_new_owners_mark(
    store: Repository, clock: FakeClock
) -> None:
    with pytest.raises(RuntimeError):
        async with store.once("k", now=clock.now(), owner=OTHER, lease=LEASE):
            clock.advance(LEASE)
            assert await store.marks.hold("k", now=clock.now(), owner=ME, lease=LEASE)
            raise RuntimeError("slow and then failed")
    assert await _row(store, "k") == (ME, False)


async def test_marks_without_owner_or_lease_work_as_before(store: Repository, clock: FakeClock) -> None:
    async with store.once("event:Ev1", now=clock.now()) as first:
        assert first
    async with store.once("event:Ev1", now=clock.now()) as again:
        assert not again
    assert await store.marks.claim("reminder:r1:U1:1", now=clock.now())
    assert await _row(store, "reminder:r1:U1:1") == (None, True)


async def test_replicas_holding_one_mark_at_once_have_one_winner(
    open_repository: Callable[..., Awaitable[Repository]], clock: FakeClock
) -> None:
    replicas = [await open_repository() for _ in range(4)]
    assert await replicas[0].marks.hold("dm:r", now=clock.now(), owner="dead/1", lease=LEASE)
    clock.advance(LEASE)
    results = await asyncio.gather(
        *(r.marks.hold("dm:r", now=clock.now(), owner=f"r{i}/1", lease=LEASE) for i, r in enumerate(replicas))
    )
    assert sum(bool(m) for m in results) == 1
    assert all(m.taken_over for m in results if m)


async def test_pruning_keeps_unsettled_marks_a_day_longer(store: Repository, clock: FakeClock) -> None:
    start = clock.now()
    assert await store.marks.claim("event:done", now=start)
    assert await store.marks.hold("event:held", now=start, owner=OTHER)
    clock.advance(timedelta(hours=12))
    assert await store.marks.prune(clock.now(), prefixes=("event:",)) == 1
    assert await _row(store, "event:held") == (OTHER, False)
    clock.advance(timedelta(days=1))
    assert await store.marks.prune(clock.now(), prefixes=("event:",)) == 1
    assert await _row(store, "event:held") is None


async def test_marks_made_before_the_migration_are_done(store_database: StoreDatabase) -> None:
    engine = store_database.engine()
    try:
        await upgrade(engine, "0004")
        async with engine.begin() as conn:
            # The table as 0004 left it: no owner, no done.
            old = table("once_marks", column("key"), column("claimed_at", UTCDateTime()))
            await conn.execute(
                insert(old).values(key="dm:old:APPROVED", claimed_at=datetime(2026, 11, 1, tzinfo=UTC))
            )
        await upgrade(engine)
        async with engine.connect() as conn:
            row = (await conn.execute(select(once_marks.c.owner, once_marks.c.done))).one()
        assert row == (None, True)
    finally:
        await engine.dispose()


async def test_a_cancelled_body_keeps_a_leased_mark_held_and_gives_back_an_unleased_one(
    store: Repository, clock: FakeClock
) -> None:
    with pytest.raises(asyncio.CancelledError):
        async with store.once("dm:req-1:APPROVED", now=clock.now(), owner=EARLIER_ME, lease=LEASE):
            raise asyncio.CancelledError  # shut down mid-post
    assert await _row(store, "dm:req-1:APPROVED") == (EARLIER_ME, False)
    mark = await store.marks.hold("dm:req-1:APPROVED", now=clock.now(), owner=ME, lease=LEASE)
    assert mark and mark.taken_over  # the next life looks first, at once

    with pytest.raises(asyncio.CancelledError):
        async with store.once("event:Ev9", now=clock.now()):
            raise asyncio.CancelledError
    assert await _row(store, "event:Ev9") is None


async def test_unsent_requests_are_those_whose_reply_or_dm_mark_is_held_past_its_lease(
    store: Repository, clock: FakeClock
) -> None:
    lease = timedelta(minutes=2)
    now = clock.now()
    await store.reminders.track_steps("R-step", {"rec-1": now}, now=now)
    assert await store.marks.hold("step:rec-1:APPROVED", now=now, owner="web-0/a", lease=lease)
    assert await store.marks.hold("dm:R-dm:DENIED", now=now, owner="web-0/a", lease=lease)
    assert await store.marks.hold("digest:C1:2026-12-01", now=now, owner="web-0/a", lease=lease)
    async with store.once("dm:R-done:APPROVED", now=now, owner="web-0/a", lease=lease):
        pass  # sent: done
    assert await store.marks.unsent_requests(now=now, lease=lease) == []  # still within the lease

    clock.advance(lease)
    found = await store.marks.unsent_requests(now=clock.now(), lease=lease)
    assert sorted(found) == ["R-dm", "R-step"]
