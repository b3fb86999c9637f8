"""One card per request, whoever races to post it, and a dead poster's claim does not block forever."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.store.repository import Repository

LEASE = timedelta(minutes=2)


async def test_many_replicas_claiming_at_once_have_exactly_one_winner(
    open_repository: Callable[..., Awaitable[Repository]], clock: FakeClock
) -> None:
    replicas = [await open_repository() for _ in range(8)]
    for round_ in range(5):
        request_id = f"req-{round_}"
        results = await asyncio.gather(
            *(
                repo.cards.claim(request_id, "C1", owner=f"replica-{i}", now=clock.now(), lease=LEASE)
                for i, repo in enumerate(replicas)
            )
        )
        won = [bool(r) for r in results]
        assert sum(won) == 1, results
        card = await replicas[0].cards.get(request_id)
        assert card is not None and not card.posted
        assert card.claim_owner == f"replica-{won.index(True)}"


async def test_a_posted_card_is_never_claimed_again(store: Repository, clock: FakeClock) -> None:
    assert await store.cards.claim("req-1", "C1", owner="a", now=clock.now(), lease=LEASE)
    assert await store.cards.posted(
        "req-1", "C1", "111.1", fingerprint="f1", status="PENDING", now=clock.now()
    )
    clock.advance(LEASE * 10)
    assert not await store.cards.claim("req-1", "C1", owner="b", now=clock.now(), lease=LEASE)
    card = await store.cards.get("req-1")
    assert card is not None and card.ts == "111.1" and card.fingerprint == "f1"


async def test_a_stale_claim_is_taken_over_after_the_lease_and_not_before(
    store: Repository, clock: FakeClock
) -> None:
    assert await store.cards.claim("req-1", "C1", owner="dead", now=clock.now(), lease=LEASE)
    clock.advance(LEASE - timedelta(seconds=1))
    assert not await store.cards.claim("req-1", "C1", owner="b", now=clock.now(), lease=LEASE)
    clock.advance(timedelta(seconds=1))
    assert await store.cards.claim("req-1", "C2", owner="b", now=clock.now(), lease=LEASE)
    card = await store.cards.get("req-1")
    assert card is not None
    assert (card.claim_owner, card.channel, card.claimed_at) == ("b", "C2", clock.now())
    # The takeover renewed the lease: a third party must wait again.
    assert not await store.cards.claim("req-1", "C1", owner="c", now=clock.now(), lease=LEASE)
    # The dead owner's late release must not drop the new owner's claim.
    assert not await store.cards.release("req-1", "dead")
    assert (await store.cards.get("req-1")) is not None


async def test_releasing_a_claim_lets_the_next_attempt_post_at_once(
    store: Repository, clock: FakeClock
) -> None:
    assert await store.cards.claim("req-1", "C1", owner="a", now=clock.now(), lease=LEASE)
    assert await store.cards.release("req-1", "a")
    assert await store.cards.get("req-1") is None
    assert await store.cards.claim("req-1", "C1", owner="b", now=clock.now(), lease=LEASE)


async def test_card_posted_is_idempotent_and_refuses_a_second_message(
    store: Repository, clock: FakeClock
) -> None:
    assert await store.cards.claim("req-1", "C1", owner="a", now=clock.now(), lease=LEASE, team_id="T1")
    assert await store.cards.posted(
        "req-1", "C1", "111.1", fingerprint="f1", status="PENDING", now=clock.now()
    )
    # A retried write of the same message is fine...
    assert await store.cards.posted(
        "req-1", "C1", "111.1", fingerprint="f1", status="PENDING", now=clock.now()
    )
    # ...but a late claimer's duplicate message is refused, so it can delete it.
    assert not await store.cards.posted(
        "req-1", "C1", "222.2", fingerprint="f1", status="PENDING", now=clock.now()
    )
    card = await store.cards.get("req-1")
    assert card is not None
    assert (card.ts, card.team_id, card.posted) == ("111.1", "T1", True)
    assert await store.cards.find_by_message("C1", "222.2") is None


async def test_render_updates_and_lookups(store: Repository, clock: FakeClock) -> None:
    posted_at = clock.now()
    for n, status in enumerate(["PENDING", "PENDING", "APPROVED"]):
        request_id = f"req-{n}"
        assert await store.cards.claim(request_id, "C1", owner="a", now=clock.now(), lease=LEASE)
        assert await store.cards.posted(
            request_id, "C1", f"{n}.1", fingerprint="f", status="PENDING", now=posted_at
        )
        clock.advance(timedelta(seconds=1))
        if status != "PENDING":
            assert await store.cards.update_render(
                request_id, fingerprint="f2", status=status, now=clock.now()
            )
    assert await store.cards.claim("req-unposted", "C1", owner="a", now=clock.now(), lease=LEASE)
    assert not await store.cards.update_render(
        "req-unposted", fingerprint="x", status="PENDING", now=clock.now()
    )

    assert [c.request_id for c in await store.cards.list()] == ["req-0", "req-1", "req-2"]
    assert [c.request_id for c in await store.cards.list(statuses=["PENDING"])] == ["req-0", "req-1"]
    assert [c.request_id for c in await store.cards.list(statuses=["APPROVED", "DENIED"])] == ["req-2"]
    assert await store.cards.list(statuses=[]) == []
    # Only the ids, for the reconciliation passes that need every card's and nothing else
    assert await store.cards.request_ids(statuses=["PENDING", "APPROVED"]) == ["req-0", "req-1", "req-2"]
    assert await store.cards.request_ids(statuses=["PENDING"]) == ["req-0", "req-1"]
    assert await store.cards.request_ids(statuses=[]) == []

    found = await store.cards.find_by_message("C1", "2.1")
    assert found is not None
    assert (found.request_id, found.fingerprint, found.status) == ("req-2", "f2", "APPROVED")
    assert found.posted_at == posted_at and found.updated_at > posted_at
    assert await store.cards.find_by_message("C2", "2.1") is None


async def test_bad_arguments_are_refused(store: Repository, clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="lease"):
        await store.cards.claim("req-1", "C1", owner="a", now=clock.now(), lease=timedelta(0))
    with pytest.raises(ValueError, match="timezone-aware"):
        await store.cards.claim("req-1", "C1", owner="a", now=clock.now().replace(tzinfo=None), lease=LEASE)
    assert await store.cards.get("req-1") is None


async def test_a_claim_says_when_it_was_taken_over_from_an_owner_that_died(
    store: Repository, clock: FakeClock
) -> None:
    first = await store.cards.claim("req-1", "C1", owner="b/1", now=clock.now(), lease=LEASE)
    assert first and not first.taken_over
    assert not await store.cards.claim("req-1", "C1", owner="c/1", now=clock.now(), lease=LEASE)
    clock.advance(LEASE)
    taken = await store.cards.claim("req-1", "C1", owner="c/1", now=clock.now(), lease=LEASE)
    assert taken and taken.taken_over  # b's card may be in the channel: look first
    assert await store.cards.release("req-1", "c/1")
    fresh = await store.cards.claim("req-1", "C1", owner="c/1", now=clock.now(), lease=LEASE)
    assert fresh and not fresh.taken_over  # released: nobody was posting


async def test_a_claim_of_an_earlier_life_of_this_instance_is_taken_over_at_once(
    store: Repository, clock: FakeClock
) -> None:
    assert await store.cards.claim("req-1", "C1", owner="a/old", now=clock.now(), lease=LEASE)
    assert not await store.cards.claim("req-1", "C1", owner="b/new", now=clock.now(), lease=LEASE)
    taken = await store.cards.claim("req-1", "C1", owner="a/new", now=clock.now(), lease=LEASE)
    assert taken and taken.taken_over
    assert not await store.cards.claim("req-1", "C1", owner="a/new", now=clock.now(), lease=LEASE)
    card = await store.cards.get("req-1")
    assert card is not None and card.claim_owner == "a/new"
