"""Separation of duties: nobody decides, from Slack, a request they are party to (the person it is for,
or who filed it), refused at the click and again at the submit, unless the company allows it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from marketplace_slack.domain import Actor, Decision, Verdict, eligibility
from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.store.repository import Repository
from marketplace_slack.workflow.routing import Router
from marketplace_slack.workflow.sentences import Outcome
from marketplace_slack.workflow.service import Workflow

from .conftest import CHANNEL, NORA, OMAR, SARA, World, request

APPROVE = Decision(Verdict.APPROVE)


def _actor(person: object, **changes: str) -> Actor:
    actor = Actor(person.marketplace_id, person.username, None, groups=frozenset({"g-stewards"}))
    return replace(actor, **changes)


@pytest.mark.parametrize("party", ["requester", "requested_by"])
def test_a_steward_party_to_the_request_is_refused_unless_allowed(party: str) -> None:
    mine = replace(request(), **{party: OMAR})
    assert eligibility(mine, _actor(OMAR)).refusal is not None
    assert eligibility(mine, _actor(OMAR)).refusal.code == "own_request"  # type: ignore[union-attr]
    assert eligibility(mine, _actor(OMAR), allow_self_approval=True).steps
    assert eligibility(mine, _actor(SARA)).steps  # the other stewards decide it


def test_the_same_person_is_matched_by_marketplace_id_or_username_never_by_empty_names() -> None:
    mine = replace(request(), requester=OMAR, requested_by=OMAR)
    assert eligibility(mine, _actor(SARA, marketplace_id=OMAR.marketplace_id)).refusal is not None
    assert eligibility(mine, _actor(SARA, username=OMAR.username)).refusal is not None
    nameless = replace(request(), requester=replace(NORA, marketplace_id="", username=""))
    assert eligibility(nameless, _actor(SARA, marketplace_id="", username="")).steps


async def test_the_click_is_refused_in_one_sentence(world: World) -> None:
    await world.link(OMAR)
    await world.posted(replace(request(), requester=OMAR, requested_by=OMAR))
    assert not await world.click(OMAR, Verdict.APPROVE)
    assert [s.outcome for s in world.slack.shown()] == [Outcome.OWN_REQUEST]


async def test_the_submit_is_refused_again_and_nothing_is_sent(world: World) -> None:
    await world.link(OMAR)
    await world.posted(request())
    assert await world.click(OMAR, Verdict.APPROVE)  # Nora's request: the form opens
    # Before the submit, the card learns the request was filed by Omar (for Nora). Who a request is
    # for and who filed it never change in the Marketplace, so the submit judges them on the card's
    # snapshot, and the records (which do change) on a fresh read.
    world.gateway.requests["req-1"] = replace(world.gateway.requests["req-1"], requested_by=OMAR)
    await world.workflow.cards.sync_request("req-1")
    await world.submit(OMAR, APPROVE)
    assert world.slack.outcomes() == [Outcome.OWN_REQUEST]
    assert world.gateway.decided == []
    assert await world.store.decisions.of_request("req-1") == []


async def test_a_company_that_allows_it_says_so(store: Repository, clock: FakeClock) -> None:
    world = World(store, clock)
    world.workflow = Workflow(
        store=store,
        gateway=world.gateway,
        messenger=world.slack,
        directory=world.directory,
        router=Router(CHANNEL),
        clock=clock,
        owner="replica-1/a",
        allow_self_approval=True,
    )
    await world.link(OMAR)
    await world.posted(replace(request(), requester=OMAR, requested_by=OMAR))
    assert await world.click(OMAR, Verdict.APPROVE)
    await world.submit(OMAR, APPROVE)
    assert len(world.gateway.decided) == 1
