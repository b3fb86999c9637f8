"""What a reminder tick and an expiry tick cost with many pending requests tracked, on both stores.

    uv run python bench/ticks.py [--store sqlite|postgres] [--pending 5000] [--due 100]

The app runs on the stage (the Marketplace sandbox and the stand-in Slack on loopback, a fake clock).
The ticks read only the store, so the store is seeded the way the app leaves it: `--pending` tracked
requests, each with a planned step, a reminder schedule and two expiry notices, none due. `--due` of
them are real requests in the sandbox (pending ones for reminders, approved temporary grants for
expiry notices), tracked through `request_seen` as a card shown would; the rest are rows the tick
must not touch. Each tick is measured with nothing due, then with the real ones made due: the
Marketplace calls the sandbox served and the SQL statements the app's engine ran (SQLAlchemy's
`before_cursor_execute`). A replanning tick (every step is looked at again every few hours) is shown
too; its Marketplace calls are per person approving (cached), not per request.

BENCH_ROUTES=1 prints each tick's Marketplace routes and report; BENCH_LOG=WARNING shows the app's log.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert, update

from common import PG_URL, pg_schema
from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.infra.logs import configure
from marketplace_slack.marketplace.gateway import MarketplaceGateway
from marketplace_slack.store.tables import expiry_notices, reminder_steps, reminders
from marketplace_slack.workflow.reminder_snapshots import snapshot_json
from marketplace_slack.workflow.reminders import BATCH, REPLAN_EVERY
from marketplace_slack_standins.sandbox import access, world
from marketplace_slack_standins.stage import Stage, open_stage
from table import Row, render

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # working hours in Berlin, where most stewards are
TICK = timedelta(seconds=60)
QUIET_SQL_GOAL = 20
# A due item's fresh state: the request and its approval records, and its product where a record's
# approver needs the product's domains.
CALLS_PER_DUE = 3
SQL_PER_DUE = 15  # claim, look, mark, send, settle: a handful of statements per item, none per tracked one
CHUNK = 500
RECIPIENTS = 10


def OPENED(now: datetime) -> datetime:
    """When the seeded steps count as opened: only the first reminder of a recipient a replan finds
    is timed from it, and the seeded recipients are not the ones the finder would find, so it is
    late enough that the replanning tick plans reminders without also sending them."""
    return now + timedelta(days=7)


@dataclass
class Cost:
    calls: int
    statements: int
    seconds: float
    report: Any = None


@contextlib.contextmanager
def statements_of(stage: Stage) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    engine = stage.app.store.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def measure(stage: Stage, tick: Callable[[], Awaitable[object]]) -> Cost:
    stage.sandbox.stats.reset()
    with statements_of(stage) as seen:
        started = time.perf_counter()
        report = await tick()
        elapsed = time.perf_counter() - started
    if os.environ.get("BENCH_ROUTES"):
        print(dict(stage.sandbox.stats.counts), report, file=sys.stderr)
    return Cost(stage.sandbox.stats.total, len(seen), elapsed, report)


def _real_requests(stage: Stage, count: int, now: datetime) -> tuple[list[str], list[str]]:
    """`count` pending requests and `count` approved 30-day grants, made in the sandbox directly
    (the app's webhook is not registered yet, so no cards are posted: the bench seeds the store)."""
    state, rng = stage.sandbox.state, random.Random(11)
    pairs = [
        (user, product)
        for product in state.products.values()
        for user in state.users.values()
        if user.username != "admin" and not state.stewards(user, product)
    ]
    rng.shuffle(pairs)
    # Grants first, to people with a Slack account where possible: a notice has someone to go to.
    in_slack = {(u.email or "").casefold() for u in stage.slack.users}
    pairs.sort(key=lambda pair: (pair[0].email or "").casefold() not in in_slack)
    made: list[str] = []
    for user, product in pairs:
        if len(made) == 2 * count:
            break
        with contextlib.suppress(Exception):  # already asked, or the form refuses this person
            request = access.request_access(
                state,
                user,
                product.id,
                user_id=user.global_user_id,
                form=world._answers(state, product, rng),
                now=now - timedelta(hours=1),
            )
            if request.status == "PENDING":
                made.append(request.id)
    if len(made) < 2 * count:
        raise SystemExit(
            f"the sandbox holds only {len(made)} pending requests; ask for --due {len(made) // 2}"
        )
    grants = made[:count]
    for request_id in grants:
        request = state.requests[request_id]
        while request.status == "PENDING":
            record = next(r for r in request.records if r.status == "PENDING")
            approver = next(u for u in world._eligible(state, request, record.id))
            access.decide(
                state, approver, record.id, status="APPROVED", duration=30, duration_unit="DAYS", now=now
            )
    approved = [r for r in grants if state.requests[r].status == "APPROVED"]
    return made[count:], approved


async def seed(stage: Stage, pending: int, due: int) -> tuple[list[str], list[str]]:
    """Track `pending` requests in the app's store, `due` of them real; returns the real ids."""
    for hook in list(stage.sandbox.webhooks.webhooks):
        stage.sandbox.webhooks.remove(hook)  # cards are not the subject here
    now = stage.clock.now()
    waiting, grants = _real_requests(stage, due, now)
    settings = stage.app.settings
    gateway = MarketplaceGateway(
        stage.app.marketplace,
        app_url=str(settings.marketplace_app_url),
        account_id=settings.marketplace_account_id,
    )
    reminders_ = stage.app.timekeeper.reminders
    # Reminders go round a few people: each DM channel takes a burst, and Slack's conversations.open
    # (about 50 a minute) is not what this bench measures.
    slack_users = [str(u.id) for u in stage.slack.users if not u.is_bot and not u.deleted][:RECIPIENTS]
    snapshots: list[str] = []
    people = iter(range(10**9))
    rows: list[dict[str, Any]] = []
    for request_id in waiting:
        request = await gateway.load(request_id, enrich=False)
        await reminders_.request_seen(request)  # what a card shown does: the step and its snapshot
        snapshots.append(snapshot_json(request))
        for step in request.open_steps:
            # A recipient each, round the workspace, so no one DM channel's pacing dominates the tick.
            rows.append(_reminder(step.id, request_id, slack_users[next(people) % len(slack_users)], now))
    async with stage.app.store.engine.begin() as conn:
        # Planned: recipients found (seeded below), looked for again in a few hours.
        await conn.execute(
            update(reminder_steps).values(plan_at=now + REPLAN_EVERY, opened_at=OPENED(now), updated_at=now)
        )
        await conn.execute(insert(reminders), rows)
    for request_id in grants:
        request = await gateway.load(request_id, enrich=False)
        await stage.app.timekeeper.expiry.request_seen(request)
    synthetic = pending - due
    for start in range(0, synthetic, CHUNK):
        numbers = range(start, min(start + CHUNK, synthetic))
        async with stage.app.store.engine.begin() as conn:
            await conn.execute(
                insert(reminder_steps),
                [
                    {
                        "record_id": f"bench-record-{n}",
                        "request_id": f"bench-request-{n}",
                        "opened_at": OPENED(now),
                        "plan_at": now + REPLAN_EVERY,
                        "snapshot": _renamed(snapshots[n % len(snapshots)], n),
                        "created_at": now,
                        "updated_at": now,
                    }
                    for n in numbers
                ],
            )
            await conn.execute(
                insert(reminders),
                [
                    _reminder(
                        f"bench-record-{n}", f"bench-request-{n}", slack_users[n % len(slack_users)], now
                    )
                    for n in numbers
                ],
            )
            await conn.execute(
                insert(expiry_notices),
                [
                    {
                        "request_id": f"bench-request-{n}",
                        "days_before": days,
                        "expires_at": now + timedelta(days=30),
                        "due_at": now + timedelta(days=30 - days),
                        "created_at": now,
                        "updated_at": now,
                    }
                    for n in numbers
                    for days in (7, 1)
                ],
            )
    return waiting, grants


def _reminder(record_id: str, request_id: str, recipient: str, now: datetime) -> dict[str, Any]:
    return {
        "record_id": record_id,
        "recipient": recipient,
        "request_id": request_id,
        "mode": "dm",
        "sent": 0,
        "next_due_at": now + timedelta(days=1),
        "created_at": now,
        "updated_at": now,
    }


def _renamed(snapshot: str, n: int) -> str:
    """A real request's snapshot under a synthetic id, its open step named as the seeded row is."""
    data = json.loads(snapshot)
    data["id"] = f"bench-request-{n}"
    for step in data["steps"]:
        if step["status"] == "PENDING":
            step["id"] = f"bench-record-{n}"
            break
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@contextlib.asynccontextmanager
async def bench_stage(store: str) -> AsyncIterator[Stage]:
    clock = FakeClock(MONDAY)
    if store == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'ticks.db'}"
            async with open_stage(database_url=url, clock=clock) as stage:
                yield stage
        return
    async with (
        pg_schema("bench_ticks") as schema,
        open_stage(database_url=PG_URL, clock=clock, MPSLACK_DATABASE_SCHEMA=schema) as stage,
    ):
        yield stage


async def rows(store: str, *, pending: int = 5000, due: int = 100) -> list[Row]:
    async with bench_stage(store) as stage:
        waiting, grants = await seed(stage, pending, due)
        clock = stage.clock
        assert isinstance(clock, FakeClock)
        timekeeper = stage.app.timekeeper
        clock.advance(TICK)
        quiet_reminders = await measure(stage, timekeeper.reminders.run_due)
        quiet_expiry = await measure(stage, timekeeper.expiry.run_due)

        clock.advance(TICK)
        async with stage.app.store.engine.begin() as conn:
            now = clock.now()
            await conn.execute(
                update(reminders).where(reminders.c.request_id.in_(waiting)).values(next_due_at=now)
            )
            await conn.execute(
                update(expiry_notices)
                .where(expiry_notices.c.request_id.in_(grants), expiry_notices.c.days_before == 7)
                .values(due_at=now)
            )
        due_reminders = await measure(stage, timekeeper.reminders.run_due)
        due_expiry = await measure(stage, timekeeper.expiry.run_due)

        clock.advance(REPLAN_EVERY)  # every step's look for new stewards, in batches of 500 a tick
        async with stage.app.store.engine.begin() as conn:
            # Reminders whose send failed (Slack's conversations.open limit) would be tried again in
            # this tick; moved on, so the row measures planning alone.
            await conn.execute(
                update(reminders)
                .where(reminders.c.next_due_at <= clock.now())
                .values(next_due_at=clock.now() + timedelta(days=1), claim_owner=None, claimed_at=None)
            )
        replan = await measure(stage, timekeeper.reminders.run_due)
        await stage.settle()

    n, k, planned = len(waiting), len(grants), min(BATCH, pending)
    out: list[Row] = []
    for name, quiet, busy, items in (
        ("reminder", quiet_reminders, due_reminders, n),
        ("expiry", quiet_expiry, due_expiry, k),
    ):
        out += [
            Row(f"{name} tick, nothing due: Marketplace calls", quiet.calls, bound="=", goal=0),
            Row(
                f"{name} tick, nothing due: SQL statements",
                quiet.statements,
                bound="≤",
                goal=QUIET_SQL_GOAL,
            ),
            Row(f"{name} tick, nothing due: wall time", quiet.seconds * 1000, "ms", digits=1),
            Row(
                f"{name} tick, {items} due: Marketplace calls",
                busy.calls,
                bound="≤",
                goal=CALLS_PER_DUE * items,
            ),
            Row(
                f"{name} tick, {items} due: SQL statements",
                busy.statements,
                bound="≤",
                goal=SQL_PER_DUE * items,
            ),
            Row(f"{name} tick, {items} due: wall time", busy.seconds * 1000, "ms", digits=1),
            Row(f"{name} tick, {items} due: sent now", busy.report.sent),
            Row(f"{name} tick, {items} due: held to working hours", busy.report.postponed),
            Row(f"{name} tick, {items} due: failed (tried again next tick)", busy.report.failed),
        ]
    out += [
        Row(f"reminder tick, replanning {planned} steps: Marketplace calls", replan.calls),
        Row(f"reminder tick, replanning {planned} steps: SQL statements", replan.statements),
        Row(
            f"reminder tick, replanning {planned} steps: wall time",
            replan.seconds * 1000,
            "ms",
            digits=1,
        ),
    ]
    return out


async def main(stores: list[str], pending: int, due: int) -> str:
    configure(os.environ.get("BENCH_LOG", "ERROR"), "console")
    table: list[Row] = []
    for store in stores:
        # Named as bench/all.py names them, the store added.
        table += [
            replace(r, measure=f"{r.measure} ({store})") for r in await rows(store, pending=pending, due=due)
        ]
    return render(table)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--store", choices=["sqlite", "postgres"], action="append")
    parser.add_argument("--pending", type=int, default=5000, help="tracked pending requests (try 500)")
    parser.add_argument("--due", type=int, default=100, help="of which due at the busy tick")
    args = parser.parse_args()
    sys.stdout.write(asyncio.run(main(args.store or ["sqlite", "postgres"], args.pending, args.due)) + "\n")
