from __future__ import annotations

from datetime import timedelta

import pytest

from marketplace_slack.domain import Duration, DurationUnit, Verdict
from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.store.audit import AuditKind
from marketplace_slack.store.repository import Repository


async def test_audit_round_trip_in_order(store: Repository, clock: FakeClock) -> None:
    first = await store.audit.append(
        at=clock.now(),
        request_id="req-1",
        record_id="rec-1",
        team_id="T1",
        slack_user_id="U1",
        marketplace_user_id="mp-1",
        verdict=Verdict.APPROVE,
        duration=7,
        duration_unit=DurationUnit.DAYS,
        reason="needed for Q4 report",
    )
    clock.advance(timedelta(minutes=1))
    await store.audit.append(
        at=clock.now(),
        request_id="req-2",
        record_id="rec-9",
        slack_user_id="U2",
        verdict="DENY",
        outcome="unavailable",
        error="The Marketplace did not answer.",
    )
    clock.advance(timedelta(minutes=1))
    await store.audit.append(
        at=clock.now(),
        request_id="req-1",
        record_id="rec-2",
        slack_user_id="U2",
        verdict=Verdict.DENY,
        outcome="conflict",
        error="This step was already approved by Ann.",
    )

    everything = await store.audit.list()
    assert [(e.request_id, e.record_id) for e in everything] == [
        ("req-1", "rec-1"),
        ("req-2", "rec-9"),
        ("req-1", "rec-2"),
    ]
    assert everything[0] == first
    assert first.ok and first.outcome == "ok" and first.error is None
    assert (first.team_id, first.marketplace_user_id, first.verdict) == ("T1", "mp-1", Verdict.APPROVE)
    assert (first.duration, first.duration_unit) == (7, DurationUnit.DAYS)
    assert first.approved_for == Duration(7, DurationUnit.DAYS)
    assert first.reason == "needed for Q4 report"

    only_1 = await store.audit.list("req-1")
    assert [e.record_id for e in only_1] == ["rec-1", "rec-2"]
    failed = only_1[1]
    assert (
        not failed.ok
        and failed.outcome == "conflict"
        and failed.error == "This step was already approved by Ann."
    )
    assert failed.duration is None and failed.duration_unit is None and failed.approved_for is None
    assert failed.at == clock.now()
    assert await store.audit.list("req-none") == []


async def test_a_half_duration_is_refused(store: Repository, clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="duration"):
        await store.audit.append(
            at=clock.now(),
            request_id="r",
            record_id="x",
            slack_user_id="U1",
            verdict=Verdict.APPROVE,
            duration=3,
        )
    assert await store.audit.list() == []


async def test_every_kind_is_kept_and_read_back_in_time_order(store: Repository, clock: FakeClock) -> None:
    start = clock.now()
    await store.audit.append(
        at=start, request_id="req-1", record_id="rec-1", slack_user_id="U1", verdict=Verdict.APPROVE
    )
    refusal = await store.audit.record(
        kind=AuditKind.REFUSAL,
        at=start + timedelta(minutes=1),
        team_id="T1",
        slack_user_id="U2",
        request_id="req-1",
        verdict=Verdict.APPROVE,
        outcome="notify_only",
        error="Decide this request in the Marketplace.",
        detail={"stage": "click"},
    )
    await store.audit.record(
        kind="link", at=start + timedelta(minutes=2), slack_user_id="U3", marketplace_user_id="mp-3"
    )
    await store.audit.record(kind=AuditKind.UNLINK, at=start + timedelta(minutes=3), slack_user_id="U3")

    assert (refusal.kind, refusal.request_id, refusal.record_id, refusal.verdict) == (
        "refusal",
        "req-1",
        None,
        "APPROVE",
    )
    assert refusal.detail == {"stage": "click"}
    entries = [e async for e in store.audit.entries()]
    assert [e.kind for e in entries] == ["decision", "refusal", "link", "unlink"]
    assert entries[1] == refusal
    # `list` stays the decisions' own view: the other kinds do not turn into (half) decisions.
    assert [a.record_id for a in await store.audit.list("req-1")] == ["rec-1"]

    window = store.audit.entries(since=start + timedelta(minutes=1), until=start + timedelta(minutes=3))
    assert [e.kind async for e in window] == ["refusal", "link"]


async def test_entries_stream_page_by_page_without_skipping_ties(store: Repository, clock: FakeClock) -> None:
    # Seven entries, three at the very same instant: pages of two must still give each exactly once.
    at = clock.now()
    for n in range(7):
        when = at + timedelta(seconds=n if n < 3 else 3)
        await store.audit.record(kind=AuditKind.LINK, at=when, slack_user_id=f"U{n}")
    seen = [e.slack_user_id async for e in store.audit.entries(page_size=2)]
    assert seen == [f"U{n}" for n in range(7)]


async def test_a_decision_is_not_recorded_half(store: Repository, clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="append"):
        await store.audit.record(kind=AuditKind.DECISION, at=clock.now(), slack_user_id="U1")
    with pytest.raises(ValueError):
        await store.audit.record(kind="sneaky", at=clock.now(), slack_user_id="U1")
    assert [e async for e in store.audit.entries()] == []
