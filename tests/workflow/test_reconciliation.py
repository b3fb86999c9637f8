"""Reconciliation at the workflow's ports: what changed is read again, what did not costs nothing.

The fake gateway lists requests newest `updatedAt` first, as the Marketplace does; `gateway.loaded`
counts the reads (each one several Marketplace calls), `gateway.listings` the walks of the listing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from marketplace_slack.domain import ApprovalStep, RecordStatus, RequestStatus
from marketplace_slack.marketplace.errors import ServerError
from marketplace_slack.store.tables import request_versions
from marketplace_slack.workflow.reconciliation import (
    CURSOR,
    HOLD_LIMIT,
    OVERLAP,
    SWEEP_EVERY,
    ReconcileReport,
)

from .conftest import PRIVACY, SARA, STEWARDS, World, request

MINUTE = timedelta(minutes=1)
TWO_STAGES = (
    ApprovalStep("st-1", RecordStatus.PENDING, (STEWARDS,)),
    ApprovalStep("st-2", RecordStatus.BLOCKED, (PRIVACY,), prerequisites=("st-1",)),
)


async def _pass(world: World) -> tuple[ReconcileReport, list[str]]:
    """One reconcile pass, and the requests it read."""
    before = len(world.gateway.loaded)
    report = await world.workflow.reconcile()
    return report, world.gateway.loaded[before:]


async def test_the_first_pass_posts_missing_cards_and_refreshes_those_that_changed(world: World) -> None:
    await world.posted(request("req-1"))
    world.gateway.requests["req-2"] = request("req-2")  # its webhook was lost
    world.gateway.settle("st-1", RecordStatus.APPROVED, SARA)  # req-1 was approved, its webhook lost too
    world.gateway.requests["req-3"] = request("req-3", status=RequestStatus.DENIED)  # settled unseen
    report, read = await _pass(world)
    assert (report.full, report.checked, report.failed) == (True, 2, 0)
    assert sorted(read) == ["req-1", "req-2"]  # not req-3: it never needed a card
    assert sorted(world.slack.methods()) == sorted(
        ["post_request", "update_request", "announce_step", "notify_requester"]
    )
    cursor = await world.store.cursors.get(CURSOR)
    assert cursor is not None and cursor.since == world.clock.now() - OVERLAP  # req-1 changed last


async def test_a_quiet_pass_lists_once_and_reads_nothing(world: World) -> None:
    await world.posted(request("req-1"), request("req-2", steps=TWO_STAGES))
    await _pass(world)
    world.slack.calls.clear()
    listings = world.gateway.listings
    report, read = await _pass(world)
    assert (report.full, report.checked, read, world.gateway.listings - listings) == (False, 0, [], 1)
    assert world.slack.calls == []


async def test_revoked_expired_and_canceled_cards_are_corrected_on_the_next_pass(world: World) -> None:
    steps = (ApprovalStep("st-1", RecordStatus.APPROVED, (STEWARDS,), decided_by=SARA),)
    approved = [request(f"req-{n}", steps=steps, status=RequestStatus.APPROVED) for n in (1, 2)]
    await world.posted(request("req-0"))
    for r in approved:  # cards from before: shown approved by a webhook
        world.gateway.requests[r.id] = replace(r, status=RequestStatus.PENDING, steps=TWO_STAGES[:1])
        await world.workflow.cards.sync_request(r.id)
        world.gateway.requests[r.id] = r
        await world.workflow.cards.sync_request(r.id)
    await _pass(world)
    world.slack.calls.clear()

    world.clock.advance(10 * MINUTE)  # meanwhile, with every webhook lost:
    world.gateway.change("req-1", status=RequestStatus.REVOKED, raw_status="REVOKED")
    world.gateway.change("req-2", status=RequestStatus.EXPIRED, raw_status="EXPIRED")
    world.gateway.change("req-0", status=RequestStatus.CANCELED, raw_status="CANCELED")
    report, read = await _pass(world)
    assert (report.checked, report.failed, sorted(read)) == (3, 0, ["req-0", "req-1", "req-2"])
    shown = {u["state"].request.id: u["state"].request.status for u in world.slack.of("update_request")}
    assert shown == {
        "req-0": RequestStatus.CANCELED,
        "req-1": RequestStatus.REVOKED,
        "req-2": RequestStatus.EXPIRED,
    }
    for request_id, status in [("req-0", "CANCELED"), ("req-1", "REVOKED"), ("req-2", "EXPIRED")]:
        card = await world.store.cards.get(request_id)
        assert card is not None and card.status == status
    assert (await _pass(world))[1] == []  # and then they are quiet again


async def test_a_change_the_webhook_brought_costs_the_next_pass_nothing(world: World) -> None:
    await world.posted(request("req-1"))
    await _pass(world)
    world.clock.advance(10 * MINUTE)
    world.gateway.settle("st-1", RecordStatus.APPROVED, SARA)
    await world.workflow.cards.sync_request("req-1")  # the webhook arrived
    assert (await _pass(world))[1] == []


async def test_the_overlap_catches_a_change_committed_out_of_order(world: World) -> None:
    await world.posted(request("req-1"), request("req-2"))
    world.clock.advance(10 * MINUTE)
    world.gateway.change("req-1", status=RequestStatus.CANCELED, raw_status="CANCELED")
    late = world.clock.now() - MINUTE  # committed just now, stamped a minute ago (another node's clock)
    await _pass(world)  # the cursor is now a little before req-1's change
    world.gateway.requests["req-2"] = replace(
        world.gateway.requests["req-2"], status=RequestStatus.CANCELED, raw_status="CANCELED", updated_at=late
    )
    _, read = await _pass(world)
    assert read == ["req-2"]


async def test_a_request_that_could_not_be_read_holds_the_cursor_back_until_it_is(world: World) -> None:
    failed_at = world.clock.now()
    world.gateway.requests["req-1"] = replace(request(), updated_at=failed_at)
    world.gateway.fail["load", "req-1"] = ServerError(503, "unavailable")
    world.clock.advance(10 * MINUTE)
    await world.posted(replace(request("req-9"), updated_at=world.clock.now()))  # newer, and shown
    report, _ = await _pass(world)
    assert (report.checked, report.failed) == (1, 1)
    assert world.slack.calls == []
    assert (await world.store.cursors.get(CURSOR)).since == failed_at  # type: ignore[union-attr]
    world.clock.advance(10 * MINUTE)
    report, read = await _pass(world)
    assert (report.checked, report.failed, read) == (1, 0, ["req-1"])
    assert world.slack.methods() == ["post_request"]
    moved_to = failed_at + 10 * MINUTE - OVERLAP  # req-9's change, less the overlap
    assert (await world.store.cursors.get(CURSOR)).since == moved_to  # type: ignore[union-attr]
    assert (await _pass(world))[1] == []


async def test_a_request_that_keeps_failing_holds_the_cursor_back_a_day_at_most(world: World) -> None:
    world.gateway.requests["req-1"] = replace(request(), updated_at=world.clock.now())
    world.clock.advance(2 * HOLD_LIMIT)
    await world.posted(replace(request("req-9"), updated_at=world.clock.now()))
    world.gateway.fail["load", "req-1"] = ServerError(503, "unavailable")
    report, _ = await _pass(world)
    assert report.failed == 1
    assert (await world.store.cursors.get(CURSOR)).since == world.clock.now() - HOLD_LIMIT  # type: ignore[union-attr]


async def test_a_listing_that_fails_moves_nothing_and_the_next_pass_starts_over(world: World) -> None:
    world.gateway.requests["req-1"] = request()
    world.gateway.fail["changes", ""] = ServerError(503, "unavailable")
    report, read = await _pass(world)
    assert (report.failed, read) == (1, [])
    assert await world.store.cursors.get(CURSOR) is not None  # the sweep's clock started, no cursor
    assert (await world.store.cursors.get(CURSOR)).since is None  # type: ignore[union-attr]
    report, read = await _pass(world)
    assert (report.full, report.failed, read) == (True, 0, ["req-1"])


async def test_cards_from_before_versions_were_kept_are_adopted_without_a_read(world: World) -> None:
    steps = (ApprovalStep("st-1", RecordStatus.APPROVED, (STEWARDS,), decided_by=SARA),)
    world.gateway.requests["req-1"] = request()
    await world.workflow.cards.sync_request("req-1")
    world.gateway.requests["req-1"] = request(steps=steps, status=RequestStatus.APPROVED)
    await world.workflow.cards.sync_request("req-1")
    async with world.store.engine.begin() as conn:  # forget the version, as before 0007
        await conn.execute(request_versions.delete())
    report, read = await _pass(world)
    assert (report.checked, read) == (0, [])
    assert "req-1" in await world.store.cursors.known(["req-1"])


async def test_the_hourly_sweep_reads_pending_cards_the_pending_listing_lost(world: World) -> None:
    await world.posted(request("req-1"), request("req-2"))
    await _pass(world)
    world.clock.advance(10 * MINUTE)
    del world.gateway.requests["req-2"]  # gone from the app's sight: no listing returns it
    assert (await _pass(world))[1] == []
    world.clock.advance(SWEEP_EVERY)
    report, read = await _pass(world)
    assert (report.swept, read) == (1, ["req-2"])  # a 404, handled as always: logged, card left
    world.clock.advance(10 * MINUTE)
    assert (await _pass(world))[1] == []  # one sweep per hour


async def test_the_sweep_rereads_every_pending_card_once_a_day_a_share_at_a_time(world: World) -> None:
    cards = [request(f"req-{n}", steps=TWO_STAGES) for n in range(30)]
    await world.posted(*cards)
    await _pass(world)
    # A first stage decided with its webhook lost, and a Marketplace that does not move the request's
    # updatedAt for it: the listing says nothing changed.
    r = world.gateway.requests["req-0"]
    world.gateway.requests["req-0"] = replace(
        r, steps=(replace(TWO_STAGES[0], status=RecordStatus.APPROVED, decided_by=SARA), TWO_STAGES[1])
    )
    read: list[str] = []
    for _ in range(48):  # two days of hourly sweeps
        world.clock.advance(SWEEP_EVERY)
        _, this_pass = await _pass(world)
        assert len(this_pass) <= 2  # 30 cards, a day of 24 sweeps: at most ceil(30 / 24) each
        read += this_pass
    # Nothing in the first day (each was just shown); then each card once, longest unseen first.
    assert sorted(read) == sorted(c.id for c in cards)
    assert "announce_step" in world.slack.methods()  # req-0's first stage reached its thread
