"""Datetimes come back aware and in UTC on both backends, whatever zone they went in with."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from backends import StoreDatabase
from marketplace_slack.domain import Verdict
from marketplace_slack.store.repository import Repository

KOLKATA = timezone(timedelta(hours=5, minutes=30))
NEW_YORK_WINTER = timezone(timedelta(hours=-5))


async def test_aware_non_utc_times_are_stored_as_the_same_instant_and_read_back_as_utc(
    store: Repository, store_database: StoreDatabase
) -> None:
    local = datetime(2026, 3, 1, 1, 15, 30, 123456, tzinfo=KOLKATA)
    assert await store.cards.claim("req-1", "C1", owner="a", now=local, lease=timedelta(minutes=1))
    card = await store.cards.get("req-1")
    assert card is not None and card.claimed_at is not None
    assert card.claimed_at == local
    assert card.claimed_at.tzinfo is UTC
    assert card.claimed_at == datetime(2026, 2, 28, 19, 45, 30, 123456, tzinfo=UTC)

    claim = await store.decisions.claim(
        "rec-1",
        request_id="req-1",
        slack_user_id="U1",
        verdict=Verdict.APPROVE,
        now=local,
        lease=timedelta(minutes=1),
    )
    assert claim.since.tzinfo is UTC and claim.since == local

    # A lease compared across zones: 59 minutes later in New York is still inside a 1-hour lease.
    later = (local + timedelta(minutes=59)).astimezone(NEW_YORK_WINTER)
    assert not await store.cards.claim("req-1", "C1", owner="b", now=later, lease=timedelta(hours=1))
    assert await store.cards.claim(
        "req-1", "C1", owner="b", now=later + timedelta(minutes=1), lease=timedelta(hours=1)
    )

    engine = store_database.engine()
    try:
        async with engine.connect() as conn:
            raw = (await conn.execute(text("SELECT claimed_at FROM decision_claims"))).scalar_one()
    finally:
        await engine.dispose()
    if store_database.backend == "sqlite":
        assert str(raw).startswith(
            "2026-02-28 19:45:30.123456"
        )  # UTC wall clock, so text order is time order
    else:
        assert raw == local


async def test_naive_times_are_refused(store: Repository) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await store.deliveries.mark("d-1", "e", now=datetime(2026, 1, 1))
    assert await store.deliveries.mark("d-1", "e", now=datetime(2026, 1, 1, tzinfo=UTC))
