"""Slack's acks while the Marketplace is slow and a thousand clicks are waiting (issue 12, "Scale").

    uv run python bench/acks.py [--store sqlite|postgres] [--clicks 1000] [--latency-ms 5000]

Based on `click_to_ack` in bench/run.py: the app runs in a process of its own (`marketplace-slack
serve`); the Marketplace sandbox (every answer delayed by `--latency-ms`) and the stand-in Slack run
here and keep the stopwatch. `--clicks` signed Approve clicks are sent as fast as the app takes them,
`--senders` at a time (default 8; Slack delivers each click as its own request), so every click's
work lands in the app's queue within seconds while the Marketplace holds each call for 5 s. Measured: how long
each ack took (Slack gives up at 3 s), and how many clicks the app shed (acked, and answered "busy"
instead of queued) once its queue was full. `--clicks 200` for a quick try.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx
from pydantic import SecretStr

from common import app_database, free_port, percentile, serve_env, wait_healthy
from marketplace_slack.infra.logs import configure
from marketplace_slack.marketplace import models as wire
from marketplace_slack.marketplace.client import MarketplaceClient
from marketplace_slack.marketplace.registration import register_webhook
from marketplace_slack.slack import ids
from marketplace_slack.workflow import sentences
from marketplace_slack_standins.fakeslack import FakeSlack, RecordedCall, SlackUserAgent, block_action
from marketplace_slack_standins.sandbox.server import SandboxServer
from marketplace_slack_standins.stage import (
    installed_as_declared,
    invite_everywhere,
    link_account,
    plausible_answers,
)
from table import Row, render

CLICKS = 1000
LATENCY_MS = 5000
SENDERS = 8
SECRET = "bench-signing-secret"
WEBHOOK_KEY = "bench-webhook-key"
CHANNEL = "C0STEWARDS"
SLACK_PATIENCE_S = 3.0
SHED_METRIC = "marketplace_slack_background_shed_total"


@dataclass(frozen=True)
class Outcome:
    acks: list[float]  # seconds per ack
    statuses: list[int]
    shed: int  # as the app counts them
    told_busy: int  # busy answers that reached Slack's response_url


async def measure(store: str, clicks: int, latency_ms: int, senders: int) -> Outcome:
    with tempfile.TemporaryDirectory() as tmp:
        async with (
            app_database(store, Path(tmp), "acks") as db,
            SandboxServer() as sandbox,
            FakeSlack(install=installed_as_declared()) as slack,
        ):
            invite_everywhere(slack)
            port = free_port()
            env = serve_env(
                sandbox,
                slack,
                port=port,
                secret=SECRET,
                webhook_key=WEBHOOK_KEY,
                channel=CHANNEL,
                MPSLACK_LOG_LEVEL="ERROR",
                # The clicks' work is still waiting on the slow Marketplace at the end: no need to wait.
                MPSLACK_SHUTDOWN_GRACE_SECONDS="0",
                **db,
            )
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "marketplace_slack.cli", "serve", env=env, cwd=tmp,
                stdout=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            app_url = f"http://127.0.0.1:{port}"
            try:
                await wait_healthy(app_url)
                return await _clicks(sandbox, slack, app_url, clicks, latency_ms, senders)
            finally:
                process.terminate()
                await process.wait()


async def _clicks(
    sandbox: SandboxServer, slack: FakeSlack, app_url: str, clicks: int, latency_ms: int, senders: int
) -> Outcome:
    # The start-up reconciliation posts the seeded world's pending requests; let it finish first.
    pending = sum(1 for r in sandbox.state.requests.values() if str(r.status).endswith("PENDING"))
    await slack.wait_for("chat.postMessage", count=pending, timeout=60)
    agent = SlackUserAgent(f"{app_url}/slack/events", SECRET, slack=slack, timeout=60)
    async with agent, MarketplaceClient(sandbox.base_url, sandbox.token_for("admin")) as admin:
        await register_webhook(admin, f"{app_url}/marketplace/webhook", SecretStr(WEBHOOK_KEY))
        await sandbox.webhooks.drain()
        nora = admin.with_token(SecretStr(sandbox.token_for("nora")))
        product = (await nora.get_data_product_by_name("Finance Ledger")).id
        answers = plausible_answers(await nora.get_request_forms(product))
        user = sandbox.state.users["nora"].global_user_id
        created = await nora.request_access(product, wire.CreateAccessRequest(user=user, form=answers))
        await slack.wait_for(
            "chat.postMessage", predicate=lambda c: created.id in str(c.args.get("blocks")), timeout=30
        )
        gina = _slack_user(sandbox, slack, "gina")
        await link_account(agent, slack, gina, sandbox.token_for("gina"))
        message = next(m for m in slack.messages(CHANNEL) if created.id in str(m.blocks) and not m.thread_ts)
        sandbox.faults.set(latencyMs=latency_ms)
        acks: list[float] = []
        statuses: list[int] = []
        left = iter(range(clicks))

        async def sender() -> None:
            for _ in left:
                payload = block_action(
                    user_id=gina,
                    team_id=slack.team_id,
                    channel_id=CHANNEL,
                    message_ts=message.ts,
                    action_id=ids.APPROVE,
                    message_blocks=message.blocks,
                )
                delivery = await agent.send_interaction(payload)
                statuses.append(delivery.status)
                acks.append(delivery.elapsed)

        await asyncio.gather(*(sender() for _ in range(senders)))
        shed = await _shed(app_url)
        told = await slack.wait_for("response_url", count=shed, predicate=_busy, timeout=30) if shed else []
        sandbox.faults.clear()
    return Outcome(acks, statuses, shed, len(told))


def _busy(call: RecordedCall) -> bool:
    return sentences.BUSY.text in str(call.args.get("text"))


async def _shed(app_url: str) -> int:
    async with httpx.AsyncClient() as http:
        body = (await http.get(f"{app_url}/metrics")).text
    for line in body.splitlines():
        if line.startswith(SHED_METRIC + " "):
            return int(float(line.split()[1]))
    return 0  # an app without shedding


def _slack_user(sandbox: SandboxServer, slack: FakeSlack, username: str) -> str:
    email = (sandbox.state.users[username].email or "").casefold()
    return next(str(u.id) for u in slack.users if (u.email or "").casefold() == email)


async def rows(
    store: str, *, clicks: int = CLICKS, latency_ms: int = LATENCY_MS, senders: int = SENDERS
) -> list[Row]:
    outcome = await measure(store, clicks, latency_ms, senders)
    late = sum(1 for elapsed in outcome.acks if elapsed > SLACK_PATIENCE_S)
    failed = sum(1 for status in outcome.statuses if status != 200)
    p99 = percentile(outcome.acks, 0.99) * 1000
    return [
        Row("ack p50", percentile(outcome.acks, 0.5) * 1000, "ms", digits=1),
        Row("ack p99", p99, "ms", "<", 50, digits=1),
        Row("acks over 3 s", late, "", "=", 0),
        Row("acks not 200", failed, "", "=", 0),
        Row("clicks shed", outcome.shed),
        Row("shed clicks told busy", outcome.told_busy, "", "=", outcome.shed),
    ]


async def main(stores: list[str], clicks: int, latency_ms: int, senders: int) -> str:
    configure("WARNING", "console")
    table: list[Row] = []
    for store in stores:  # named per store as bench/all.py names them
        for row in await rows(store, clicks=clicks, latency_ms=latency_ms, senders=senders):
            table.append(dataclasses.replace(row, measure=f"{row.measure} ({store})"))
    return render(table)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--store", choices=["sqlite", "postgres"], help="one store (default: both)")
    parser.add_argument("--clicks", type=int, default=CLICKS, help="try --clicks 200 for a quick run")
    parser.add_argument("--latency-ms", type=int, default=LATENCY_MS)
    parser.add_argument("--senders", type=int, default=SENDERS, help="clicks in flight at once")
    args = parser.parse_args()
    chosen = [args.store] if args.store else ["sqlite", "postgres"]
    sys.stdout.write(asyncio.run(main(chosen, args.clicks, args.latency_ms, args.senders)) + "\n")
