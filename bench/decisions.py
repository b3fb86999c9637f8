"""Marketplace calls a steward's decision costs, from the click on Approve or Deny to the card's last
chat.update (issue 12), on SQLite and on PostgreSQL.

    uv run python bench/decisions.py [--store sqlite|postgres] [--decisions 10]

The stage (the Marketplace sandbox, the stand-in Slack and the app) runs in this process. Each
decision is driven as Slack would: a signed click on the card, then the signed submission of the
modal it opened. Before each one the steward links again, so her identity is not cached and
`GET /api/auth/user` counts too: the worst normal case. The sandbox's webhooks are detached (a
webhook is a hint to read the whole request again, a path of its own); the bench brings each new
request's card itself, as reconciliation would. A row shows the most calls any decision took.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from common import PG_URL, pg_schema
from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.infra.logs import configure
from marketplace_slack.marketplace.errors import ConflictError
from marketplace_slack_standins.fakeslack import RecordedCall
from marketplace_slack_standins.stage import Stage, open_stage
from table import Row, render  # bench/ is on sys.path when a script of it runs

DECISIONS = 10
GOAL = 4
STEWARD, PRODUCT = "sara", "Sales Pipeline"  # one record, "any" of sara and omar: the usual review
FORMS = {"approve": {"duration": "7:DAYS", "reason": "Quarterly review"}, "deny": {"reason": "Not for this"}}


@asynccontextmanager
async def _database(store: str) -> AsyncIterator[dict[str, Any]]:
    """Settings for an empty database of `store`, removed afterwards."""
    if store == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield {"database_url": f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"}
        return
    async with pg_schema("bench_decisions") as schema:
        yield {"database_url": PG_URL, "MPSLACK_DATABASE_SCHEMA": schema}


async def _request(stage: Stage, requesters: list[str]) -> str:
    """A new pending request for the product, from the first requester who may ask now."""
    for username in requesters:
        try:
            request_id = await stage.request_access(username, PRODUCT)
        except ConflictError:  # asked already, or has access
            continue
        await stage.app.workflow.cards.sync_request(request_id)
        return request_id
    raise RuntimeError("no requester left who may ask")


async def _one_decision(stage: Stage, request_id: str, verdict: str) -> int:
    """Marketplace calls from the click to the card's last chat.update."""
    record = await stage.app.store.cards.get(request_id)
    assert record is not None and record.ts is not None, "the request has no card"
    at_updates: list[int] = []

    def on_call(call: RecordedCall) -> None:
        if call.method == "chat.update" and call.args.get("ts") == record.ts:
            at_updates.append(stage.sandbox.stats.total)

    stage.slack.subscribe(on_call)
    await stage.link(STEWARD)  # forgets her cached identity: the click reads it
    stage.sandbox.stats.reset()
    await stage.decide(STEWARD, request_id, verdict, **FORMS[verdict])
    await stage.settle()
    status = str((await stage.app.marketplace.get_access_request_by_id(request_id)).status)
    assert status == ("APPROVED" if verdict == "approve" else "DENIED"), status
    assert at_updates, "the card was never updated"
    return at_updates[-1]


async def rows(store: str, decisions: int = DECISIONS) -> list[Row]:
    async with _database(store) as settings, open_stage(clock=FakeClock(), **settings) as stage:
        for hook in list(stage.sandbox.webhooks.webhooks):
            stage.sandbox.webhooks.remove(hook)
        stewards = {STEWARD, "omar", "admin", "gina"}
        requesters = sorted(u for u in stage.sandbox.state.users if u not in stewards)
        most: dict[str, int] = {}
        for n in range(decisions):
            verdict = "approve" if n % 2 == 0 else "deny"
            request_id = await _request(stage, requesters[n % len(requesters) :] + requesters)
            calls = await _one_decision(stage, request_id, verdict)
            most[verdict] = max(most.get(verdict, 0), calls)
    return [
        Row(f"Marketplace calls, click → updated card ({verdict})", most[verdict], "", "≤", GOAL)
        for verdict in ("approve", "deny")
        if verdict in most
    ]


async def main(stores: list[str], decisions: int) -> str:
    configure("WARNING", "console")
    found: list[Row] = []
    for store in stores:
        found += [replace(row, measure=f"{row.measure} ({store})") for row in await rows(store, decisions)]
    return render(found)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--store", choices=["sqlite", "postgres"], help="one store only (default: both)")
    parser.add_argument("--decisions", type=int, default=DECISIONS, help="decisions to measure, half of each")
    args = parser.parse_args()
    stores = [args.store] if args.store else ["sqlite", "postgres"]
    sys.stdout.write(asyncio.run(main(stores, max(2, args.decisions))) + "\n")
