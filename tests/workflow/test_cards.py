"""Cards kept true to the Marketplace: webhooks, reconciliation, races between replicas, thread replies."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from marketplace_slack.domain import ApprovalStep, RecordStatus, RequestStatus
from marketplace_slack.marketplace.webhooks import Notification
from marketplace_slack.workflow.cards import INTAKE

from .conftest import CHANNEL, LEASE, OMAR, SARA, STEWARDS, World, request


def note(
    request_id: str | None = "req-1",
    *,
    delivery: str | None = "d-1",
    event: str = "marketplace.data_product.access_requests.created",
) -> Notification:
    return Notification(
        delivery_id=delivery,
        event_type=event,
        access_request_id=request_id,
        data_product_id=None,
        timestamp=None,
    )


async def test_a_webhook_posts_the_card_once_however_often_it_is_delivered(world: World) -> None:
    world.gateway.requests["req-1"] = request()
    for _ in range(2):
        await world.workflow.cards.on_notification(note())
    assert world.slack.methods() == ["post_request"]
    [posted] = world.slack.of("post_request")
    assert posted["channel"] == CHANNEL
    assert posted["state"].request.requester.slack_user_id == "U0NORA"  # found in Slack by email
    card = await world.store.cards.get("req-1")
    assert card is not None and card.ts is not None
    assert [r.id for r in world.seen] == ["req-1"]


@pytest.mark.parametrize(
    "notification",
    [note(event="dataProduct.updated"), note(None)],
    ids=["not about a request", "names no request"],
)
async def test_a_webhook_about_no_request_is_ignored(world: World, notification: Notification) -> None:
    world.gateway.requests["req-1"] = request()
    await world.workflow.cards.on_notification(notification)
    assert world.slack.calls == []


async def test_a_request_that_is_gone_or_settled_before_it_was_seen_gets_no_card(world: World) -> None:
    world.gateway.requests["req-2"] = request("req-2", status=RequestStatus.APPROVED)
    await world.workflow.cards.sync_request("req-1")  # not in the Marketplace
    await world.workflow.cards.sync_request("req-2")
    assert world.slack.calls == []
    assert await world.store.cards.get("req-2") is None


async def test_a_card_another_worker_is_posting_is_left_to_it(world: World) -> None:
    world.gateway.requests["req-1"] = request()
    assert await world.store.cards.claim(
        "req-1", CHANNEL, owner="replica-2", now=world.clock.now(), lease=LEASE
    )
    await world.workflow.cards.sync_request("req-1")
    assert world.slack.calls == []


async def test_a_failed_post_gives_the_claim_back_so_the_next_try_posts(world: World) -> None:
    world.gateway.requests["req-1"] = request()
    world.slack.fail["post_request"] = RuntimeError("slack is down")
    with pytest.raises(RuntimeError):
        await world.workflow.cards.sync_request("req-1")
    await world.workflow.cards.sync_request("req-1")
    assert world.slack.methods() == ["post_request", "post_request"]


async def test_steps_decided_before_the_card_existed_get_no_thread_reply(world: World) -> None:
    steps = (
        ApprovalStep("st-1", RecordStatus.APPROVED, (STEWARDS,), decided_by=OMAR),
        ApprovalStep("st-2", RecordStatus.PENDING, (STEWARDS,)),
    )
    await world.posted(request(steps=steps))
    world.gateway.settle("st-2", RecordStatus.APPROVED, SARA)
    await world.workflow.cards.sync_request("req-1")
    assert world.slack.methods() == ["update_request", "announce_step", "notify_requester"]
    assert [a["step"].id for a in world.slack.of("announce_step")] == ["st-2"]


async def test_an_unchanged_card_is_not_updated_and_nothing_is_announced_twice(world: World) -> None:
    await world.posted(request())
    await world.workflow.cards.sync_request("req-1")
    world.gateway.settle("st-1", RecordStatus.DENIED, SARA)
    for _ in range(2):
        await world.workflow.cards.sync_request("req-1")
    assert world.slack.methods() == ["update_request", "announce_step", "notify_requester"]


async def test_a_failed_dm_is_sent_on_the_next_sync(world: World) -> None:
    await world.posted(request())
    world.gateway.settle("st-1", RecordStatus.APPROVED, SARA)
    world.slack.fail["notify_requester"] = RuntimeError("slack is down")
    with pytest.raises(RuntimeError):
        await world.workflow.cards.sync_request("req-1")
    await world.workflow.cards.sync_request("req-1")
    assert world.slack.methods().count("notify_requester") == 2
    assert world.slack.methods().count("announce_step") == 1


async def test_a_failed_thread_reply_does_not_hold_up_the_dm_and_is_sent_on_the_next_sync(
    world: World,
) -> None:
    await world.posted(request())
    world.gateway.settle("st-1", RecordStatus.APPROVED, SARA)
    world.slack.fail["announce_step"] = RuntimeError("slack is down")
    await world.workflow.cards.sync_request("req-1")
    assert world.slack.methods() == ["update_request", "announce_step", "notify_requester"]
    await world.workflow.cards.sync_request("req-1")
    assert world.slack.methods().count("announce_step") == 2
    assert world.slack.methods().count("notify_requester") == 1


async def test_a_burst_of_webhooks_is_read_a_few_at_a_time_and_every_one_carded(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [f"req-{n}" for n in range(3 * INTAKE)]
    for request_id in ids:
        world.gateway.requests[request_id] = request(request_id)
    inner, reading, most = world.gateway.load, 0, 0
    full = asyncio.Event()  # the first reads are held until as many as may run at once have begun

    async def load(*args: Any, **kwargs: Any) -> Any:
        nonlocal reading, most
        reading += 1
        most = max(most, reading)
        if reading >= INTAKE:
            full.set()
        try:
            await asyncio.wait_for(full.wait(), timeout=10)
            return await inner(*args, **kwargs)
        finally:
            reading -= 1

    monkeypatch.setattr(world.gateway, "load", load)
    await asyncio.gather(*(world.workflow.cards.on_notification(note(i, delivery=f"d-{i}")) for i in ids))

    assert most == INTAKE  # the store's pool and the Marketplace never see the whole burst at once
    assert sorted(p["state"].request.id for p in world.slack.of("post_request")) == sorted(ids)
    for request_id in ids:
        card = await world.store.cards.get(request_id)
        assert card is not None and card.ts is not None
