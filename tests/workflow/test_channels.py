"""Channels that refuse cards and cards that cannot be updated, at the workflow's ports.

A refused card is recorded, counted, told once to the channel's owner and retried with backoff until
it is posted; other channels go on meanwhile. A card that cannot be updated is posted again, and the
thread replies and the requester's DM never depend on the card.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from marketplace_slack.domain import AccessRequest, RecordStatus, RequestStatus
from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.store.repository import Repository
from marketplace_slack.workflow.routing import Route, Router
from marketplace_slack.workflow.sentences import Outcome

from .conftest import CHANNEL, SARA, World, request

PRIVATE = "G0PRIVATE"
GINA = "U0GINA"


def private(request_id: str) -> AccessRequest:
    """A request for the product whose cards go to the private channel."""
    return replace(request(request_id), product_id="dp-secret", product_name="Payroll")


def routed(store: Repository, clock: FakeClock, *, default_owner: str | None = None) -> World:
    routes = [Route(product="dp-secret", channel=PRIVATE, owner=GINA)]
    return World(store, clock, Router.from_routes(CHANNEL, routes, default_owner=default_owner))


async def test_a_refused_card_is_recorded_told_once_and_posted_once_the_channel_takes_it(
    store: Repository, clock: FakeClock
) -> None:
    world = routed(store, clock)
    world.slack.refuse[PRIVATE] = "channel_not_found"  # a private channel the bot is not in
    for r in (private("req-1"), private("req-2"), request("req-3")):
        world.gateway.requests[r.id] = r
        await world.workflow.cards.sync_request(r.id)  # refused, not raised

    [failure] = await store.channels.failing()
    assert (failure.channel, failure.reason, failure.attempts, failure.waiting) == (
        PRIVATE,
        "channel_not_found",
        2,
        2,
    )
    assert world.channel_failures == [(PRIVATE, "channel_not_found")] * 2
    [told] = world.slack.of("notify_owner")  # once per episode, however many cards it refused
    assert told["user_id"] == GINA and told["sentence"].outcome is Outcome.CHANNEL_UNAVAILABLE
    assert PRIVATE in told["sentence"].text
    # The other channel is not held up.
    assert [c["channel"] for c in world.slack.of("post_request")] == [PRIVATE, PRIVATE, CHANNEL]
    assert (await store.cards.get("req-3")) is not None
    assert await store.cards.get("req-1") is None  # the claim was given back

    assert await world.workflow.cards.retry_waiting() == 0  # not due yet: nothing is tried
    assert world.slack.methods().count("post_request") == 3

    clock.advance(timedelta(minutes=2))
    assert await world.workflow.cards.retry_waiting() == 0  # still refused: one try, not one per card
    assert world.slack.methods().count("post_request") == 4
    [failure] = await store.channels.failing()
    assert failure.attempts == 3 and failure.next_attempt_at == clock.now() + timedelta(minutes=4)

    del world.slack.refuse[PRIVATE]  # someone invited the app
    clock.advance(timedelta(minutes=4))
    assert await world.workflow.cards.retry_waiting() == 2
    assert await store.channels.failing() == []
    for request_id in ("req-1", "req-2"):
        card = await store.cards.get(request_id)
        assert card is not None and card.channel == PRIVATE and card.ts is not None
    assert [r.id for r in world.seen].count("req-1") == 2  # refused, then shown: observers hear both
    assert len(world.slack.of("notify_owner")) == 1

    # A new episode is told again.
    world.slack.refuse[PRIVATE] = "is_archived"
    world.gateway.requests["req-4"] = private("req-4")
    await world.workflow.cards.sync_request("req-4")
    assert len(world.slack.of("notify_owner")) == 2


async def test_backoff_doubles_up_to_an_hour(store: Repository, clock: FakeClock) -> None:
    world = routed(store, clock)
    world.slack.refuse[PRIVATE] = "not_in_channel"
    world.gateway.requests["req-1"] = private("req-1")
    await world.workflow.cards.sync_request("req-1")
    gaps = []
    for _ in range(8):
        [failure] = await store.channels.failing()
        gaps.append(failure.next_attempt_at - clock.now())
        clock.set(failure.next_attempt_at)
        await world.workflow.cards.retry_waiting()
    assert [int(g.total_seconds() // 60) for g in gaps] == [1, 2, 4, 8, 16, 32, 60, 60]


async def test_reconcile_leaves_waiting_cards_to_the_retry(store: Repository, clock: FakeClock) -> None:
    world = routed(store, clock)
    world.slack.refuse[PRIVATE] = "channel_not_found"
    world.gateway.requests["req-1"] = private("req-1")
    await world.workflow.cards.sync_request("req-1")
    await world.workflow.reconcile()
    await world.workflow.reconcile()
    assert world.slack.methods().count("post_request") == 1  # reconcile does not hammer the channel


async def test_a_webhook_that_gets_through_ends_the_wait_and_the_retry_ends_the_episode(
    store: Repository, clock: FakeClock
) -> None:
    world = routed(store, clock)
    world.slack.refuse[PRIVATE] = "not_in_channel"
    for r in (private("req-1"), private("req-2")):
        world.gateway.requests[r.id] = r
        await world.workflow.cards.sync_request(r.id)
    del world.slack.refuse[PRIVATE]
    await world.workflow.cards.sync_request("req-1")  # e.g. its next webhook
    [failure] = await store.channels.failing()
    assert failure.waiting == 1 and failure.next_attempt_at == clock.now()  # the rest are due at once
    assert await world.workflow.cards.retry_waiting() == 1
    assert await store.channels.failing() == []


async def test_a_deleted_card_is_posted_again_and_its_thread_and_dm_follow(world: World) -> None:
    await world.posted(request())
    old = await world.store.cards.get("req-1")
    assert old is not None and old.ts is not None
    world.slack.gone.add(old.ts)  # an admin deleted it
    world.gateway.settle("st-1", RecordStatus.APPROVED, SARA)
    await world.workflow.cards.sync_request("req-1")

    assert world.slack.methods() == ["update_request", "post_request", "announce_step", "notify_requester"]
    new = await world.store.cards.get("req-1")
    assert new is not None and new.ts not in (None, old.ts) and new.status == RequestStatus.APPROVED.value
    [reply] = world.slack.of("announce_step")
    assert reply["ref"].ts == new.ts  # in the new card's thread
    await world.workflow.cards.sync_request("req-1")  # nothing changed since: nothing is sent again
    assert world.slack.methods().count("post_request") == 1


async def test_a_card_in_an_archived_channel_waits_and_the_dm_does_not(world: World) -> None:
    await world.posted(request())
    world.slack.archived.add(CHANNEL)
    world.gateway.settle("st-1", RecordStatus.APPROVED, SARA)
    await world.workflow.cards.sync_request("req-1")

    # Not updatable, not postable again: recorded; the thread reply failed, the DM went out.
    assert world.slack.methods() == ["update_request", "post_request", "announce_step", "notify_requester"]
    [failure] = await world.store.channels.failing()
    assert (failure.channel, failure.reason, failure.waiting) == (CHANNEL, "is_archived", 1)
    assert world.slack.of("notify_owner") == []  # no owner configured: the log, metric and healthz say it

    world.slack.archived.discard(CHANNEL)  # unarchived
    world.slack.calls.clear()
    world.clock.advance(timedelta(minutes=1))
    assert await world.workflow.cards.retry_waiting() == 1
    assert world.slack.methods() == ["update_request", "announce_step"]  # the same card, its reply now
    assert await world.store.channels.failing() == []


async def test_a_card_whose_channel_the_bot_left_is_updated_once_it_is_back(world: World) -> None:
    await world.posted(request())
    world.slack.refuse[CHANNEL] = "channel_not_found"
    world.gateway.settle("st-1", RecordStatus.APPROVED, SARA)
    await world.workflow.cards.sync_request("req-1")
    assert world.slack.methods() == ["update_request", "announce_step", "notify_requester"]
    assert [f.channel for f in await world.store.channels.failing()] == [CHANNEL]

    del world.slack.refuse[CHANNEL]
    world.clock.advance(timedelta(minutes=1))
    assert await world.workflow.cards.retry_waiting() == 1
    card = await world.store.cards.get("req-1")
    assert card is not None and card.status == RequestStatus.APPROVED.value
    assert world.slack.methods().count("post_request") == 0  # the card was updated, not duplicated


async def test_an_owner_who_cannot_be_told_is_told_on_the_next_failure(
    store: Repository, clock: FakeClock
) -> None:
    world = routed(store, clock)
    world.slack.refuse[PRIVATE] = "channel_not_found"
    world.slack.fail["notify_owner"] = RuntimeError("cannot open a DM")
    for request_id in ("req-1", "req-2"):
        world.gateway.requests[request_id] = private(request_id)
        await world.workflow.cards.sync_request(request_id)
    assert len(world.slack.of("notify_owner")) == 2
    [failure] = await store.channels.failing()
    assert failure.owner_told_at is not None


def test_the_route_owner_wins_over_the_default_owner() -> None:
    router = Router.from_routes(
        CHANNEL, [Route(product="dp-secret", channel=PRIVATE, owner=GINA)], default_owner="U0ADMIN"
    )
    assert router.owner_for(PRIVATE) == GINA
    assert router.owner_for(CHANNEL) == "U0ADMIN"
    assert Router(CHANNEL).owner_for(CHANNEL) is None


async def test_a_request_settled_while_its_card_waited_still_gets_its_card_and_dm(
    store: Repository, clock: FakeClock
) -> None:
    world = routed(store, clock)
    world.slack.refuse[PRIVATE] = "channel_not_found"
    world.gateway.requests["req-1"] = private("req-1")
    await world.workflow.cards.sync_request("req-1")
    world.gateway.settle("st-1", RecordStatus.APPROVED, SARA)  # decided in the Marketplace meanwhile
    del world.slack.refuse[PRIVATE]
    clock.advance(timedelta(minutes=1))
    assert await world.workflow.cards.retry_waiting() == 1
    [posted] = world.slack.of("post_request")[-1:]
    assert posted["state"].request.status is RequestStatus.APPROVED
    assert [c["user_id"] for c in world.slack.of("notify_requester")] == ["U0NORA"]
    assert world.slack.of("announce_step") == []  # the card shows the decision already
    assert await store.channels.failing() == []
