"""What a tick costs: a quiet tick asks the Marketplace nothing and the store a fixed number of
questions however many requests are tracked; planning reads the request as its card last showed it;
only what is due now is read fresh from the Marketplace. Counts, not timings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy import event

from marketplace_slack.config_file import ExpiryConfig, RemindersConfig
from marketplace_slack.domain import ApprovalStep, RecordStatus, RequestStatus
from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.infra.vault import TokenVault
from marketplace_slack.store.database import open_store
from marketplace_slack.store.repository import Repository
from marketplace_slack.workflow.approvers import ApproverFinder
from marketplace_slack.workflow.expiry import ExpiryNotices
from marketplace_slack.workflow.reminder_snapshots import from_snapshot, snapshot_json
from marketplace_slack.workflow.reminders import REPLAN_EVERY, Reminders
from marketplace_slack.workflow.routing import Router

from .conftest import CHANNEL, SARA, STEWARDS, World, request
from .fakes import FakeGateway

OWNER = "replica-1/a"


class CountingGateway(FakeGateway):
    """The fake Marketplace, counting every identity look-up besides the loads it already records."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.whoamis = 0

    async def whoami(self, token: SecretStr) -> Any:
        self.whoamis += 1
        return await super().whoami(token)

    async def user_email(self, marketplace_user: str) -> str | None:
        return None

    @property
    def calls(self) -> int:
        return len(self.loaded) + self.whoamis


@contextmanager
def counted(store: Repository) -> Iterator[list[str]]:
    """The SQL statements the store runs inside the block."""
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(store.engine.sync_engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", seen)


def reminders_for(world: World, gateway: CountingGateway) -> Reminders:
    finder = ApproverFinder(store=world.store, gateway=gateway, directory=world.directory, clock=world.clock)
    return Reminders(
        store=world.store,
        gateway=gateway,
        finder=finder,
        notices=world.slack,
        cards=world.slack,
        replies=world.slack,
        directory=world.directory,
        router=Router(CHANNEL),
        config=RemindersConfig(mode="dm", first_after="8h"),  # Monday's steps: due on Tuesday
        clock=world.clock,
        owner=OWNER,
    )


async def track(world: World, gateway: CountingGateway, reminders: Reminders, count: int) -> None:
    """`count` pending requests whose cards were shown, each waiting for the stewards."""
    for n in range(count):
        step = ApprovalStep(f"st-{n}", RecordStatus.PENDING, (STEWARDS,), updated_at=world.clock.now())
        pending = request(f"req-{n}", steps=(step,))
        gateway.requests[pending.id] = pending
        await reminders.request_seen(pending)


async def quiet_tick_cost(store: Repository, clock: FakeClock, count: int) -> tuple[int, int, int]:
    """(Marketplace calls, SQL statements) of a quiet reminder tick and its planning's Marketplace
    calls, with `count` requests tracked and planned."""
    world = World(store, clock)
    gateway = CountingGateway(clock.now)
    gateway.actors = world.gateway.actors
    reminders = reminders_for(world, gateway)
    await world.link(SARA)
    await track(world, gateway, reminders, count)
    planned = await reminders.run_due()
    assert planned.planned == count and planned.failed == 0
    planning_calls = gateway.calls
    clock.advance(timedelta(minutes=1))
    before = gateway.calls
    with counted(store) as statements:
        report = await reminders.run_due()
    assert report.sent == 0
    return gateway.calls - before, len(statements), planning_calls


async def test_a_quiet_reminder_tick_asks_the_marketplace_nothing_and_the_store_the_same_for_any_n(
    store: Repository, clock: FakeClock, tmp_path: Path, vault: TokenVault
) -> None:
    calls, statements, planning = await quiet_tick_cost(store, clock, 50)
    assert calls == 0
    assert planning == 1  # Sara's identity, once: planning read no request from the Marketplace

    other = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'more.db'}", vault)
    try:
        more_calls, more_statements, more_planning = await quiet_tick_cost(other, FakeClock(), 300)
    finally:
        await other.aclose()
    assert more_calls == 0 and more_planning == 1
    assert more_statements == statements <= 10


async def test_replanning_reads_the_snapshot_and_only_due_reminders_read_the_marketplace(
    store: Repository, clock: FakeClock
) -> None:
    world = World(store, clock)
    gateway = CountingGateway(clock.now)
    gateway.actors = world.gateway.actors
    reminders = reminders_for(world, gateway)
    await world.link(SARA)
    await track(world, gateway, reminders, 20)
    await reminders.run_due()

    clock.advance(REPLAN_EVERY)  # 15:00: every step is looked at again, none is due yet
    report = await reminders.run_due()
    assert report.sent == 0 and gateway.loaded == []

    # One request changes in the Marketplace and its card shows it: the tracking follows, no tick asked.
    decided = replace(
        gateway.requests["req-3"],
        status=RequestStatus.APPROVED,
        steps=(ApprovalStep("st-3", RecordStatus.APPROVED, (STEWARDS,)),),
    )
    gateway.requests["req-3"] = decided
    await reminders.request_seen(decided)

    clock.set(datetime(2026, 11, 24, 13, 0, tzinfo=UTC))  # Tuesday: everyone's due
    report = await reminders.run_due()
    assert report.sent == 19
    assert sorted(gateway.loaded) == sorted(f"req-{n}" for n in range(20) if n != 3)  # once each


async def test_steps_tracked_without_a_snapshot_are_read_from_the_marketplace_once(
    store: Repository, clock: FakeClock
) -> None:
    world = World(store, clock)
    gateway = CountingGateway(clock.now)
    gateway.actors = world.gateway.actors
    reminders = reminders_for(world, gateway)
    await world.link(SARA)
    pending = request("req-old")
    gateway.requests[pending.id] = pending
    # As a step tracked before snapshots were kept.
    await store.reminders.track_steps(pending.id, {"st-1": pending.created_at}, now=clock.now())

    report = await reminders.run_due()
    assert report.planned == 1 and gateway.loaded == ["req-old"]
    [step] = await store.reminders.claim_steps_to_plan(
        now=clock.now() + REPLAN_EVERY, retry_at=clock.now() + REPLAN_EVERY * 2
    )
    assert from_snapshot(step.snapshot) == pending


def test_a_snapshot_round_trips_what_planning_reads() -> None:
    pending = request(
        steps=(
            ApprovalStep("st-1", RecordStatus.APPROVED, (STEWARDS,)),
            ApprovalStep("st-2", RecordStatus.PENDING, (STEWARDS,), prerequisites=("st-1",)),
        )
    )
    text = snapshot_json(pending)
    assert from_snapshot(text) == pending and snapshot_json(from_snapshot(text) or pending) == text
    assert from_snapshot(None) is None and from_snapshot('{"v": 99}') is None and from_snapshot("[") is None


async def test_a_quiet_expiry_tick_asks_the_marketplace_nothing_and_the_store_the_same_for_any_n(
    store: Repository, clock: FakeClock
) -> None:
    world = World(store, clock)
    gateway = CountingGateway(clock.now)
    expiry = ExpiryNotices(
        store=store,
        gateway=gateway,  # type: ignore[arg-type]  # temporary_grants is not called by the tick
        directory=world.directory,
        notices=world.slack,
        config=ExpiryConfig(),
        hours=RemindersConfig().hours,
        timezone="UTC",
        clock=clock,
        owner=OWNER,
    )
    counts = []
    for total in (50, 300):
        for n in range(len(counts) * 50, total):
            await store.expiry.schedule(
                f"grant-{n}", expires_at=clock.now() + timedelta(days=30), leads=(7, 1), now=clock.now()
            )
        clock.advance(timedelta(minutes=1))
        with counted(store) as statements:
            report = await expiry.run_due()
        assert report.sent == 0 and gateway.loaded == []
        counts.append(len(statements))
    assert counts[0] == counts[1] <= 5
