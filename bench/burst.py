"""A burst of access requests to one channel, with Slack's per-channel pace enforced.

    uv run python bench/burst.py [--requests 1000] [--scale 2] [--store sqlite|postgres]

(`--requests 100 --scale 5` to try it out in a minute.)

N requests, each from a person of their own, arrive within a minute (of the scaled clock) for
products routed to one channel. The stand-in Slack enforces Slack's limits `--scale` times faster
(at 20, chat.postMessage 1/s per channel becomes 20/s and Tier 3 50/min becomes 1,000/min, bursts
unchanged, Retry-After still whole seconds) and the app is told the same scale, so the run takes
N / (rate x scale) seconds rather than a quarter of an hour, and every goal is relative to that pace:

- the last card within 1.2 x the pacing limit, N / (1 post/s x scale), counted from the first request;
- every request carded (a backlog summary says how many more wait, as `MPSLACK_CHANNEL_BACKLOG` asks);
- no post given up: a request uncarded once the channel has gone quiet is left to reconciliation
  (which runs only at start-up here, so it rescues nothing).

People never seen before cost a `users.lookupByEmail` each, Tier 3: 50 a minute after a burst, so
1,000 of them need (1,000 - 20) / 50 minutes, 1.18 x the posts' own pacing limit, before any card.

The app runs as its own process (`marketplace-slack serve`), as in production; the Marketplace
sandbox and the stand-in Slack run here and keep the stopwatch. The claim lease (120 s) is not
scaled: at scale 1 a burst outlasts a lease, which `--scale 1 --requests 200` exercises in real time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parent))  # table.py, however this is imported

from common import app_database, free_port, serve_env, wait_healthy
from marketplace_slack.infra.logs import configure
from marketplace_slack.marketplace import models as wire
from marketplace_slack.marketplace.client import MarketplaceClient
from marketplace_slack.marketplace.registration import register_webhook
from marketplace_slack_standins.fakeslack import FakeSlack, RecordedCall
from marketplace_slack_standins.fakeslack.workspace import DEFAULT_USERS, SlackUser
from marketplace_slack_standins.sandbox.model import User
from marketplace_slack_standins.sandbox.server import SandboxServer
from marketplace_slack_standins.stage import installed_as_declared, invite_everywhere, plausible_answers
from table import Row, render

SECRET = "bench-signing-secret"
WEBHOOK_KEY = "bench-webhook-key"
CHANNEL = "C0STEWARDS"
PRODUCT = "Sales Pipeline"  # one product: one channel, whatever the routes say
POSTS_PER_SECOND = 1.0  # Slack's chat.postMessage pace per channel, before scaling
ARRIVAL_SECONDS = 60.0  # the burst arrives within a minute (scaled)
FILERS = 16  # requests filed at once
QUIET_SECONDS = 30.0  # real seconds without a card after which the rest count as given up
GOAL_RATIO = 1.2
# Two cards a second: the app spends about 0.1 s of CPU on a card (the sandbox and the stand-in as
# much again), so on a shared 2-core machine a faster scale measures the CPU, not the pacing.
SCALE = 2.0


@dataclass
class Burst:
    emitted: dict[str, float] = field(default_factory=dict)
    carded: dict[str, float] = field(default_factory=dict)
    summaries: int = 0
    started: float = 0.0
    last_post: float = 0.0
    changed: asyncio.Event = field(default_factory=asyncio.Event)


def _people(count: int) -> tuple[list[User], list[SlackUser]]:
    epoch = datetime(2024, 1, 1, tzinfo=UTC)
    market, slack = [], []
    for n in range(count):
        username = f"burst{n:05d}"
        email = f"{username}@example.com"
        market.append(
            User(
                id=100_000 + n,
                username=username,
                name=f"Burst Person {n}",
                email=email,
                global_user_id=str(uuid.uuid4()),
                created_at=epoch,
                attributes={"Department": ["Sales"], "Region": ["EMEA"]},
            )
        )
        slack.append(SlackUser(f"UB{n:07d}", username, f"Burst Person {n}", email))
    return market, slack


async def measure(store: str, requests: int, scale: float, *, log: Path | None = None) -> list[Row]:
    market_people, slack_people = _people(requests)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        async with (
            SandboxServer() as sandbox,
            FakeSlack(
                install=installed_as_declared(),
                users=(*DEFAULT_USERS, *slack_people),
                rate_scale=scale,
            ) as slack,
            app_database(store, tmp, "burst") as database,
        ):
            invite_everywhere(slack)
            for person in market_people:
                sandbox.state.users[person.username] = person
            port = free_port()
            # Only the start-up pass reconciles (serve_env): a webhook the app lost must show as a
            # card given up, not be rescued by a later pass.
            env = serve_env(
                sandbox,
                slack,
                port=port,
                secret=SECRET,
                webhook_key=WEBHOOK_KEY,
                channel=CHANNEL,
                MPSLACK_LOG_LEVEL="INFO" if log else "WARNING",
                MPSLACK_SLACK_RATE_SCALE=str(scale),
                **database,
            )
            out = log.open("w") if log else None
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "marketplace_slack.cli",
                "serve",
                env=env,
                cwd=tmp,
                stdout=out or asyncio.subprocess.DEVNULL,
                stderr=out or None,
            )
            admin = MarketplaceClient(sandbox.base_url, sandbox.token_for("admin"))
            try:
                await wait_healthy(f"http://127.0.0.1:{port}")
                seeded = sum(1 for r in sandbox.state.requests.values() if "PENDING" in str(r.status))
                await slack.wait_for("chat.postMessage", count=seeded, timeout=60)
                await register_webhook(
                    admin, f"http://127.0.0.1:{port}/marketplace/webhook", SecretStr(WEBHOOK_KEY)
                )
                await sandbox.webhooks.drain()
                await asyncio.sleep(max(5.0, 5 / scale))  # the seeded cards' bucket refills
                return await _burst(sandbox, slack, admin, market_people, scale)
            finally:
                await admin.aclose()
                process.terminate()
                await process.wait()
                if out:
                    out.close()


async def _burst(
    sandbox: SandboxServer, slack: FakeSlack, admin: MarketplaceClient, people: list[User], scale: float
) -> list[Row]:
    burst = Burst()
    limit = len(people) / (POSTS_PER_SECOND * scale)

    def on_call(call: RecordedCall) -> None:
        if call.method != "chat.postMessage" or call.status != 200 or call.args.get("thread_ts"):
            return
        burst.last_post = time.perf_counter()
        metadata = str(call.args.get("metadata"))
        if "backlog" in metadata:
            burst.summaries += 1
            return
        for request_id in burst.emitted:
            if request_id in metadata and request_id not in burst.carded:
                burst.carded[request_id] = burst.last_post
                break
        burst.changed.set()

    product = await admin.get_data_product_by_name(PRODUCT)
    answers = plausible_answers(await admin.get_request_forms(product.id))
    calls_before = sandbox.stats.total
    slack_before = len(slack.calls)
    slack.subscribe(on_call)
    gate = asyncio.Semaphore(FILERS)
    spacing = ARRIVAL_SECONDS / scale / len(people)
    burst.started = time.perf_counter()

    async def file(n: int, person: User) -> None:
        await asyncio.sleep(max(0.0, burst.started + n * spacing - time.perf_counter()))
        async with gate:
            client = admin.with_token(SecretStr(sandbox.token_for(person.username)))
            created = await client.request_access(
                product.id, wire.CreateAccessRequest(user=person.global_user_id, form=answers)
            )
            burst.emitted[created.id] = time.perf_counter()

    await asyncio.gather(*(file(n, p) for n, p in enumerate(people)))
    filed = len(people)
    burst.last_post = max(burst.last_post, time.perf_counter())  # the quiet is counted from here
    while len(burst.carded) < filed and time.perf_counter() - burst.last_post < QUIET_SECONDS + 1 / scale:
        burst.changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(burst.changed.wait(), timeout=1.0)
        if time.perf_counter() - burst.started > 4 * limit + 120:
            break
    last = max(burst.carded.values(), default=time.perf_counter()) - burst.started
    calls = sandbox.stats.total - calls_before - filed  # the bench's own POSTs are not the app's
    answers_429 = Counter(c.method for c in slack.calls[slack_before:] if c.status == 429)
    order = _in_order(burst)
    times = sorted(t - burst.started for t in burst.carded.values())
    quarters = [f"{times[min(len(times) - 1, len(times) * q // 4)]:.1f}" for q in (1, 2, 3)] if times else []
    filed_by = max(burst.emitted.values(), default=burst.started) - burst.started
    sys.stderr.write(
        f"filed by {filed_by:.1f} s; a quarter, half, three quarters carded by {quarters} s; "
        f"429s by method: {dict(answers_429)}; summaries posted: {burst.summaries}; "
        f"cards out of filing order: {order}; last card {last:.1f} s, limit {limit:.1f} s\n"
    )
    return [
        Row("burst: requests carded", len(burst.carded), bound="=", goal=filed),
        Row("given-up posts", filed - len(burst.carded), bound="=", goal=0),
        Row("last card / pacing limit", last / limit, bound="≤", goal=GOAL_RATIO, digits=2),
        Row("429 answers", sum(answers_429.values())),
        Row("Marketplace calls per card", calls / max(1, len(burst.carded)), digits=1),
    ]


def _in_order(burst: Burst) -> int:
    """Cards posted before a request filed earlier than them was carded (first come, first carded)."""
    by_filing = sorted(burst.carded, key=burst.emitted.__getitem__)
    times = [burst.carded[r] for r in by_filing]
    return sum(1 for a, b in itertools.pairwise(times) if b < a)


async def rows(store: str, *, requests: int = 1000, scale: float = SCALE) -> list[Row]:
    return await measure(store, requests, scale)


async def main(stores: list[str], requests: int, scale: float, log: Path | None) -> str:
    configure("WARNING", "console")
    tables = []
    for store in stores:
        measured = await measure(store, requests, scale, log=log)
        tables.append(f"{store}, {requests} requests, scale {scale:g}\n\n{render(measured)}")
    return "\n\n".join(tables)


def _args(argv: list[str] | None = None) -> Any:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--store", choices=["sqlite", "postgres"], action="append")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--scale", type=float, default=SCALE)
    parser.add_argument("--log", type=Path, help="write the app's INFO log here")
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = _args()
    output = asyncio.run(main(args.store or ["sqlite", "postgres"], args.requests, args.scale, args.log))
    sys.stdout.write(output + "\n")
