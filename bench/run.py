"""Benchmarks of the approval loop on loopback, printed as a Markdown table.

    uv run python bench/run.py [--cards 40] [--clicks 200]

The app runs in a process of its own (`marketplace-slack serve`), as it would in production; the
Marketplace sandbox and the stand-in Slack run in this process and keep the stopwatch, so their
own work does not count against the app.

- webhook → card: from the Marketplace emitting a webhook to the card reaching Slack, with 50 ms
  added to every Marketplace call, against the critical path: the longest chain of dependent
  Marketplace calls on the way (the request, then what needs its product id or form: 2 x 50 ms).
- click → ack: how long Slack waits for the app to acknowledge an Approve click, with 500 ms added
  to every Marketplace call (the ack must not wait for any of them).
- Marketplace calls per card, for the first card of a product and for later ones (form versions are
  cached), and the app process's resident memory after the run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from common import free_port, percentile, serve_env, status_mb, wait_healthy
from marketplace_slack.infra.logs import configure
from marketplace_slack.marketplace import models as wire
from marketplace_slack.marketplace.client import MarketplaceClient
from marketplace_slack.marketplace.errors import ConflictError
from marketplace_slack.marketplace.registration import register_webhook
from marketplace_slack.slack import ids
from marketplace_slack_standins.fakeslack import (
    FakeSlack,
    RecordedCall,
    SlackUserAgent,
    block_action,
)
from marketplace_slack_standins.sandbox.server import SandboxServer
from marketplace_slack_standins.stage import (
    installed_as_declared,
    invite_everywhere,
    link_account,
    plausible_answers,
)

LATENCY_MS = 50
SLOW_LATENCY_MS = 500
CLICK_INTERVAL = 0.05
CRITICAL_PATH_CALLS = 2
SECRET = "bench-signing-secret"
WEBHOOK_KEY = "bench-webhook-key"
CHANNEL = "C0STEWARDS"
STEWARDS = {"sara", "omar", "gina", "admin", "nora"}  # nora is kept for the click benchmark
PRODUCTS = ["Sales Pipeline", "Customer 360", "Finance Ledger"]


class Bench:
    def __init__(self, sandbox: SandboxServer, slack: FakeSlack, app_url: str, pid: int) -> None:
        self.sandbox, self.slack, self.app_url, self.pid = sandbox, slack, app_url, pid
        self.agent = SlackUserAgent(f"{app_url}/slack/events", SECRET, slack=slack)
        self.admin = MarketplaceClient(sandbox.base_url, sandbox.token_for("admin"))

    async def request(self, username: str, product: str) -> str:
        client = self.admin.with_token(SecretStr(self.sandbox.token_for(username)))
        product_id = (await client.get_data_product_by_name(product)).id
        answers = plausible_answers(await client.get_request_forms(product_id))
        user = self.sandbox.state.users[username].global_user_id
        created = await client.request_access(product_id, wire.CreateAccessRequest(user=user, form=answers))
        return created.id

    def slack_user(self, username: str) -> str:
        email = (self.sandbox.state.users[username].email or "").casefold()
        return next(str(u.id) for u in self.slack.users if (u.email or "").casefold() == email)

    def card(self, request_id: str) -> Any:
        return next(
            m for m in self.slack.messages(CHANNEL) if request_id in str(m.blocks) and not m.thread_ts
        )


@contextlib.asynccontextmanager
async def bench_world(tmp: Path) -> AsyncIterator[Bench]:
    async with SandboxServer() as sandbox, FakeSlack(install=installed_as_declared()) as slack:
        invite_everywhere(slack)
        port = free_port()
        env = serve_env(
            sandbox,
            slack,
            port=port,
            secret=SECRET,
            webhook_key=WEBHOOK_KEY,
            channel=CHANNEL,
            MPSLACK_DATABASE_URL=f"sqlite+aiosqlite:///{tmp / 'bench.db'}",
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "marketplace_slack.cli",
            "serve",
            env=env,
            cwd=tmp,
            stdout=asyncio.subprocess.DEVNULL,
        )
        app_url = f"http://127.0.0.1:{port}"
        try:
            await wait_healthy(app_url)
            # The app's start-up reconciliation posts the seeded world's pending requests; let it finish.
            pending = sum(
                1
                for r in sandbox.state.requests.values()
                if str(r.status) in ("PENDING", "RequestStatus.PENDING")
            )
            await slack.wait_for("chat.postMessage", count=pending, timeout=30)
            bench = Bench(sandbox, slack, app_url, process.pid)
            async with bench.agent:
                await register_webhook(bench.admin, f"{app_url}/marketplace/webhook", SecretStr(WEBHOOK_KEY))
                await sandbox.webhooks.drain()
                yield bench
            await bench.admin.aclose()
        finally:
            process.terminate()
            await process.wait()


async def webhook_to_card(bench: Bench, cards: int) -> list[float]:
    """Seconds from the webhook emitted to the card's chat.postMessage received, per card."""
    emitted: dict[str, float] = {}
    posted: dict[str, float] = {}
    arrived = asyncio.Event()

    def on_event(event: Any) -> None:
        # Listeners run in order: this one is added after the webhook hub, right as it starts delivering.
        if event.access_request_id and event.type.endswith("access_requests.created"):
            emitted.setdefault(event.access_request_id, time.perf_counter())

    def on_call(call: RecordedCall) -> None:
        if call.method == "chat.postMessage" and not call.args.get("thread_ts"):
            text = str(call.args.get("blocks"))
            for request_id in emitted:
                if request_id in text and request_id not in posted:
                    posted[request_id] = time.perf_counter()
                    arrived.set()

    bench.sandbox.state.subscribe(on_event)
    bench.slack.subscribe(on_call)
    requesters = sorted(u for u in bench.sandbox.state.users if u not in STEWARDS)
    for n in range(cards):
        requester = requesters[n % len(requesters)]
        product = PRODUCTS[(n // len(requesters)) % len(PRODUCTS)]
        try:
            # The request itself is made without added latency; only the app's calls are slowed.
            request_id = await bench.request(requester, product)
        except ConflictError:  # the seeded world already has one pending for this person
            continue
        bench.sandbox.faults.set(latencyMs=LATENCY_MS)
        while request_id not in posted:
            arrived.clear()
            await asyncio.wait_for(arrived.wait(), timeout=10)
        bench.sandbox.faults.clear()
        await asyncio.sleep(0.05)  # let the app finish its bookkeeping before the next sample
    return [posted[r] - emitted[r] for r in emitted if r in posted]


async def click_to_ack(bench: Bench, clicks: int) -> list[float]:
    request_id = await bench.request("nora", "Finance Ledger")
    await bench.slack.wait_for(
        "chat.postMessage", predicate=lambda c: request_id in str(c.args.get("blocks"))
    )
    await link_account(bench.agent, bench.slack, bench.slack_user("gina"), bench.sandbox.token_for("gina"))
    message = bench.card(request_id)
    bench.sandbox.faults.set(latencyMs=SLOW_LATENCY_MS)
    elapsed = []
    for _ in range(clicks):
        payload = block_action(
            user_id=bench.slack_user("gina"),
            team_id=bench.slack.team_id,
            channel_id=CHANNEL,
            message_ts=message.ts,
            action_id=ids.APPROVE,
            message_blocks=message.blocks,
        )
        delivery = await bench.agent.send_interaction(payload)
        assert delivery.status == 200
        elapsed.append(delivery.elapsed)
        # Twenty clicks a second, each leaving a second of slow Marketplace work behind it in the app.
        await asyncio.sleep(CLICK_INTERVAL)
    bench.sandbox.faults.clear()
    return elapsed


async def calls_per_card(bench: Bench) -> int:
    """Marketplace calls the app makes for one card (the form version already cached: the first card
    of each form version makes one call more, `GET /api/request-form/version/{v}`)."""
    await bench.sandbox.webhooks.drain()
    bench.sandbox.stats.reset()
    request_id = await bench.request("gina", "Sales Pipeline")
    own = 3  # the request itself: product by name, its forms, the POST
    await bench.slack.wait_for(
        "chat.postMessage", predicate=lambda c: request_id in str(c.args.get("blocks")), timeout=10
    )
    return bench.sandbox.stats.total - own


async def main(cards: int, clicks: int) -> str:
    configure("WARNING", "console")
    with tempfile.TemporaryDirectory() as tmp:
        async with bench_world(Path(tmp)) as bench:
            calls = await calls_per_card(bench)
            latencies = await webhook_to_card(bench, cards)
            acks = await click_to_ack(bench, clicks)
            memory = status_mb(bench.pid)
    critical = CRITICAL_PATH_CALLS * LATENCY_MS / 1000
    p50 = statistics.median(latencies)
    rows = [
        (
            "webhook → card p50",
            f"{p50 * 1000:.0f} ms",
            f"{p50 / critical:.2f} x the critical path "
            f"({CRITICAL_PATH_CALLS} x {LATENCY_MS} ms); target ≤ 1.30 x",
        ),
        ("webhook → card p95", f"{percentile(latencies, 0.95) * 1000:.0f} ms", f"{len(latencies)} cards"),
        (
            "click → ack p50",
            f"{statistics.median(acks) * 1000:.1f} ms",
            f"{SLOW_LATENCY_MS} ms Marketplace latency",
        ),
        (
            "click → ack p99",
            f"{percentile(acks, 0.99) * 1000:.1f} ms",
            f"{len(acks)} clicks, {1 / CLICK_INTERVAL:.0f} a second; target < 50 ms",
        ),
        (
            "Marketplace calls per card",
            f"{calls}",
            "+1 for the first card of each form version (then cached)",
        ),
        ("app resident memory", f"{memory:.0f} MB", f"after {len(latencies)} cards and {len(acks)} clicks"),
    ]
    width = max(len(r[0]) for r in rows)
    lines = [f"| {'measure':<{width}} | value | notes |", f"|{'-' * (width + 2)}|-------|-------|"]
    lines += [f"| {name:<{width}} | {value} | {note} |" for name, value, note in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cards", type=int, default=40)
    parser.add_argument("--clicks", type=int, default=200)
    args = parser.parse_args()
    sys.stdout.write(asyncio.run(main(args.cards, args.clicks)) + "\n")
