"""The gateway's change listing over the loopback sandbox: newest `updatedAt` first, stopping at `since`
without fetching further pages, and the version a load carries is the one the listing shows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from marketplace_slack.domain import RequestStatus
from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.marketplace import models as wire
from marketplace_slack.marketplace.client import MarketplaceClient
from marketplace_slack.marketplace.gateway import MarketplaceGateway
from marketplace_slack_standins.sandbox.world import ADMIN, RICK, SALES_PIPELINE

LISTING = "GET /api/access-request"


async def test_the_listing_walks_newest_first_and_stops_at_since(sandbox: Any, clock: FakeClock) -> None:
    product = sandbox.state.product_named(SALES_PIPELINE)
    rick = sandbox.state.users[RICK]
    async with MarketplaceClient(sandbox.base_url, sandbox.token_for(ADMIN)) as client:
        gateway = MarketplaceGateway(client, app_url="https://app.example.com")
        everything = [c async for c in gateway.request_changes(page_size=25)]
        assert len(everything) == len(sandbox.state.requests)  # settled history included
        stamps = [updated_at for _, _, updated_at in everything]
        assert stamps == sorted(stamps, reverse=True)

        clock.advance(timedelta(minutes=5))  # past the world's build, when grants expired
        since = clock.now()
        clock.advance(timedelta(minutes=1))
        created = await client.request_access(
            product.id, wire.CreateAccessRequest(user=rick.global_user_id, form=None)
        )
        sandbox.stats.reset()
        recent = [c async for c in gateway.request_changes(since=since, page_size=25)]
        assert [(i, s) for i, s, _ in recent] == [(created.id, RequestStatus.PENDING)]
        assert sandbox.stats.counts[LISTING] == 1  # the first page already reached `since`

        loaded = await gateway.load(created.id, enrich=False)
        assert loaded.updated_at == recent[0][2] == clock.now()
