"""Every outcome of a steward's decision, in one table; then the ways a click or a form falls short."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest

from marketplace_slack.domain import ApprovalStep, Decision, Duration, DurationUnit, RecordStatus, Verdict
from marketplace_slack.marketplace.errors import (
    APIConnectionError,
    ConflictError,
    ForbiddenError,
    MarketplaceError,
    NotFoundError,
    ServerError,
    UnauthorizedError,
)
from marketplace_slack.workflow import sentences
from marketplace_slack.workflow.sentences import Outcome

from .conftest import LEASE, OMAR, PRIVACY, SARA, SLACK_IDS, STEWARDS, TEAM, World, request

APPROVE = Decision(Verdict.APPROVE, reason="Quarterly review", duration=Duration(7, DurationUnit.DAYS))
DENY = Decision(Verdict.DENY, reason="Not for contractors")

Arrange = Callable[[World], Awaitable[None]]


async def nothing(world: World) -> None:
    return None


async def omar_got_there_first(world: World) -> None:
    world.gateway.before_fail["decide", "st-1"] = lambda: world.gateway.settle(
        "st-1", RecordStatus.APPROVED, OMAR
    )
    world.gateway.fail["decide", "st-1"] = ConflictError(409, "record already decided")


async def omar_got_there_first_unseen(world: World) -> None:
    def settle_then_go_quiet() -> None:
        world.gateway.settle("st-1", RecordStatus.APPROVED, OMAR)
        world.gateway.fail["load", "req-1"] = ServerError(503, "unavailable")  # the look-up of who did it

    world.gateway.before_fail["decide", "st-1"] = settle_then_go_quiet
    world.gateway.fail["decide", "st-1"] = ConflictError(409, "record already decided")


async def marketplace_refuses(world: World) -> None:
    world.gateway.fail["decide", "st-1"] = ForbiddenError(403, "You are not an approver of this record")


async def token_revoked_at_put(world: World) -> None:
    world.gateway.fail["decide", "st-1"] = UnauthorizedError(401, "token revoked")


async def marketplace_unreachable(world: World) -> None:
    world.gateway.fail["decide", "st-1"] = APIConnectionError("connection refused", method="PUT", path="/x")


async def reload_fails(world: World) -> None:
    fail = ServerError(503, "unavailable")
    world.gateway.before_fail["decide", "st-1"] = lambda: world.gateway.fail.__setitem__(
        ("load", "req-1"), fail
    )


async def omar_is_recording(world: World) -> None:
    await _claim(world, SLACK_IDS[OMAR])


async def sara_is_recording(world: World) -> None:
    await _claim(world, SLACK_IDS[SARA])


async def _claim(world: World, slack_user_id: str) -> None:
    await world.store.decisions.claim(
        "st-1",
        request_id="req-1",
        slack_user_id=slack_user_id,
        verdict="APPROVE",
        now=world.clock.now(),
        lease=LEASE,
    )


async def omar_decides_meanwhile(world: World) -> None:
    world.gateway.settle("st-1", RecordStatus.APPROVED, OMAR)


async def sara_waits_for_privacy(world: World) -> None:
    steps = (
        ApprovalStep("st-1", RecordStatus.PENDING, (PRIVACY,)),
        ApprovalStep("st-2", RecordStatus.BLOCKED, (STEWARDS,)),
    )
    world.gateway.requests["req-1"] = request(steps=steps)


async def sara_decided_already(world: World) -> None:
    steps = (
        ApprovalStep("st-1", RecordStatus.PENDING, (STEWARDS,)),
        ApprovalStep("st-2", RecordStatus.BLOCKED, (PRIVACY,)),
    )
    world.gateway.requests["req-1"] = request(steps=steps)
    world.gateway.settle("st-1", RecordStatus.APPROVED, SARA)  # the privacy office's turn now


async def sara_is_no_approver(world: World) -> None:
    world.gateway.requests["req-1"] = request(steps=(ApprovalStep("st-1", RecordStatus.PENDING, (PRIVACY,)),))


async def card_posted_by_a_slow_replica(world: World) -> None:
    """A new request: while we post its card, a replica that outlived its claim records its own card first."""
    world.gateway.requests["req-2"] = request("req-2")

    async def replica_posts() -> None:
        await world.store.cards.posted(
            "req-2",
            "C0CARDS",
            "1600000000.000001",
            fingerprint="theirs",
            status="PENDING",
            now=world.clock.now(),
        )

    world.slack.during["post_request"] = replica_posts


@dataclass(frozen=True)
class Case:
    arrange: Arrange
    told: tuple[Outcome, ...]  # what Sara reads, in order
    slack: tuple[str, ...]  # every Slack call, in order
    audit: tuple[str, ...] = ()  # the audit trail's outcomes
    step: RecordStatus = RecordStatus.PENDING  # st-1 in the Marketplace afterwards
    decision: Decision = APPROVE
    meanwhile: Arrange = nothing  # between the click and the submitted form
    notice: str | None = None  # on the last card shown
    act: str = "decide"
    shown: tuple[Outcome, ...] = ()  # what the click's modal was turned into instead of the form


PENDING = "open_pending"
FORM, UPDATE = (PENDING, "show_decision_form"), "update_request"
REFUSED = (PENDING, "show_refusal")
ANNOUNCED = ("announce_step", "notify_requester")

OUTCOMES = {
    "approved": Case(nothing, (), (*FORM, UPDATE, UPDATE, *ANNOUNCED), ("ok",), RecordStatus.APPROVED),
    "denied": Case(nothing, (), (*FORM, UPDATE, UPDATE, *ANNOUNCED), ("ok",), RecordStatus.DENIED, DENY),
    "conflict: already decided by someone else": Case(
        omar_got_there_first,
        (Outcome.ALREADY_DECIDED,),
        (*FORM, UPDATE, "tell", UPDATE, *ANNOUNCED),
        ("conflict",),
        RecordStatus.APPROVED,
    ),
    "conflict, and the Marketplace cannot say by whom": Case(
        omar_got_there_first_unseen,
        (Outcome.ALREADY_DECIDED,),
        (*FORM, UPDATE, "tell", UPDATE, *ANNOUNCED),
        ("conflict",),
        RecordStatus.APPROVED,
    ),
    "forbidden: the Marketplace refused": Case(
        marketplace_refuses, (Outcome.MARKETPLACE_REFUSED,), (*FORM, UPDATE, "tell", UPDATE), ("forbidden",)
    ),
    "token revoked at the PUT": Case(
        token_revoked_at_put,
        (Outcome.RELINK_NEEDED,),
        (*FORM, UPDATE, "prompt_link", UPDATE),
        ("unauthorized",),
    ),
    "Marketplace unreachable": Case(
        marketplace_unreachable,
        (Outcome.MARKETPLACE_UNREACHABLE,),
        (*FORM, UPDATE, "tell", UPDATE),
        ("unavailable",),
        notice=sentences.DECISION_NOT_RECORDED.text,
    ),
    "recorded, but the card cannot be refreshed": Case(
        reload_fails, (), (*FORM, UPDATE), ("ok",), RecordStatus.APPROVED
    ),
    "lost claim: someone else is recording": Case(
        omar_is_recording, (Outcome.SOMEONE_DECIDING,), (*FORM, "tell")
    ),
    "lost claim: the same steward's earlier submit": Case(
        sara_is_recording, (Outcome.ALREADY_RECORDING,), (*FORM, "tell")
    ),
    "decided by someone else between click and submit": Case(
        nothing,
        (Outcome.REQUEST_SETTLED,),
        (*FORM, "tell", UPDATE, *ANNOUNCED),
        step=RecordStatus.APPROVED,
        meanwhile=omar_decides_meanwhile,
    ),
    "blocked step": Case(sara_waits_for_privacy, (), REFUSED, shown=(Outcome.STEP_BLOCKED,)),
    "the steward's step was decided already": Case(
        sara_decided_already, (), REFUSED, step=RecordStatus.APPROVED, shown=(Outcome.YOUR_STEP_DECIDED,)
    ),
    "not an approver": Case(sara_is_no_approver, (), REFUSED, shown=(Outcome.NOT_AN_APPROVER,)),
    "retired duplicate card: lost the post race": Case(
        card_posted_by_a_slow_replica, (), ("post_request", "retire"), act="notify"
    ),
}


@pytest.mark.parametrize("case", OUTCOMES.values(), ids=OUTCOMES.keys())
async def test_every_outcome_of_a_decision(world: World, case: Case) -> None:
    await world.link(SARA)
    await world.posted(request())
    await case.arrange(world)

    if case.act == "notify":
        await world.workflow.cards.sync_request("req-2")
    elif await world.click(SARA, case.decision.verdict):
        await case.meanwhile(world)
        await world.submit(SARA, case.decision)

    assert world.slack.methods() == list(case.slack)
    assert [s.outcome for s in world.slack.told(SLACK_IDS[SARA])] == list(case.told)
    assert [s.outcome for s in world.slack.shown()] == list(case.shown)
    assert [a.outcome for a in await world.store.audit.list("req-1")] == list(case.audit)
    assert world.gateway.requests["req-1"].steps[0].status is case.step
    if case.notice is not None:
        assert world.slack.cards()[-1].notice == case.notice


async def test_a_conflict_names_who_decided_and_the_audit_keeps_those_words(world: World) -> None:
    await world.link(SARA)
    await world.posted(request())
    await omar_got_there_first(world)
    await world.click(SARA, Verdict.APPROVE)
    await world.submit(SARA, APPROVE)
    [told] = world.slack.told()
    assert told.text == "This step was already approved by Omar Hassan."
    [audited] = await world.store.audit.list("req-1")
    assert audited.error == told.text


async def test_a_refused_decision_quotes_the_marketplace(world: World) -> None:
    await world.link(SARA)
    await world.posted(request())
    await marketplace_refuses(world)
    await world.click(SARA, Verdict.APPROVE)
    await world.submit(SARA, APPROVE)
    [told] = world.slack.told()
    assert told.text == "The Marketplace did not accept your decision: You are not an approver of this record"


async def test_an_unreachable_marketplace_gives_the_claim_back(world: World) -> None:
    await world.link(SARA)
    await world.posted(request())
    await marketplace_unreachable(world)
    await world.click(SARA, Verdict.APPROVE)
    await world.submit(SARA, APPROVE)
    await world.submit(SARA, APPROVE)  # the second try goes through
    assert [a.outcome for a in await world.store.audit.list("req-1")] == ["unavailable", "ok"]
    assert world.gateway.requests["req-1"].steps[0].status is RecordStatus.APPROVED


async def test_the_form_carries_the_request_the_channel_and_the_picked_duration(world: World) -> None:
    await world.link(SARA)
    await world.posted(request())
    assert await world.click(SARA, Verdict.APPROVE)
    [form] = world.slack.of("show_decision_form")
    assert form["initial_duration"] == "7:DAYS" and form["verdict"] is Verdict.APPROVE
    assert json.loads(form["context"]) == {"r": "req-1", "c": "C0CARDS", "t": "1700000000.000001"}


async def test_a_shown_decision_tells_the_observers(world: World) -> None:
    await world.link(SARA)
    await world.posted(request())
    await world.click(SARA, Verdict.APPROVE)
    await world.submit(SARA, APPROVE)
    assert [r.status.value for r in world.seen] == ["APPROVED"]


async def not_linked(world: World) -> None:
    await world.store.links.delete(TEAM, SLACK_IDS[SARA])


async def request_gone(world: World) -> None:
    world.gateway.fail["load", "req-1"] = NotFoundError(404, "gone")


async def unreachable_on_load(world: World) -> None:
    world.gateway.fail["load", "req-1"] = ServerError(503, "unavailable")


async def token_refused(world: World) -> None:
    world.gateway.fail["whoami", world.token(SARA).get_secret_value()] = UnauthorizedError(401, "revoked")


CLICKS = {
    "not linked": (not_linked, Outcome.LINK_FIRST, "show_link_form"),
    "request gone": (request_gone, Outcome.REQUEST_GONE, "show_refusal"),
    "Marketplace unreachable": (unreachable_on_load, Outcome.MARKETPLACE_UNREACHABLE, "show_refusal"),
    "token refused": (token_refused, Outcome.RELINK_NEEDED, "show_link_form"),
}


@pytest.mark.parametrize(("arrange", "outcome", "surface"), CLICKS.values(), ids=CLICKS.keys())
async def test_a_click_that_cannot_open_the_form_says_why_in_the_modal(
    world: World, arrange: Arrange, outcome: Outcome, surface: str
) -> None:
    await world.link(SARA)
    await world.posted(request())
    await arrange(world)
    assert not await world.click(SARA, Verdict.APPROVE)
    assert world.slack.methods() == [PENDING, surface]  # the modal opened before any Marketplace call
    assert [s.outcome for s in world.slack.shown()] == [outcome] and world.slack.outcomes() == []
    [opened] = world.slack.of(PENDING)
    assert opened["trigger_id"] == "trigger-1"
    [shown] = world.slack.of(surface)
    assert shown["modal"].view_id and shown["modal"].hash  # the update names the view and its hash


async def test_the_link_form_in_the_modal_keeps_the_channel_and_forgets_a_refused_token(world: World) -> None:
    await world.link(SARA)
    await world.posted(request())
    await token_refused(world)
    await world.click(SARA, Verdict.APPROVE)
    [shown] = world.slack.of("show_link_form")
    assert json.loads(shown["context"]) == {"c": "C0CARDS"}
    assert await world.store.links.get(TEAM, SLACK_IDS[SARA]) is None


async def test_a_modal_that_would_not_open_is_said_in_one_sentence_and_nothing_else_happens(
    world: World,
) -> None:
    await world.link(SARA)
    await world.posted(request())
    world.slack.fail["open_pending"] = RuntimeError("expired_trigger_id")
    loads = world.gateway.fail.copy()
    assert not await world.click(SARA, Verdict.APPROVE)
    assert world.slack.methods() == [PENDING, "tell"]
    assert world.slack.outcomes() == [Outcome.FORM_NOT_OPENED]
    assert world.gateway.fail == loads


SUBMITS = {
    "unlinked since the click": (not_linked, Outcome.LINK_FIRST, "prompt_link"),
    "Marketplace unreachable": (unreachable_on_load, Outcome.MARKETPLACE_UNREACHABLE, "tell"),
    "token refused": (
        lambda world: _fail_load(world, UnauthorizedError(401, "revoked")),
        Outcome.RELINK_NEEDED,
        "prompt_link",
    ),
}


async def _fail_load(world: World, error: MarketplaceError) -> None:
    world.gateway.fail["load", "req-1"] = error


@pytest.mark.parametrize(("arrange", "outcome", "surface"), SUBMITS.values(), ids=SUBMITS.keys())
async def test_a_form_that_cannot_be_recorded_says_why(
    world: World, arrange: Arrange, outcome: Outcome, surface: str
) -> None:
    await world.link(SARA)
    await world.posted(request())
    assert await world.click(SARA, Verdict.DENY)
    await arrange(world)
    await world.submit(SARA, DENY)
    assert world.slack.methods() == [*FORM, surface]
    assert world.slack.outcomes() == [outcome]
    assert world.gateway.decided == []
