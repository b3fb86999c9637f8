"""Decision claims: one determination per approval record, however many clicks and stewards."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

from marketplace_slack.domain import Verdict
from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.store.records import ClaimStatus
from marketplace_slack.store.repository import Repository

LEASE = timedelta(minutes=2)


async def test_a_double_click_is_held_by_the_first_click(store: Repository, clock: FakeClock) -> None:
    first = await store.decisions.claim(
        "rec-1", request_id="req-1", slack_user_id="U1", verdict=Verdict.APPROVE, now=clock.now(), lease=LEASE
    )
    assert first.won and first.status is ClaimStatus.WON and first.holder == "U1"
    clock.advance(timedelta(seconds=1))
    second = await store.decisions.claim(
        "rec-1", request_id="req-1", slack_user_id="U1", verdict="APPROVE", now=clock.now(), lease=LEASE
    )
    assert not second.won and second.status is ClaimStatus.HELD
    assert (second.holder, second.since, second.finished) == ("U1", first.since, False)


async def test_two_stewards_at_once_one_wins_and_the_other_learns_who(
    open_repository: Callable[..., Awaitable[Repository]], clock: FakeClock
) -> None:
    replicas = [await open_repository() for _ in range(2)]
    for n in range(5):
        record = f"rec-{n}"
        claims = await asyncio.gather(
            *(
                repo.decisions.claim(
                    record,
                    request_id="req-1",
                    slack_user_id=user,
                    verdict=verdict,
                    now=clock.now(),
                    lease=LEASE,
                )
                for repo, user, verdict in [
                    (replicas[0], "U1", Verdict.APPROVE),
                    (replicas[1], "U2", Verdict.DENY),
                ]
                for _ in range(3)
            )
        )
        winners = [c for c in claims if c.won]
        assert len(winners) == 1
        winner = winners[0]
        assert all(c.holder == winner.holder and c.verdict is winner.verdict for c in claims)
        assert all(c.since == clock.now() for c in claims)


async def test_a_finished_decision_stays_held_even_after_the_lease(
    store: Repository, clock: FakeClock
) -> None:
    claim = await store.decisions.claim(
        "rec-1", request_id="req-1", slack_user_id="U1", verdict=Verdict.DENY, now=clock.now(), lease=LEASE
    )
    assert claim.won
    assert await store.decisions.finish("rec-1", outcome="ok")
    assert not await store.decisions.finish("rec-1", outcome="conflict")  # the first outcome stands
    assert not await store.decisions.release("rec-1", "U1")  # too late to release a sent decision
    clock.advance(LEASE * 100)
    later = await store.decisions.claim(
        "rec-1", request_id="req-1", slack_user_id="U2", verdict=Verdict.APPROVE, now=clock.now(), lease=LEASE
    )
    assert not later.won
    assert (later.holder, later.verdict, later.finished, later.outcome) == ("U1", Verdict.DENY, True, "ok")


async def test_release_lets_a_retry_in_and_only_the_holder_can_release(
    store: Repository, clock: FakeClock
) -> None:
    assert (
        await store.decisions.claim(
            "rec-1",
            request_id="req-1",
            slack_user_id="U1",
            verdict=Verdict.APPROVE,
            now=clock.now(),
            lease=LEASE,
        )
    ).won
    assert not await store.decisions.release("rec-1", "U2")
    assert await store.decisions.release("rec-1", "U1")
    retry = await store.decisions.claim(
        "rec-1", request_id="req-1", slack_user_id="U2", verdict=Verdict.DENY, now=clock.now(), lease=LEASE
    )
    assert retry.won and retry.holder == "U2" and retry.verdict is Verdict.DENY


async def test_a_stale_in_flight_claim_is_taken_over_after_the_lease(
    store: Repository, clock: FakeClock
) -> None:
    start = clock.now()
    assert (
        await store.decisions.claim(
            "rec-1", request_id="req-1", slack_user_id="U1", verdict=Verdict.APPROVE, now=start, lease=LEASE
        )
    ).won
    clock.advance(LEASE - timedelta(microseconds=1))
    early = await store.decisions.claim(
        "rec-1", request_id="req-1", slack_user_id="U2", verdict=Verdict.DENY, now=clock.now(), lease=LEASE
    )
    assert not early.won and early.holder == "U1" and early.since == start
    clock.advance(timedelta(microseconds=1))
    taken = await store.decisions.claim(
        "rec-1", request_id="req-1", slack_user_id="U2", verdict=Verdict.DENY, now=clock.now(), lease=LEASE
    )
    assert taken.won and taken.holder == "U2" and taken.since == clock.now()
    # The original owner, back from the dead, can no longer release the new owner's claim.
    assert not await store.decisions.release("rec-1", "U1")
