"""Reminder steps, reminder schedules and expiry notices: claims that replicas cannot double."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy import event

from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.store.records import NewReminder
from marketplace_slack.store.repository import Repository

LEASE = timedelta(minutes=2)


def _new(record: str, recipient: str, due: object, request: str = "req-1") -> NewReminder:
    return NewReminder(record, recipient, request, "thread", due, tz="Europe/Berlin")  # type: ignore[arg-type]


async def test_tracking_adds_open_steps_and_stops_closed_ones_with_their_reminders(
    store: Repository, clock: FakeClock
) -> None:
    now = clock.now()
    await store.reminders.track_steps("req-1", {"rec-1": now, "rec-2": now}, now=now)
    planned = await store.reminders.claim_steps_to_plan(now=now, retry_at=now + LEASE)
    assert sorted(s.record_id for s in planned) == ["rec-1", "rec-2"]
    assert await store.reminders.claim_steps_to_plan(now=now, retry_at=now + LEASE) == []  # handed out once
    await store.reminders.add([_new("rec-1", "U1", now), _new("rec-2", "U1", now)], now=now)

    clock.advance(timedelta(minutes=1))
    await store.reminders.track_steps("req-1", {"rec-2": now}, now=clock.now())  # rec-1 was decided

    assert await store.reminders.step_stopped("rec-1") and not await store.reminders.step_stopped("rec-2")
    by_record = {r.record_id: r for r in await store.reminders.list(request_id="req-1")}
    assert not by_record["rec-1"].active and by_record["rec-2"].active
    await store.reminders.track_steps("req-1", {}, now=clock.now())  # the request settled
    assert not any(r.active for r in await store.reminders.list(request_id="req-1"))
    assert await store.reminders.claim_due(now=clock.now(), owner="a", lease=LEASE) == []


async def test_a_due_reminder_is_claimed_once_sent_once_and_rescheduled(
    store: Repository, clock: FakeClock
) -> None:
    now = clock.now()
    await store.reminders.add([_new("rec-1", "U1", now + timedelta(hours=1))], now=now)
    assert await store.reminders.claim_due(now=now, owner="a", lease=LEASE) == []  # not due yet

    clock.advance(timedelta(hours=1))
    [claimed] = await store.reminders.claim_due(now=clock.now(), owner="a", lease=LEASE)
    assert claimed.sent == 0 and claimed.claim_owner == "a"
    assert await store.reminders.claim_due(now=clock.now(), owner="b", lease=LEASE) == []

    later = clock.now() + timedelta(days=1)
    assert not await store.reminders.sent(
        "rec-1", "U1", owner="b", sent_before=0, next_due_at=later, now=clock.now()
    )
    assert await store.reminders.sent(
        "rec-1", "U1", owner="a", sent_before=0, next_due_at=later, now=clock.now()
    )
    row = await store.reminders.get("rec-1", "U1")
    assert row is not None and (row.sent, row.next_due_at, row.claim_owner) == (1, later, None)


async def test_a_dead_owners_claim_is_taken_over_after_the_lease(store: Repository, clock: FakeClock) -> None:
    now = clock.now()
    await store.reminders.add([_new("rec-1", "U1", now)], now=now)
    assert len(await store.reminders.claim_due(now=now, owner="dead", lease=LEASE)) == 1
    clock.advance(LEASE - timedelta(seconds=1))
    assert await store.reminders.claim_due(now=clock.now(), owner="b", lease=LEASE) == []
    clock.advance(timedelta(seconds=1))
    [taken] = await store.reminders.claim_due(now=clock.now(), owner="b", lease=LEASE)
    assert taken.claim_owner == "b"


async def test_release_postpones_and_a_stopped_schedule_is_not_revived(
    store: Repository, clock: FakeClock
) -> None:
    now = clock.now()
    await store.reminders.add([_new("rec-1", "U1", now)], now=now)
    await store.reminders.claim_due(now=now, owner="a", lease=LEASE)
    tomorrow = now + timedelta(days=1)
    assert await store.reminders.release("rec-1", "U1", owner="a", postpone_to=tomorrow)
    assert await store.reminders.claim_due(now=now, owner="a", lease=LEASE) == []

    [claimed] = await store.reminders.claim_due(now=tomorrow, owner="a", lease=LEASE)
    await store.reminders.track_steps("req-1", {}, now=tomorrow)  # decided while the reminder was being sent
    assert not await store.reminders.sent(
        "rec-1",
        "U1",
        owner="a",
        sent_before=claimed.sent,
        next_due_at=tomorrow + timedelta(days=1),
        now=tomorrow,
    )
    row = await store.reminders.get("rec-1", "U1")
    assert row is not None and not row.active


async def test_snooze_moves_only_that_recipients_reminder(store: Repository, clock: FakeClock) -> None:
    now = clock.now()
    await store.reminders.add([_new("rec-1", "U1", now), _new("rec-1", "U2", now)], now=now)
    until = now + timedelta(days=3)
    snoozed = await store.reminders.snooze("rec-1", "U1", until=until, next_due_at=until, now=now)
    assert snoozed is not None and snoozed.snoozed_until == until
    assert [r.recipient for r in await store.reminders.claim_due(now=now, owner="a", lease=LEASE)] == ["U2"]
    assert await store.reminders.snooze("rec-1", "nobody", until=until, next_due_at=until, now=now) is None


async def test_two_replicas_racing_claim_each_reminder_once(
    open_repository: Callable[..., Awaitable[Repository]], clock: FakeClock
) -> None:
    first, second = await open_repository(), await open_repository()
    now = clock.now()
    await first.reminders.add([_new(f"rec-{n}", f"U{n % 7}", now, f"req-{n}") for n in range(120)], now=now)

    async def drain(repo: Repository, owner: str) -> list[str]:
        got: list[str] = []
        while batch := await repo.reminders.claim_due(now=now, owner=owner, lease=LEASE, limit=7):
            got += [f"{r.record_id}/{r.recipient}" for r in batch]
            await asyncio.sleep(0)
        return got

    a, b = await asyncio.gather(drain(first, "a"), drain(second, "b"))
    assert len(a) + len(b) == 120 and set(a).isdisjoint(b)


async def test_expiry_notices_follow_the_grant(store: Repository, clock: FakeClock) -> None:
    now = clock.now()
    ends = now + timedelta(days=30)
    await store.expiry.schedule("req-1", expires_at=ends, leads=[7, 1], now=now)
    await store.expiry.schedule("req-1", expires_at=ends, leads=[7, 1], now=now)  # idempotent
    rows = await store.expiry.list("req-1")
    assert [(r.days_before, r.due_at) for r in rows] == [
        (7, ends - timedelta(days=7)),
        (1, ends - timedelta(days=1)),
    ]

    clock.advance(timedelta(days=23))
    [due] = await store.expiry.claim_due(now=clock.now(), owner="a", lease=LEASE)
    assert due.days_before == 7
    assert await store.expiry.claim_due(now=clock.now(), owner="b", lease=LEASE) == []
    assert await store.expiry.done("req-1", 7, owner="a", outcome="sent", now=clock.now())

    longer = ends + timedelta(days=10)  # the grant was extended: the unsent notice moves, the sent stays
    await store.expiry.schedule("req-1", expires_at=longer, leads=[7, 1], now=clock.now())
    rows = {r.days_before: r for r in await store.expiry.list("req-1")}
    assert rows[7].outcome == "sent" and rows[7].due_at is None
    assert rows[1].due_at == longer - timedelta(days=1)

    assert await store.expiry.stop("req-1", now=clock.now()) == 1
    assert (await store.expiry.list("req-1"))[1].outcome == "stopped"


async def test_tracked_steps_keep_the_latest_snapshot_and_an_equal_one_writes_nothing(
    store: Repository, clock: FakeClock
) -> None:
    now = clock.now()
    await store.reminders.track_steps("req-1", {"rec-1": now}, now=now, snapshot='{"v":1,"a":1}')
    clock.advance(timedelta(minutes=1))
    await store.reminders.track_steps(
        "req-1", {"rec-1": now, "rec-2": now}, now=clock.now(), snapshot='{"v":1,"a":2}'
    )
    planned = await store.reminders.claim_steps_to_plan(now=clock.now(), retry_at=clock.now() + LEASE)
    assert {s.record_id: s.snapshot for s in planned} == {"rec-1": '{"v":1,"a":2}', "rec-2": '{"v":1,"a":2}'}

    statements: list[str] = []
    engine = store.engine.sync_engine
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    await store.reminders.track_steps(
        "req-1", {"rec-1": now, "rec-2": now}, now=clock.now(), snapshot='{"v":1,"a":2}'
    )
    await store.reminders.track_steps("req-1", {"rec-1": now, "rec-2": now}, now=clock.now())  # a tick's load
    assert not any(s.lstrip().upper().startswith(("INSERT", "UPDATE")) for s in statements)
