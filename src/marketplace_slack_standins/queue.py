"""A large account's queue, carded: many pending requests in the sandbox, each with the card the app
would have posted for it, for the scale tests and benchmarks.

Posting 10,000 cards through the app would take Slack's pace (about one message a second a channel):
hours. So the cards are seeded directly, copied from cards the app really posted: for each new
request, the card row of a real card of the same product (its channel, fingerprint and digest line,
with this request's requester and date), the version it showed, and the open approval steps the
reminders follow; and in the stand-in Slack, the bot's message the card row points at, posted
through the stand-in's own Web API code (its checks, not its rate limits), so the app can update it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from marketplace_slack.store.engine import WRITE
from marketplace_slack.store.repository import Repository
from marketplace_slack.store.tables import cards, reminder_steps, request_versions
from marketplace_slack_standins.fakeslack import FakeSlack
from marketplace_slack_standins.sandbox.model import AccessRequest

_BATCH = 1000


async def seed_cards(
    store: Repository, slack: FakeSlack, requests: Sequence[AccessRequest], *, now: datetime
) -> None:
    """Cards for `requests` as the app would have posted and shown them (see the module's docstring).
    Needs a real PENDING card, posted by the app, for each of their products."""
    models = await _model_cards(store)
    card_rows: list[dict[str, Any]] = []
    version_rows: list[dict[str, Any]] = []
    step_rows: list[dict[str, Any]] = []
    for request in requests:
        model = models.get(request.product_id)
        if model is None:
            raise LookupError(f"no card of product {request.product_id} to model the seeded ones on")
        posted = slack.workspace.chat_post_message(
            {"channel": model["channel"], "text": f"Access request {request.id}"}
        )
        summary = json.loads(model["summary"]) if model["summary"] else None
        if summary is not None:
            summary.update(requester=request.user.name, created_at=request.created_at.isoformat())
        card_rows.append(
            {
                **model,
                "request_id": request.id,
                "ts": posted["ts"],
                "summary": json.dumps(summary, separators=(",", ":"), sort_keys=True) if summary else None,
                "claimed_at": now,
                "posted_at": now,
                "created_at": now,
                "updated_at": now,
            }
        )
        # The version as the listing tells it: the Marketplace writes milliseconds.
        updated_at = request.updated_at.replace(microsecond=request.updated_at.microsecond // 1000 * 1000)
        version_rows.append(
            {
                "request_id": request.id,
                "status": request.status,
                "updated_at": updated_at,
                "seen_at": now,
            }
        )
        step_rows += [
            {
                "record_id": r.id,
                "request_id": request.id,
                "opened_at": r.created_at,
                "plan_at": now,
                "stopped_at": None,
                "created_at": now,
                "updated_at": now,
            }
            for r in request.records
            if r.status == "PENDING"
        ]
    async with store.engine.execution_options(**WRITE).begin() as conn:
        for table, rows in (
            (cards, card_rows),
            (request_versions, version_rows),
            (reminder_steps, step_rows),
        ):
            for start in range(0, len(rows), _BATCH):
                await conn.execute(insert(table), rows[start : start + _BATCH])


async def _model_cards(store: Repository) -> dict[str, dict[str, Any]]:
    """A posted PENDING card per product (by its digest line's product id), as a row to copy."""
    query = select(cards).where(cards.c.ts.is_not(None), cards.c.status == "PENDING")
    async with store.engine.connect() as conn:
        rows = [dict(row._mapping) for row in await conn.execute(query)]
    found: dict[str, dict[str, Any]] = {}
    for row in rows:
        product_id = json.loads(row["summary"]).get("product_id") if row["summary"] else None
        if product_id is not None:
            found.setdefault(product_id, row)
    return found
