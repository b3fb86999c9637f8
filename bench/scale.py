"""Reconciliation, memory and start-up with a large queue (issue 12), printed as one table.

    uv run python bench/scale.py [--store sqlite|postgres] [--pending 10000] [--runs 5]

The Marketplace sandbox gets `--pending` extra PENDING requests straight into its state
(`sandbox.bulk.seed_pending`: made by the sandbox's own rules, created over the last 30 days).
Their cards are seeded directly, not posted through the app (`marketplace_slack_standins.queue`):
at Slack's pace of about a message a second a channel, 10,000 posts would take hours. Each seeded
card copies a card the app really posted for the same product in a first, real pass over the seeded
world's own queue, and its message is in the stand-in Slack, so the app can update it.

- First pass: the cursor is dropped and the app (in this process) runs a full pass over the listing;
  every card already shows its request, so it costs the listing's pages and reads nothing.
- Quiet pass: the next pass, nothing having changed: its Marketplace calls (sandbox counters), its
  SQL statements (SQLAlchemy's `before_cursor_execute` on the app's engine) and its wall time. The
  statements are a fixed plan whatever the queue (tests/e2e/test_reconcile_scale.py checks they do
  not grow with it): decision claims to recover, the cursor, held channels, the listed ids' cards and
  versions, unconfirmed replies, the cursor again; on SQLite each transaction adds its BEGIN.
- Changed request: the oldest seeded request is canceled in the Marketplace with no webhook to tell
  the app; one pass must show it canceled on its card (in the store and in Slack).
- Memory: `marketplace-slack serve` in a process of its own on the same store, cursor dropped, so
  its start-up pass walks everything; its resident memory once that pass is done (and its peak).
- Store per tracked request: the SQLite file's bytes (its write-ahead log checkpointed into it), or
  the PostgreSQL schema's relation sizes (tables, indexes, TOAST), divided by the cards tracked.
- Start-up: from exec to /healthz answering 200, median of `--runs`, for `marketplace-slack serve`
  (on the store of 10,000 cards, against the same sandbox and stand-in Slack) and for a bare Bolt
  app (an `AsyncApp` served by aiohttp, with the same Python). Both with compiled bytecode, as the
  Docker image has it (UV_COMPILE_BYTECODE): a bytecode cache in a temporary directory
  (PYTHONPYCACHEPREFIX, whatever PYTHONDONTWRITEBYTECODE says here), filled by an untimed first run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import delete, event, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from common import PG_URL, free_port, pg_schema, status_mb
from marketplace_slack.app import Application, build
from marketplace_slack.infra.logs import configure
from marketplace_slack.store.engine import create_engine
from marketplace_slack.store.tables import cards, sync_cursors
from marketplace_slack_standins.fakeslack import FakeSlack
from marketplace_slack_standins.queue import seed_cards
from marketplace_slack_standins.sandbox import access
from marketplace_slack_standins.sandbox.bulk import seed_pending
from marketplace_slack_standins.sandbox.server import SandboxServer
from marketplace_slack_standins.stage import installed_as_declared, invite_everywhere, stage_settings
from table import Row, render

PENDING = 10_000
RUNS = 5
QUIET_CALLS_PER_TRACKED = 0.01  # the goal: a quiet pass costs ≤ 1 % of tracked requests in calls
QUIET_RUNS = 5
MEMORY_MB = 150
STARTUP_RATIO = 2
BARE_BOLT = """
import os
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

bolt = AsyncApp(
    client=AsyncWebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]),
    signing_secret=os.environ["SLACK_SIGNING_SECRET"],
)
app = bolt.web_app(path="/slack/events")

async def healthz(request):
    return web.Response(text="ok")

app.router.add_get("/healthz", healthz)
web.run_app(app, host="127.0.0.1", port=int(os.environ["MPSLACK_PORT"]), print=None)
"""


@dataclass(frozen=True)
class Database:
    url: str
    schema: str | None
    path: Path | None  # the SQLite file

    def env(self) -> dict[str, str]:
        return {
            "MPSLACK_DATABASE_URL": self.url,
            **({"MPSLACK_DATABASE_SCHEMA": self.schema} if self.schema else {}),
        }


@contextlib.asynccontextmanager
async def database(store: str, tmp: Path) -> AsyncIterator[Database]:
    if store == "sqlite":
        path = tmp / "scale.db"
        yield Database(f"sqlite+aiosqlite:///{path}", None, path)
        return
    async with pg_schema("bench_scale") as schema:
        yield Database(PG_URL, schema, None)


class Statements:
    """SQL statements the engine sends between creation and `close`."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.count = 0
        self._engine = engine
        event.listen(engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: Any) -> None:
        self.count += 1

    def close(self) -> None:
        event.remove(self._engine.sync_engine, "before_cursor_execute", self._seen)


async def timed_pass(app: Application, sandbox: SandboxServer) -> tuple[Any, int, float]:
    sandbox.stats.reset()
    started = time.perf_counter()
    report = await app.workflow.reconcile()
    await app.tasks.drain()
    return report, sandbox.stats.total, time.perf_counter() - started


async def drop_cursor(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(delete(sync_cursors))


async def store_bytes(db: Database, engine: AsyncEngine) -> int:
    if db.path is not None:
        async with engine.connect() as conn:  # the write-ahead log's pages into the file, the log emptied
            await conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        return db.path.stat().st_size
    async with engine.connect() as conn:
        size = await conn.scalar(
            text(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = :schema AND c.relkind = 'r'"
            ),
            {"schema": db.schema},
        )
    return int(size or 0)


async def rows(store: str, pending: int = PENDING, runs: int = RUNS) -> list[Row]:
    configure("WARNING", "console")
    with tempfile.TemporaryDirectory() as tmp:
        async with (
            database(store, Path(tmp)) as db,
            SandboxServer() as sandbox,
            FakeSlack(install=installed_as_declared()) as slack,
        ):
            invite_everywhere(slack)
            extra = {"MPSLACK_DATABASE_SCHEMA": db.schema} if db.schema else {}
            settings = stage_settings(
                sandbox, slack, database_url=db.url, MPSLACK_LOG_LEVEL="WARNING", **extra
            )
            app = await build(settings)
            await app.start(host="127.0.0.1", port=0, reconcile=False)
            try:
                measured = await _in_process(app, sandbox, slack, db, pending)
            finally:
                await app.stop()
            env = _serve_env(settings, db, Path(tmp) / "pycache")
            memory, peak = await _serve_memory(env, db)
            serve = await _startup(["-m", "marketplace_slack.cli", "serve"], env, runs)
            bare = await _startup(["-c", BARE_BOLT], env, runs)
    tracked = measured["tracked"]
    return [
        Row(f"first pass, {pending:,} pending: Marketplace calls", measured["first_calls"]),
        Row("first pass: wall time", measured["first_seconds"], "s", digits=2),
        Row(
            f"quiet pass, {pending:,} pending: Marketplace calls",
            measured["quiet_calls"],
            bound="≤",
            goal=round(QUIET_CALLS_PER_TRACKED * pending),
        ),
        Row("quiet pass: SQL statements", measured["statements"]),
        Row("quiet pass: wall time (median)", measured["quiet_seconds"] * 1000, "ms", digits=1),
        Row("changed request corrected in one pass", measured["corrected"], bound="=", goal=1),
        Row(f"resident memory, {tracked:,} tracked", memory, "MB", bound="<", goal=MEMORY_MB, digits=1),
        Row("peak resident memory (start-up pass)", peak, "MB", digits=1),
        Row("store per tracked request", measured["store_bytes"] / tracked / 1024, "kB", digits=2),
        Row("start-up / bare Bolt", serve[0] / bare[0], bound="≤", goal=STARTUP_RATIO, digits=2),
        Row("start-up, serve (median)", serve[0] * 1000, "ms"),
        Row("start-up, bare Bolt (median)", bare[0] * 1000, "ms"),
        Row("start-up CPU / bare Bolt", serve[1] / bare[1], digits=2),
    ]


async def _in_process(
    app: Application, sandbox: SandboxServer, slack: FakeSlack, db: Database, pending: int
) -> dict[str, Any]:
    engine = app.store.engine
    # The app cards the seeded world's own queue for real: the models of the seeded cards.
    await app.workflow.reconcile()
    await app.tasks.drain()
    made = seed_pending(sandbox.state, pending)
    await seed_cards(app.store, slack, made, now=datetime.now(UTC))
    async with engine.connect() as conn:
        tracked = int(await conn.scalar(select(func.count()).select_from(cards)) or 0)

    await drop_cursor(engine)
    _, first_calls, first_seconds = await timed_pass(app, sandbox)
    statements = Statements(engine)
    report, quiet_calls, _ = await timed_pass(app, sandbox)
    statements.close()
    assert report.checked == 0, report
    quiet_seconds = statistics.median([(await timed_pass(app, sandbox))[2] for _ in range(QUIET_RUNS)])

    oldest = made[0]
    access.cancel(sandbox.state, oldest.user, oldest.id)  # nobody is subscribed: the webhook is lost
    report, _, _ = await timed_pass(app, sandbox)
    card = await app.store.cards.get(oldest.id)
    shown = card is not None and card.ts is not None and card.status == "CANCELED"
    in_slack = (
        card is not None
        and card.ts is not None
        and "Canceled" in str(slack.message(card.channel, card.ts).blocks)
    )
    return {
        "tracked": tracked,
        "first_calls": first_calls,
        "first_seconds": first_seconds,
        "quiet_calls": quiet_calls,
        "quiet_seconds": quiet_seconds,
        "statements": statements.count,
        "corrected": int(shown and in_slack and report.checked == 1),
        "store_bytes": await store_bytes(db, engine),
    }


def _serve_env(settings: Any, db: Database, pycache: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MPSLACK_", "MARKETPLACE_", "SLACK_")) and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(
        {
            "PYTHONPYCACHEPREFIX": str(pycache),
            "MARKETPLACE_URL": str(settings.marketplace_url),
            "MARKETPLACE_TOKEN": settings.marketplace_token.get_secret_value(),
            "MARKETPLACE_WEBHOOK_SIGNING_KEY": settings.webhook_signing_key.get_secret_value(),
            "SLACK_BOT_TOKEN": settings.slack_bot_token.get_secret_value(),
            "SLACK_SIGNING_SECRET": settings.slack_signing_secret.get_secret_value(),
            "SLACK_API_URL": str(settings.slack_api_url),
            "MPSLACK_DEFAULT_CHANNEL": settings.default_channel,
            "MPSLACK_ENCRYPTION_KEYS": ",".join(k.get_secret_value() for k in settings.encryption_keys),
            "MPSLACK_HOST": "127.0.0.1",
            "MPSLACK_PORT": str(free_port()),
            "MPSLACK_LOG_LEVEL": "WARNING",
            "MPSLACK_RECONCILE_SECONDS": "3600",
            "MPSLACK_TICK_SECONDS": "3600",
            **db.env(),
        }
    )
    return env


async def _serve_memory(env: dict[str, str], db: Database) -> tuple[float, float]:
    """Resident memory of `serve` after its start-up pass over everything (cursor dropped), and its peak."""
    engine = create_engine(db.url, schema=db.schema)
    try:
        await drop_cursor(engine)
        process = await _spawn(["-m", "marketplace_slack.cli", "serve"], env)
        try:
            await _healthy(env)
            for _ in range(1200):  # the start-up pass ends by setting the cursor
                async with engine.connect() as conn:
                    if await conn.scalar(select(sync_cursors.c.since)) is not None:
                        break
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError("the start-up pass did not finish")
            await asyncio.sleep(1)  # let the pass's garbage go
            return status_mb(process.pid, "VmRSS"), status_mb(process.pid, "VmHWM")
        finally:
            process.terminate()
            await process.wait()
    finally:
        await engine.dispose()


async def _startup(argv: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    """Median seconds from exec to /healthz answering 200, and of the CPU seconds the process used by
    then (steadier than the wall clock on a busy machine), after an untimed run fills the bytecode cache."""
    times: list[float] = []
    cpu: list[float] = []
    for _ in range(runs + 1):
        started = time.perf_counter()
        process = await _spawn(argv, env)
        try:
            await _healthy(env)
            times.append(time.perf_counter() - started)
            cpu.append(_cpu_seconds(process.pid))
        finally:
            process.terminate()
            await process.wait()
    return statistics.median(times[1:]), statistics.median(cpu[1:])


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


async def _spawn(argv: list[str], env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, *argv, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )


async def _healthy(env: dict[str, str]) -> None:
    url = f"http://127.0.0.1:{env['MPSLACK_PORT']}/healthz"
    async with httpx.AsyncClient() as http:
        for _ in range(3000):
            with contextlib.suppress(httpx.TransportError):
                if (await http.get(url)).status_code == 200:
                    return
            await asyncio.sleep(0.01)
    raise RuntimeError(f"nothing answered at {url}")


async def main(stores: list[str], pending: int, runs: int) -> str:
    out = []
    for store in stores:
        out.append(f"{store}:\n\n" + render(await rows(store, pending, runs)))
    return "\n\n".join(out)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--store", choices=["sqlite", "postgres"], action="append")
    parser.add_argument("--pending", type=int, default=PENDING)
    parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args()
    sys.stdout.write(asyncio.run(main(args.store or ["sqlite", "postgres"], args.pending, args.runs)) + "\n")
