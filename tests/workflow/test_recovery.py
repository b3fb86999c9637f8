"""Decision claims nobody works on (a process died between its claim and the end of its decision) are
settled by each reconciliation pass from the approval record, and the card is made true."""

from __future__ import annotations

from marketplace_slack.domain import InProgress, RecordStatus, Verdict
from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.infra.owners import new_owner
from marketplace_slack.store.repository import Repository

from .conftest import LEASE, OMAR, SARA, SLACK_IDS, World, request


async def _left_behind(world: World, *, owner: str) -> None:
    """Sara's submission claimed the record and showed the card in progress; then its process died."""
    claim = await world.store.decisions.claim(
        "st-1",
        request_id="req-1",
        slack_user_id=SLACK_IDS[SARA],
        verdict="APPROVE",
        now=world.clock.now(),
        lease=LEASE,
        owner=owner,
    )
    assert claim.won
    shown = world.gateway.requests["req-1"]
    await world.workflow.cards.show(shown, in_progress=InProgress(Verdict.APPROVE, SLACK_IDS[SARA]))


async def test_a_claim_whose_put_never_landed_is_given_up_and_the_card_gets_its_buttons_back(
    world: World,
) -> None:
    await world.link(SARA)
    await world.posted(request())
    await _left_behind(world, owner="replica-2/dead")
    assert await world.workflow.abandoned.resolve() == 0, "within the lease, someone may be at work"

    world.clock.advance(LEASE)
    assert await world.workflow.abandoned.resolve() == 1
    assert await world.store.decisions.of_request("req-1") == []  # free for whoever decides next
    card = world.slack.cards()[-1]
    assert card.in_progress is None and card.request.status.value == "PENDING"
    assert await world.store.audit.list("req-1") == []  # nothing happened, nothing to audit


async def test_a_claim_whose_put_landed_is_recorded_ok_and_the_card_says_approved(
    store: Repository, clock: FakeClock
) -> None:
    world = World(store, clock, owner=new_owner("web-0"))  # the dead process's next life
    await world.link(SARA)
    await world.posted(request())
    await _left_behind(world, owner=new_owner("web-0"))
    world.gateway.settle("st-1", RecordStatus.APPROVED, SARA)

    assert await world.workflow.abandoned.resolve() == 1  # an earlier life's: at once, no lease
    [claim] = await world.store.decisions.of_request("req-1")
    assert (claim.finished, claim.outcome) == (True, "ok")
    assert [a.outcome for a in await world.store.audit.list("req-1")] == ["ok"]
    assert world.slack.cards()[-1].request.status.value == "APPROVED"
    assert await world.workflow.abandoned.resolve() == 0  # settled once


async def test_a_claim_whose_record_someone_else_decided_is_recorded_as_a_conflict(world: World) -> None:
    await world.link(SARA)
    await world.posted(request())
    await _left_behind(world, owner="replica-2/dead")
    world.gateway.settle("st-1", RecordStatus.APPROVED, OMAR)
    world.clock.advance(LEASE)

    assert await world.workflow.abandoned.resolve() == 1
    [claim] = await world.store.decisions.of_request("req-1")
    assert claim.outcome == "conflict"
    assert [a.outcome for a in await world.store.audit.list("req-1")] == ["conflict"]


async def test_a_steward_who_unlinked_since_is_not_credited_or_blamed(world: World) -> None:
    await world.link(SARA)
    await world.posted(request())
    await _left_behind(world, owner="replica-2/dead")
    world.gateway.settle("st-1", RecordStatus.APPROVED, SARA)
    assert await world.store.links.delete("T0TEAM", SLACK_IDS[SARA])
    world.clock.advance(LEASE)

    assert await world.workflow.abandoned.resolve() == 1
    assert [a.outcome for a in await world.store.audit.list("req-1")] == ["decided_unattributed"]


async def test_a_reconciliation_pass_settles_them_first(world: World) -> None:
    await world.link(SARA)
    await world.posted(request())
    await _left_behind(world, owner="replica-2/dead")
    world.gateway.settle("st-1", RecordStatus.APPROVED, SARA)
    world.clock.advance(LEASE)

    await world.workflow.reconcile()
    assert [a.outcome for a in await world.store.audit.list("req-1")] == ["ok"]
    assert world.slack.cards()[-1].request.status.value == "APPROVED"
