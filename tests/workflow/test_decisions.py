"""Every outcome of a steward's decision, in one table; then the ways a click or a form falls short."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from structlog.testing import capture_logs

from marketplace_slack.domain import (
    ApprovalStep,
    Decision,
    Duration,
    DurationUnit,
    Person,
    RecordStatus,
    RequestStatus,
    Verdict,
)
from marketplace_slack.infra.owners import instance_of
from marketplace_slack.marketplace.determinations import ends
from marketplace_slack.marketplace.errors import (
    APIConnectionError,
    APITimeoutError,
    BadRequestError,
    ConflictError,
    ForbiddenError,
    MarketplaceError,
    NotFoundError,
    RateLimitError,
    ServerError,
    UnauthorizedError,
)
from marketplace_slack.workflow import sentences
from marketplace_slack.workflow.routing import Router
from marketplace_slack.workflow.sentences import Outcome
from marketplace_slack.workflow.service import Workflow

from .conftest import CHANNEL, LEASE, OMAR, PRIVACY, SARA, SLACK_IDS, STEWARDS, TEAM, World, request

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
        world.gateway.fail["record", "st-1"] = ServerError(503, "unavailable")  # the look-up of who did it

    world.gateway.before_fail["decide", "st-1"] = settle_then_go_quiet
    world.gateway.fail["decide", "st-1"] = ConflictError(409, "record already decided")


def _sara_commits_then(world: World, error: MarketplaceError) -> None:
    """The Marketplace records Sara's PUT, and the answer she gets is `error` instead."""
    world.gateway.before_fail["decide", "st-1"] = lambda: world.gateway.settle(
        "st-1", RecordStatus.APPROVED, SARA, reason=APPROVE.reason
    )
    world.gateway.fail["decide", "st-1"] = error


async def answer_lost_after_commit(world: World) -> None:
    _sara_commits_then(world, APITimeoutError("read timeout", method="PUT", path="/approval-record/st-1"))


async def every_retry_5xx_after_commit(world: World) -> None:
    _sara_commits_then(world, ServerError(503, "unavailable"))


async def conflict_with_our_own_first_put(world: World) -> None:
    _sara_commits_then(world, ConflictError(409, "Approval record st-1 is already APPROVED"))


async def answer_lost_and_look_up_fails(world: World) -> None:
    _sara_commits_then(world, APITimeoutError("read timeout", method="PUT", path="/approval-record/st-1"))
    world.gateway.fail["record", "st-1"] = ServerError(503, "unavailable")


async def server_error_before_anything(world: World) -> None:
    world.gateway.fail["decide", "st-1"] = ServerError(503, "unavailable")


async def rate_limited(world: World) -> None:
    world.gateway.fail["decide", "st-1"] = RateLimitError(429, "slow down")


async def bad_request(world: World) -> None:
    world.gateway.fail["decide", "st-1"] = BadRequestError(400, "duration must be positive")


async def marketplace_refuses(world: World) -> None:
    world.gateway.fail["decide", "st-1"] = ForbiddenError(403, "You are not an approver of this record")


async def token_revoked_at_put(world: World) -> None:
    world.gateway.fail["decide", "st-1"] = UnauthorizedError(401, "token revoked")


async def marketplace_unreachable(world: World) -> None:
    world.gateway.fail["decide", "st-1"] = APIConnectionError("connection refused", method="PUT", path="/x")


async def reload_fails(world: World) -> None:
    # A later stage waits on st-1: what approving it opened is read after the PUT, and cannot be.
    steps = (
        ApprovalStep("st-1", RecordStatus.PENDING, (STEWARDS,)),
        ApprovalStep("st-2", RecordStatus.BLOCKED, (PRIVACY,), prerequisites=("st-1",)),
    )
    world.gateway.requests["req-1"] = request(steps=steps)
    fail = ServerError(503, "unavailable")
    world.gateway.before_fail["decide", "st-1"] = lambda: world.gateway.fail.__setitem__(
        ("load", "req-1"), fail
    )


async def omar_is_recording(world: World) -> None:
    await _claim(world, SLACK_IDS[OMAR])


async def sara_is_recording(world: World) -> None:
    await _claim(world, SLACK_IDS[SARA])  # on another replica, alive: its PUT may be landing now


async def sara_was_recording_in_an_earlier_life(world: World) -> None:
    await world.store.decisions.claim(
        "st-1",
        request_id="req-1",
        slack_user_id=SLACK_IDS[SARA],
        verdict="APPROVE",
        now=world.clock.now(),
        lease=LEASE,
        owner=f"{instance_of(world.workflow.owner)}/crashed",
    )


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
    "conflict, and the record cannot be read: the outcome is unknown": Case(
        omar_got_there_first_unseen,
        (Outcome.DECISION_OUTCOME_UNKNOWN,),
        (*FORM, UPDATE, "tell", UPDATE, *ANNOUNCED),
        ("unknown",),
        RecordStatus.APPROVED,
    ),
    "answer lost after the PUT committed: success": Case(
        answer_lost_after_commit, (), (*FORM, UPDATE, UPDATE, *ANNOUNCED), ("ok",), RecordStatus.APPROVED
    ),
    "every retry 5xx after the PUT committed: success": Case(
        every_retry_5xx_after_commit, (), (*FORM, UPDATE, UPDATE, *ANNOUNCED), ("ok",), RecordStatus.APPROVED
    ),
    "409 on the retry of our own committed PUT: success": Case(
        conflict_with_our_own_first_put,
        (),
        (*FORM, UPDATE, UPDATE, *ANNOUNCED),
        ("ok",),
        RecordStatus.APPROVED,
    ),
    "answer lost and the record cannot be read: the outcome is unknown": Case(
        answer_lost_and_look_up_fails,
        (Outcome.DECISION_OUTCOME_UNKNOWN,),
        (*FORM, UPDATE, "tell", UPDATE, *ANNOUNCED),
        ("unknown",),
        RecordStatus.APPROVED,
    ),
    "5xx before anything was done: nothing recorded": Case(
        server_error_before_anything,
        (Outcome.DECISION_NOT_TAKEN,),
        (*FORM, UPDATE, "tell", UPDATE),
        ("unavailable",),
        notice=sentences.DECISION_NOT_RECORDED.text,
    ),
    "rate limited: nothing recorded": Case(
        rate_limited,
        (Outcome.DECISION_NOT_TAKEN,),
        (*FORM, UPDATE, "tell", UPDATE),
        ("unavailable",),
        notice=sentences.DECISION_NOT_RECORDED.text,
    ),
    "bad request: the Marketplace refused": Case(
        bad_request, (Outcome.MARKETPLACE_REFUSED,), (*FORM, UPDATE, "tell", UPDATE), ("refused",)
    ),
    "forbidden: the steward hears what they can do": Case(
        marketplace_refuses, (Outcome.MARKETPLACE_FORBIDDEN,), (*FORM, UPDATE, "tell", UPDATE), ("forbidden",)
    ),
    "token revoked at the PUT": Case(
        token_revoked_at_put,
        (Outcome.RELINK_NEEDED,),
        (*FORM, UPDATE, "prompt_link", UPDATE),
        ("unauthorized",),
    ),
    "Marketplace unreachable: looked up, nothing recorded": Case(
        marketplace_unreachable,
        (Outcome.DECISION_NOT_TAKEN,),
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
    "the same steward's claim on another live replica is left to it": Case(
        sara_is_recording, (Outcome.ALREADY_RECORDING,), (*FORM, "tell")
    ),
    "the same steward's claim from an earlier life of this instance is taken over at once": Case(
        sara_was_recording_in_an_earlier_life,
        (),
        (*FORM, UPDATE, UPDATE, *ANNOUNCED),
        ("ok",),
        RecordStatus.APPROVED,
    ),
    "decided by someone else between click and submit": Case(
        nothing,
        (Outcome.REQUEST_SETTLED,),
        (*FORM, "tell", UPDATE, *ANNOUNCED),
        step=RecordStatus.APPROVED,
        meanwhile=omar_decides_meanwhile,
    ),
    "blocked step": Case(sara_waits_for_privacy, (), REFUSED, shown=(Outcome.STEP_BLOCKED,)),
    "the steward's step was decided already: the card is made true at once": Case(
        sara_decided_already,
        (),
        (*REFUSED, UPDATE, "announce_step"),
        step=RecordStatus.APPROVED,
        shown=(Outcome.YOUR_STEP_DECIDED,),
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


async def test_a_forbidden_decision_says_what_to_do_and_keeps_the_marketplace_words_in_the_log(
    world: World,
) -> None:
    await world.link(SARA)
    await world.posted(request())
    await marketplace_refuses(world)
    await world.click(SARA, Verdict.APPROVE)
    with capture_logs() as logs:
        await world.submit(SARA, APPROVE)
    [told] = world.slack.told()
    assert told is sentences.MARKETPLACE_FORBIDDEN
    assert "You are not an approver" not in json.dumps([t.text for t in world.slack.told()])
    [audited] = await world.store.audit.list("req-1")
    assert (audited.outcome, audited.error) == ("forbidden", told.text)
    [logged] = [e for e in logs if e["event"] == "decision_forbidden"]
    assert logged["detail"] == "You are not an approver of this record"


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
    context = json.loads(form["context"])
    assert context.pop("s")  # signed: see the tests of tampered forms below
    assert context == {
        "r": "req-1",
        "v": "APPROVE",
        "w": TEAM,
        "u": SLACK_IDS[SARA],
        "c": "C0CARDS",
        "t": "1700000000.000001",
    }


async def test_a_shown_decision_tells_the_observers(world: World) -> None:
    await world.link(SARA)
    await world.posted(request())
    await world.click(SARA, Verdict.APPROVE)
    await world.submit(SARA, APPROVE)
    assert [r.status.value for r in world.seen] == ["APPROVED"]


async def test_a_decision_reads_the_records_twice_and_shows_the_card_from_the_answer(world: World) -> None:
    await world.link(SARA)
    await world.posted(request())
    world.gateway.loaded.clear()
    await world.click(SARA, Verdict.APPROVE)
    await world.submit(SARA, APPROVE)
    assert world.gateway.stepped == ["req-1", "req-1"]  # at the click, and at the submit before the PUT
    assert world.gateway.loaded == []  # the card's snapshot holds the rest
    shown = world.slack.cards()[-1].request
    [step] = world.gateway.requests["req-1"].steps
    assert step.updated_at is not None and APPROVE.duration is not None
    assert (shown.status, shown.expiration) == (
        RequestStatus.APPROVED,
        ends(step.updated_at, APPROVE.duration),
    )
    assert shown.steps == (replace(step, decided_by=replace(SARA, slack_user_id=SLACK_IDS[SARA])),)


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


# --- outcomes found out later: a claim kept after an unknown outcome, a claim left by a crash ------


async def test_an_unknown_outcome_keeps_the_claim_and_the_next_submit_finds_the_decision(
    world: World,
) -> None:
    await world.link(SARA)
    await world.posted(request())
    await answer_lost_and_look_up_fails(world)
    await world.click(SARA, Verdict.APPROVE)
    await world.submit(SARA, APPROVE)
    [claim] = await world.store.decisions.of_request("req-1")
    assert not claim.finished and claim.holder == SLACK_IDS[SARA]  # kept: the record is read next time
    [form] = world.slack.of("show_decision_form")
    world.slack.calls.clear()

    await world.submit(SARA, APPROVE, context=str(form["context"]))  # the same form, once it answers
    assert world.slack.outcomes() == []  # no refusal: her decision stood, and the card says so
    assert len(world.gateway.decided) == 1  # found out by reading, not by sending it again
    [claim] = await world.store.decisions.of_request("req-1")
    assert (claim.finished, claim.outcome) == (True, "ok")
    assert [a.outcome for a in await world.store.audit.list("req-1")] == ["unknown", "ok"]


async def test_a_click_after_a_crash_between_put_and_answer_finds_the_decision_and_the_card_follows(
    world: World,
) -> None:
    """The process died after the PUT committed: its claim is unfinished and the card still pending."""
    await world.link(SARA)
    await world.posted(request())
    await _claim(world, SLACK_IDS[SARA])
    world.gateway.settle("st-1", RecordStatus.APPROVED, SARA, reason=APPROVE.reason)

    assert not await world.click(SARA, Verdict.APPROVE)
    assert [s.outcome for s in world.slack.shown()] == [Outcome.REQUEST_SETTLED]
    assert world.slack.methods() == [*REFUSED, UPDATE, *ANNOUNCED]  # the card is true at once
    assert world.slack.cards()[-1].request.status.value == "APPROVED"
    [claim] = await world.store.decisions.of_request("req-1")
    assert (claim.finished, claim.outcome) == (True, "ok")
    [audited] = await world.store.audit.list("req-1")
    assert (audited.outcome, audited.verdict, audited.reason) == ("ok", Verdict.APPROVE, APPROVE.reason)
    assert world.gateway.decided == []


async def test_a_crashed_claim_whose_record_someone_else_decided_is_finished_as_a_conflict(
    world: World,
) -> None:
    await world.link(SARA)
    await world.posted(request())
    await world.click(SARA, Verdict.APPROVE)
    await _claim(world, SLACK_IDS[SARA])  # her earlier submit died before its PUT
    await omar_decides_meanwhile(world)
    [form] = world.slack.of("show_decision_form")
    world.slack.calls.clear()
    await world.submit(SARA, APPROVE, context=str(form["context"]))
    [told] = world.slack.told(SLACK_IDS[SARA])
    assert told.text == "This step was already approved by Omar Hassan."  # said once, not twice
    [claim] = await world.store.decisions.of_request("req-1")
    assert (claim.finished, claim.outcome) == (True, "conflict")
    assert [a.outcome for a in await world.store.audit.list("req-1")] == ["conflict"]
    assert world.gateway.decided == []


def replica(world: World, owner: str) -> Workflow:
    """Another process on the same store and Marketplace, named `owner` (`instance/incarnation`)."""
    return Workflow(
        store=world.store,
        gateway=world.gateway,
        messenger=world.slack,
        directory=world.directory,
        router=Router(CHANNEL),
        clock=world.clock,
        owner=owner,
        claim_lease=LEASE,
        form_keys=[KEY],
    )


KEY = SecretStr(Fernet.generate_key().decode())


async def _click_and_submit(workflow: Workflow, world: World, person: Person, decision: Decision) -> None:
    await workflow.decisions.start(
        team_id=TEAM,
        user_id=SLACK_IDS[person],
        request_id="req-1",
        verdict=decision.verdict,
        trigger_id="trigger-1",
        channel=CHANNEL,
        message_ts="1700000000.000001",
        duration_choice="7:DAYS",
    )
    [*_, form] = world.slack.of("show_decision_form")
    await workflow.decisions.submit(
        team_id=TEAM, user_id=SLACK_IDS[person], decision=decision, context=str(form["context"])
    )


@pytest.mark.parametrize(
    ("holder_owner", "taken_over"),
    [("host-a/life-1", True), ("host-b/life-1", False), (None, False)],
    ids=["an earlier life of this instance", "another instance, maybe alive", "an owner never recorded"],
)
async def test_another_stewards_claim_is_taken_over_only_from_an_earlier_life_of_this_instance(
    world: World, holder_owner: str | None, taken_over: bool
) -> None:
    await world.link(SARA)
    await world.posted(request())
    await world.store.decisions.claim(
        "st-1",
        request_id="req-1",
        slack_user_id=SLACK_IDS[OMAR],
        verdict="DENY",
        now=world.clock.now(),
        lease=LEASE,
        owner=holder_owner,
    )
    await _click_and_submit(replica(world, "host-a/life-2"), world, SARA, APPROVE)
    [claim] = await world.store.decisions.of_request("req-1")
    if taken_over:
        assert world.slack.outcomes() == []
        assert world.gateway.requests["req-1"].steps[0].status is RecordStatus.APPROVED
        assert (claim.holder, claim.owner, claim.outcome) == (SLACK_IDS[SARA], "host-a/life-2", "ok")
    else:
        assert world.slack.outcomes() == [Outcome.SOMEONE_DECIDING]
        assert world.slack.told()[0].mention == SLACK_IDS[OMAR]
        assert world.gateway.decided == [] and claim.holder == SLACK_IDS[OMAR]


async def test_a_claim_names_the_process_that_holds_it(world: World) -> None:
    await world.link(SARA)
    await world.posted(request())
    await server_error_before_anything(world)
    world.gateway.fail["record", "st-1"] = ServerError(503, "unavailable")  # unknown: the claim is kept
    await _click_and_submit(replica(world, "host-a/life-7"), world, SARA, APPROVE)
    [claim] = await world.store.decisions.of_request("req-1")
    assert (claim.owner, claim.finished) == ("host-a/life-7", False)


# --- one submission, one request -----------------------------------------------------------------


def _retouched(context: str, **changes: str) -> str:
    fields = json.loads(context)
    fields.update(changes)
    return json.dumps(fields)


TAMPERED: dict[str, Callable[[str, str], str]] = {
    "another request": lambda mine, omars: _retouched(mine, r="req-2"),
    "another channel": lambda mine, omars: _retouched(mine, c="C0ELSEWHERE"),
    "another steward's form": lambda mine, omars: omars,
    "the other verdict": lambda mine, omars: _retouched(mine, v="DENY"),
    "no signature": lambda mine, omars: json.dumps({"r": "req-1", "c": CHANNEL}),
    "a forged signature": lambda mine, omars: _retouched(mine, s="A" * 43),
    "not JSON": lambda mine, omars: "req-1",
}


@pytest.mark.parametrize("tamper", TAMPERED.values(), ids=TAMPERED.keys())
async def test_a_tampered_or_foreign_form_is_refused_in_one_sentence_and_changes_nothing(
    world: World, tamper: Callable[[str, str], str]
) -> None:
    await world.link(SARA)
    await world.link(OMAR)
    await world.posted(request(), request("req-2"))
    await world.click(OMAR, Verdict.APPROVE)
    await world.click(SARA, Verdict.APPROVE)
    omars, mine = (str(f["context"]) for f in world.slack.of("show_decision_form"))
    world.slack.calls.clear()

    await world.submit(SARA, APPROVE, context=tamper(mine, omars))

    assert world.slack.methods() == ["tell"]
    [told] = world.slack.of("tell")
    assert told["sentence"] is sentences.FORM_CONTEXT_REFUSED and told["user_id"] == SLACK_IDS[SARA]
    assert told["channel"] is None  # a channel named by a refused form is not trusted either: a DM
    assert world.gateway.decided == []
    assert await world.store.decisions.of_request("req-1") == []
    assert await world.store.decisions.of_request("req-2") == []
    assert await world.store.audit.list() == []


async def test_a_form_opened_by_one_replica_is_accepted_by_another_sharing_the_keys(world: World) -> None:
    await world.link(SARA)
    await world.posted(request())
    await replica(world, "host-a/1").decisions.start(
        team_id=TEAM,
        user_id=SLACK_IDS[SARA],
        request_id="req-1",
        verdict=Verdict.APPROVE,
        trigger_id="trigger-1",
        channel=CHANNEL,
        message_ts=None,
        duration_choice="7:DAYS",
    )
    [form] = world.slack.of("show_decision_form")
    await replica(world, "host-b/1").decisions.submit(
        team_id=TEAM, user_id=SLACK_IDS[SARA], decision=APPROVE, context=str(form["context"])
    )
    assert world.gateway.requests["req-1"].steps[0].status is RecordStatus.APPROVED
