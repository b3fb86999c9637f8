"""Reconciliation as the queue grows: a pass with nothing new costs the same at 50 pending requests
as at 500 (one page of the change listing, and the same SQL statements), a full pass costs a page
per hundred requests, and the oldest request, changed behind the app's back, is still corrected by
the next pass. On SQLite and PostgreSQL; the cards of the large queue are seeded
(`standins.queue`), not posted at Slack's pace."""

from __future__ import annotations

import math
from collections import Counter

from sqlalchemy import delete, event

from marketplace_slack.marketplace.gateway import CHANGES_PAGE
from marketplace_slack.store.tables import sync_cursors
from marketplace_slack_standins.queue import seed_cards
from marketplace_slack_standins.sandbox import access
from marketplace_slack_standins.sandbox.bulk import seed_pending
from marketplace_slack_standins.sandbox.model import REQUEST_CANCELED, AccessRequest
from marketplace_slack_standins.stage import Stage

LISTING = "GET /api/access-request"


async def _pass(stage: Stage) -> Counter[str]:
    """The Marketplace calls of one pass (and, under "SQL", the statements it sent the store)."""
    stage.sandbox.stats.reset()
    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    engine = stage.app.store.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        report = await stage.app.workflow.reconcile()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    await stage.settle()
    assert report.failed == 0
    return Counter({**stage.sandbox.stats.counts, "SQL": statements})


async def _queue_of(stage: Stage, pending: int) -> list[AccessRequest]:
    """Grow the queue to `pending` seeded requests with their cards, then start over with a full pass."""
    have = len(_bulk(stage))
    made = seed_pending(stage.sandbox.state, pending - have, seed=have)
    await seed_cards(stage.app.store, stage.slack, made, now=stage.clock.now())
    async with stage.app.store.engine.begin() as conn:
        await conn.execute(delete(sync_cursors))
    full = await _pass(stage)
    # Every card already shows its request: the full pass reads the listing and nothing else.
    assert full[LISTING] == math.ceil(len(stage.sandbox.state.requests) / CHANGES_PAGE)
    assert set(full) == {LISTING, "SQL"}
    return _bulk(stage)


def _bulk(stage: Stage) -> list[AccessRequest]:
    return [r for r in stage.sandbox.state.requests.values() if r.user.username.startswith("bulk")]


async def test_a_quiet_pass_costs_the_same_at_50_and_at_500_pending(stage: Stage) -> None:
    await _pass(stage)  # the app posts the seeded world's queue: the cards the seeded ones copy

    await _queue_of(stage, 50)
    small = await _pass(stage)
    queue = await _queue_of(stage, 500)
    large = await _pass(stage)
    assert small == large  # the same statements too
    assert small[LISTING] == 1 and set(small) == {LISTING, "SQL"}

    oldest = min(queue, key=lambda r: r.updated_at)
    stage.sandbox.webhooks.lose_deliveries(event_type=REQUEST_CANCELED, access_request_id=oldest.id)
    access.cancel(stage.sandbox.state, oldest.user, oldest.id)
    await stage.settle()
    assert [e.access_request_id for e in stage.sandbox.webhooks.lost] == [oldest.id]
    changed = await _pass(stage)
    assert changed[LISTING] == 1 and len(changed) > 2  # the one page, then the request read
    card = await stage.app.store.cards.get(oldest.id)
    assert card is not None and card.status == "CANCELED"
    assert "Canceled" in str((await stage.card(oldest.id)).blocks)
