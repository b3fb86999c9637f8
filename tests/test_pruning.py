"""The prune job: old webhook deliveries, settled once-marks and stale Slack lookups go; young ones stay."""

from __future__ import annotations

from datetime import timedelta

from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.store.repository import Repository
from marketplace_slack.workflow.pruning import Pruner, PruneReport

CACHE_TTL = timedelta(hours=6)
FOREVER = timedelta(days=3650)

SETTLED_MARKS = ("reminder:rec-1:U1:1", "expiry:req-1:7", "digest:C1:2026-01-01T09:00Z")
LASTING_MARKS = ("step:rec-1:APPROVED", "dm:req-1:APPROVED", "escalation:rec-1")


async def test_old_rows_go_and_young_ones_stay(store: Repository, clock: FakeClock) -> None:
    pruner = Pruner(store, clock, slack_users_kept=CACHE_TTL)
    assert await store.deliveries.mark("d-old", "request.updated", now=clock.now())
    for key in SETTLED_MARKS + LASTING_MARKS:
        assert await store.marks.claim(key, now=clock.now())
    await store.slack_users.save("old@example.com", slack_user_id="UOLD", now=clock.now())

    clock.advance(timedelta(days=13))
    assert await pruner.run() == PruneReport(deliveries=0, marks=0, slack_users=1)
    assert await store.slack_users.get("old@example.com", now=clock.now(), ttl=FOREVER) is None

    assert await store.deliveries.mark("d-young", "request.updated", now=clock.now())
    assert await store.marks.claim("reminder:rec-1:U1:2", now=clock.now())
    await store.slack_users.save("young@example.com", slack_user_id="UYOUNG", now=clock.now())
    clock.advance(timedelta(days=1, hours=1))  # the first rows are 14 days and an hour old
    assert await pruner.run() == PruneReport(deliveries=1, marks=len(SETTLED_MARKS), slack_users=1)

    assert not await store.deliveries.mark("d-young", "request.updated", now=clock.now())
    assert not await store.marks.claim("reminder:rec-1:U1:2", now=clock.now())
    for key in LASTING_MARKS:  # still guarding a send that may come due again
        assert not await store.marks.claim(key, now=clock.now())
    assert await store.deliveries.mark("d-old", "request.updated", now=clock.now())  # forgotten
    for key in SETTLED_MARKS:
        assert await store.marks.claim(key, now=clock.now())
    assert await pruner.run() == PruneReport(deliveries=0, marks=0, slack_users=0)


async def test_a_young_lookup_stays_cached(store: Repository, clock: FakeClock) -> None:
    await store.slack_users.save("ann@example.com", slack_user_id="UANN", now=clock.now())
    clock.advance(CACHE_TTL - timedelta(minutes=1))
    assert await Pruner(store, clock, slack_users_kept=CACHE_TTL).run() == PruneReport(0, 0, 0)
    assert await store.slack_users.get("ann@example.com", now=clock.now(), ttl=CACHE_TTL) is not None


async def test_slack_event_marks_go_after_a_few_days(store: Repository, clock: FakeClock) -> None:
    # They guard against Slack's retries, which stop after about an hour.
    pruner = Pruner(store, clock, slack_users_kept=CACHE_TTL)
    assert await store.marks.claim("event:Ev1", now=clock.now())
    clock.advance(timedelta(days=2))
    assert await store.marks.claim("event:Ev2", now=clock.now())
    assert await pruner.run() == PruneReport(0, 0, 0)
    clock.advance(timedelta(days=1, hours=1))  # Ev1 is 3 days and an hour old, Ev2 a day and an hour
    assert await pruner.run() == PruneReport(deliveries=0, marks=1, slack_users=0)
    assert await store.marks.claim("event:Ev1", now=clock.now())
    assert not await store.marks.claim("event:Ev2", now=clock.now())
