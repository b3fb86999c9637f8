"""Posts whose outcome nobody knows: claims and marks stay held (late, never doubled), and whoever
takes them over from an owner that died looks first."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from marketplace_slack.domain import RecordStatus, RequestStatus
from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.store.repository import Repository
from marketplace_slack.workflow.ports import DeliveryUnknown, MessageRef

from .conftest import CHANNEL, LEASE, SARA, World, request


def unknown(key: str = "req-1") -> DeliveryUnknown:
    return DeliveryUnknown(key, "history unreadable: missing_scope")


async def test_a_card_whose_delivery_is_unknown_keeps_its_claim_and_is_posted_with_a_look_after_the_lease(
    world: World,
) -> None:
    world.gateway.requests["req-1"] = request()
    world.slack.fail["post_request"] = unknown()

    await world.workflow.cards.sync_request("req-1")  # no exception: it is late, not lost

    card = await world.store.cards.get("req-1")
    assert card is not None and card.ts is None and card.claim_owner == "replica-1/a"  # not released
    await world.workflow.cards.sync_request("req-1")  # within the lease: nobody posts again
    assert world.slack.methods() == ["post_request"]

    world.clock.advance(LEASE)
    await world.workflow.cards.sync_request("req-1")
    assert [p["look_first"] for p in world.slack.of("post_request")] == [False, True]
    card = await world.store.cards.get("req-1")
    assert card is not None and card.ts is not None


async def test_a_failed_post_still_gives_its_claim_back_at_once(world: World) -> None:
    world.gateway.requests["req-1"] = request()
    world.slack.fail["post_request"] = RuntimeError("invalid_blocks")
    with pytest.raises(RuntimeError):
        await world.workflow.cards.sync_request("req-1")
    assert await world.store.cards.get("req-1") is None
    await world.workflow.cards.sync_request("req-1")
    assert [p["look_first"] for p in world.slack.of("post_request")] == [False, False]


async def test_a_claim_left_by_an_earlier_life_is_posted_at_once_with_a_look(
    store: Repository, clock: FakeClock
) -> None:
    assert await store.cards.claim("req-1", CHANNEL, owner="pod-a/before", now=clock.now(), lease=LEASE)
    world = World(store, clock, owner="pod-a/after")
    world.gateway.requests["req-1"] = request()
    await world.workflow.cards.sync_request("req-1")
    assert [p["look_first"] for p in world.slack.of("post_request")] == [True]


async def test_a_claim_of_another_live_replica_is_left_alone(store: Repository, clock: FakeClock) -> None:
    assert await store.cards.claim("req-1", CHANNEL, owner="pod-b/now", now=clock.now(), lease=LEASE)
    world = World(store, clock, owner="pod-a/after")
    world.gateway.requests["req-1"] = request()
    await world.workflow.cards.sync_request("req-1")
    assert world.slack.of("post_request") == []


async def test_a_thread_reply_whose_delivery_is_unknown_is_sent_once_more_only_after_the_lease_with_a_look(
    world: World,
) -> None:
    await world.posted(request())
    world.gateway.settle("st-1", RecordStatus.APPROVED, SARA)
    world.slack.fail["announce_step"] = unknown("step:st-1:APPROVED")

    await world.workflow.cards.sync_request("req-1")
    assert [c["look_first"] for c in world.slack.of("announce_step")] == [False]
    assert [c["look_first"] for c in world.slack.of("notify_requester")] == [False]  # the DM still goes

    world.clock.advance(LEASE - timedelta(seconds=1))
    await world.workflow.cards.sync_request("req-1")
    assert len(world.slack.of("announce_step")) == 1  # held: late, not doubled

    world.clock.advance(timedelta(seconds=1))
    await world.workflow.cards.sync_request("req-1")
    assert [c["look_first"] for c in world.slack.of("announce_step")] == [False, True]
    await world.workflow.cards.sync_request("req-1")
    assert len(world.slack.of("announce_step")) == 2  # done now
    assert len(world.slack.of("notify_requester")) == 1


async def test_a_requester_dm_whose_delivery_is_unknown_is_kept_held(world: World) -> None:
    await world.posted(request())
    world.gateway.settle("st-1", RecordStatus.APPROVED, SARA)
    world.slack.fail["notify_requester"] = unknown("dm:req-1:APPROVED")

    await world.workflow.cards.sync_request("req-1")  # logged, not raised
    await world.workflow.cards.sync_request("req-1")
    assert len(world.slack.of("notify_requester")) == 1

    world.clock.advance(LEASE)
    await world.workflow.cards.sync_request("req-1")
    assert [c["look_first"] for c in world.slack.of("notify_requester")] == [False, True]
    assert world.gateway.requests["req-1"].status is RequestStatus.APPROVED


async def test_an_orphan_card_is_retired_pointing_to_the_live_card(world: World) -> None:
    world.gateway.requests["req-1"] = request()

    async def slow_replica_won() -> None:
        # Our claim lapsed mid-post; another replica took it over and recorded its card.
        world.clock.advance(LEASE)
        assert await world.store.cards.claim(
            "req-1", CHANNEL, owner="replica-2", now=world.clock.now(), lease=LEASE
        )
        await world.store.cards.posted(
            "req-1", CHANNEL, "1699999999.000001", fingerprint="x", status="PENDING", now=world.clock.now()
        )

    world.slack.during["post_request"] = slow_replica_won
    await world.workflow.cards.sync_request("req-1")

    [retired] = world.slack.of("retire")
    assert retired["ref"] != retired["live"]
    assert retired["live"] == MessageRef(CHANNEL, "1699999999.000001")
    assert "retract" not in world.slack.methods()


async def test_a_post_cancelled_by_a_shutdown_keeps_its_claim_for_the_next_life_to_look_at(
    store: Repository, clock: FakeClock
) -> None:
    world = World(store, clock, owner="pod-a/before")
    world.gateway.requests["req-1"] = request()
    world.slack.fail["post_request"] = asyncio.CancelledError()
    with pytest.raises(asyncio.CancelledError):
        await world.workflow.cards.sync_request("req-1")
    card = await store.cards.get("req-1")
    assert card is not None and card.claim_owner == "pod-a/before"

    after = World(store, clock, owner="pod-a/after")
    after.gateway.requests["req-1"] = request()
    await after.workflow.cards.sync_request("req-1")
    assert [p["look_first"] for p in after.slack.of("post_request")] == [True]
