"""Renewal reminders at the ports: due at the grant's end, the grant read again first, told once."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from marketplace_slack.domain import RequestStatus
from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.marketplace.errors import ServerError
from marketplace_slack.store.repository import Repository
from marketplace_slack.workflow.ports import dm_key
from marketplace_slack.workflow.renewals import RETRY_AFTER, RenewalReminders

from .conftest import request
from .fakes import FakeGateway, FakeSlack

TEAM, RICK = "T0TEAM", "U0RICK"


async def _world(store: Repository, clock: FakeClock) -> tuple[RenewalReminders, FakeGateway, FakeSlack]:
    gateway, slack = FakeGateway(clock.now), FakeSlack()
    ends = clock.now() + timedelta(days=3)
    granted = request("grant-1", steps=(), status=RequestStatus.APPROVED)
    gateway.requests["grant-1"] = replace(granted, expiration=ends)
    await store.renewals.schedule(TEAM, RICK, "grant-1", due_at=ends, now=clock.now())
    renewals = RenewalReminders(store=store, gateway=gateway, notices=slack, clock=clock, owner="replica-1/a")
    return renewals, gateway, slack


def _told(slack: FakeSlack) -> list[dict[str, object]]:
    return [c.args for c in slack.calls if c.method == "notify_requester"]


async def test_nothing_before_the_end_then_the_ended_dm_once(store: Repository, clock: FakeClock) -> None:
    renewals, gateway, slack = await _world(store, clock)
    assert (await renewals.run_due()).sent == 0 and gateway.loaded == []  # not due: not even read

    clock.advance(timedelta(days=3, minutes=1))
    gateway.requests["grant-1"] = replace(gateway.requests["grant-1"], status=RequestStatus.EXPIRED)
    assert (await renewals.run_due()).sent == 1
    assert _told(slack) == [{"user_id": RICK, "status": RequestStatus.EXPIRED, "look_first": False}]
    assert (await renewals.run_due()).sent == 0 and len(_told(slack)) == 1


async def test_a_grant_already_told_by_the_card_keeper_is_not_told_again(
    store: Repository, clock: FakeClock
) -> None:
    renewals, gateway, slack = await _world(store, clock)
    clock.advance(timedelta(days=4))
    ended = replace(gateway.requests["grant-1"], status=RequestStatus.EXPIRED)
    gateway.requests["grant-1"] = ended
    async with store.once(dm_key(ended), now=clock.now()) as mark:  # the card keeper's DM went first
        assert mark
    assert (await renewals.run_due()).sent == 1 and _told(slack) == []
    [row] = await store.renewals.list()
    assert row.outcome == "told"


async def test_an_extended_grant_moves_the_reminder_to_its_new_end(
    store: Repository, clock: FakeClock
) -> None:
    renewals, gateway, slack = await _world(store, clock)
    clock.advance(timedelta(days=3, minutes=1))
    new_end = clock.now() + timedelta(days=30)
    gateway.requests["grant-1"] = replace(gateway.requests["grant-1"], expiration=new_end)
    assert (await renewals.run_due()).moved == 1 and _told(slack) == []
    [row] = await store.renewals.list()
    assert row.due_at == new_end and row.done_at is None


async def test_an_end_the_marketplace_has_not_recorded_is_looked_at_again_later(
    store: Repository, clock: FakeClock
) -> None:
    renewals, _gateway, slack = await _world(store, clock)
    clock.advance(timedelta(days=3, minutes=1))  # past the end, still APPROVED there
    assert (await renewals.run_due()).moved == 1
    [row] = await store.renewals.list()
    assert row.due_at == clock.now() + RETRY_AFTER and _told(slack) == []

    clock.advance(timedelta(days=2))  # it never ends there: not the reminder's business any more
    assert (await renewals.run_due()).dropped == 1
    [row] = await store.renewals.list()
    assert row.outcome == "still_active"


async def test_a_failed_read_defers_and_a_vanished_grant_drops(store: Repository, clock: FakeClock) -> None:
    renewals, gateway, slack = await _world(store, clock)
    clock.advance(timedelta(days=3, minutes=1))
    gateway.fail[("load", "grant-1")] = ServerError(503, "busy")
    assert (await renewals.run_due()).moved == 1 and _told(slack) == []

    clock.advance(RETRY_AFTER)
    del gateway.requests["grant-1"]
    assert (await renewals.run_due()).dropped == 1
    [row] = await store.renewals.list()
    assert row.outcome == "gone"


async def test_asking_again_plans_one_reminder(store: Repository, clock: FakeClock) -> None:
    await _world(store, clock)
    ends = clock.now() + timedelta(days=3)
    await store.renewals.schedule(TEAM, RICK, "grant-1", due_at=ends, now=clock.now())
    assert len(await store.renewals.list()) == 1
