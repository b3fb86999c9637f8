"""Decision claims: one determination per approval record, however many clicks and stewards."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

from marketplace_slack.domain import Verdict
from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.store.records import ClaimStatus, DecisionClaim
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


async def _claim(
    repo: Repository, clock: FakeClock, user: str, *, owner: str | None, record: str = "rec-1"
) -> DecisionClaim:
    return await repo.decisions.claim(
        record,
        request_id="req-1",
        slack_user_id=user,
        verdict=Verdict.APPROVE,
        now=clock.now(),
        lease=LEASE,
        owner=owner,
    )


async def test_a_claim_names_its_owner_and_a_held_claim_tells_whose_process_holds_it(
    store: Repository, clock: FakeClock
) -> None:
    won = await _claim(store, clock, "U1", owner="host-a/life-1")
    assert won.won and won.owner == "host-a/life-1"
    held = await _claim(store, clock, "U2", owner="host-b/life-1")
    assert not held.won and (held.holder, held.owner) == ("U1", "host-a/life-1")
    assert [(c.record_id, c.holder, c.owner) for c in await store.decisions.of_request("req-1")] == [
        ("rec-1", "U1", "host-a/life-1")
    ]
    assert await store.decisions.of_request("req-other") == []


async def test_a_claim_seen_unfinished_is_taken_over_at_once_by_exactly_one_of_its_takers(
    open_repository: Callable[..., Awaitable[Repository]], clock: FakeClock
) -> None:
    replicas = [await open_repository() for _ in range(3)]
    await _claim(replicas[0], clock, "U1", owner="host-a/life-1")
    held = await _claim(replicas[0], clock, "U1", owner="host-a/life-2")
    clock.advance(timedelta(seconds=1))  # well inside the lease
    taken = await asyncio.gather(
        *(
            repo.decisions.take_over(
                held, slack_user_id="U1", verdict=Verdict.DENY, now=clock.now(), owner=f"host-{n}/life-2"
            )
            for n, repo in enumerate(replicas)
            for _ in range(2)
        )
    )
    winners = [t for t in taken if t is not None]
    assert len(winners) == 1
    [winner] = winners
    assert winner.won and winner.since == clock.now() and winner.verdict is Verdict.DENY
    [now_held] = await replicas[0].decisions.of_request("req-1")
    assert (now_held.owner, now_held.since, now_held.finished) == (winner.owner, clock.now(), False)


async def test_only_the_claim_as_it_was_seen_is_taken_over_and_never_a_finished_one(
    store: Repository, clock: FakeClock
) -> None:
    seen = await _claim(store, clock, "U1", owner=None)  # taken before claims named owners
    assert seen.owner is None
    taken = await store.decisions.take_over(seen, slack_user_id="U2", verdict="APPROVE", now=clock.now())
    assert taken is not None and taken.holder == "U2" and taken.owner is None
    # The claim changed since `seen`: a taker who saw the old one must look again.
    assert (
        await store.decisions.take_over(seen, slack_user_id="U3", verdict="APPROVE", now=clock.now()) is None
    )
    assert await store.decisions.finish("rec-1", outcome="ok")
    [finished] = await store.decisions.of_request("req-1")
    assert (
        await store.decisions.take_over(finished, slack_user_id="U3", verdict="DENY", now=clock.now()) is None
    )
    [still] = await store.decisions.of_request("req-1")
    assert (still.holder, still.outcome) == ("U2", "ok")
