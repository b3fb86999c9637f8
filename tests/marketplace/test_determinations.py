"""A request after a determination, from what was read before the PUT and the PUT's answer: the
vendor's rules as `after_determination` applies them, then held against the sandbox (which follows
the vendor's guides) for every review shape it has: what the gateway shows after a decision is what
reading the whole request again shows."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import SecretStr

from marketplace_slack.domain import (
    AccessRequest,
    ApprovalStep,
    Approver,
    Decision,
    Duration,
    DurationUnit,
    Person,
    RecordStatus,
    RequestKind,
    RequestStatus,
    Verdict,
    eligibility,
)
from marketplace_slack.marketplace import models as wire
from marketplace_slack.marketplace.client import MarketplaceClient
from marketplace_slack.marketplace.determinations import after_determination, ends
from marketplace_slack.marketplace.gateway import MarketplaceGateway
from marketplace_slack_standins.sandbox.world import ADMIN
from marketplace_slack_standins.stage import plausible_answers

AT = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
SARA = Person("u-sara", "sara", "Sara")
STEWARDS = Approver("GROUP", "Stewards", "g")


def _request(*steps: ApprovalStep) -> AccessRequest:
    nora = Person("u-nora", "nora", "Nora")
    return AccessRequest(
        id="r1",
        kind=RequestKind.DATA_ACCESS,
        status=RequestStatus.PENDING,
        raw_status="PENDING",
        product_id="p1",
        product_name="Sales",
        domain_id=None,
        requester=nora,
        requested_by=nora,
        created_at=datetime(2026, 12, 1, tzinfo=UTC),
        expiration=None,
        steps=steps,
    )


def _step(step_id: str, status: RecordStatus = RecordStatus.PENDING, **changes: Any) -> ApprovalStep:
    return ApprovalStep(step_id, status, (STEWARDS,), **changes)


def _decided(step_id: str, status: RecordStatus, duration: Duration | None = None) -> ApprovalStep:
    return _step(step_id, status, decided_by=SARA, duration=duration, updated_at=AT)


WEEK = Duration(1, DurationUnit.WEEKS)


def test_the_last_approval_settles_the_request_for_the_shortest_time_given() -> None:
    before = _request(_decided("a", RecordStatus.APPROVED, Duration(30, DurationUnit.DAYS)), _step("b"))
    after = after_determination(before, [_decided("b", RecordStatus.APPROVED, WEEK)])
    assert after is not None
    assert (after.status, after.raw_status, after.expiration) == (
        RequestStatus.APPROVED,
        "APPROVED",
        ends(AT, WEEK),
    )
    assert after.updated_at == AT and [s.status for s in after.steps] == [RecordStatus.APPROVED] * 2


def test_an_approval_for_ever_has_no_expiration() -> None:
    after = after_determination(_request(_step("a")), [_decided("a", RecordStatus.APPROVED)])
    assert after is not None and after.status is RequestStatus.APPROVED and after.expiration is None


def test_a_denial_of_the_only_open_record_denies_the_request() -> None:
    after = after_determination(_request(_step("a")), [_decided("a", RecordStatus.DENIED)])
    assert after is not None and (after.status, after.expiration) == (RequestStatus.DENIED, None)


def test_an_approval_beside_records_still_open_leaves_the_request_waiting() -> None:
    before = _request(_step("a"), _step("b"))
    after = after_determination(before, [_decided("a", RecordStatus.APPROVED, WEEK)])
    assert after is not None and after.status is RequestStatus.PENDING and after.expiration is None
    assert [s.status for s in after.steps] == [RecordStatus.APPROVED, RecordStatus.PENDING]


@pytest.mark.parametrize(
    ("steps", "answer"),
    [
        ((_step("a"), _step("b", RecordStatus.BLOCKED, prerequisites=("a",))), RecordStatus.APPROVED),
        ((_step("a"), _step("b")), RecordStatus.DENIED),
        ((_step("a"), _step("b", RecordStatus.CANCELED)), RecordStatus.APPROVED),
    ],
    ids=["a later stage may have opened", "records left open beside a denial", "a record canceled beside"],
)
def test_what_the_rules_do_not_tell_is_left_to_a_read(
    steps: tuple[ApprovalStep, ...], answer: RecordStatus
) -> None:
    assert after_determination(_request(*steps), [_decided("a", answer)]) is None


def test_an_answer_without_its_time_is_left_to_a_read() -> None:
    answer = replace(_decided("a", RecordStatus.APPROVED, WEEK), updated_at=None)
    assert after_determination(_request(_step("a")), [answer]) is None


@pytest.mark.parametrize(
    ("start", "duration", "end"),
    [
        (AT, Duration(5, DurationUnit.HOURS), datetime(2026, 12, 4, 14, 30, tzinfo=UTC)),
        (AT, Duration(2, DurationUnit.WEEKS), datetime(2026, 12, 18, 9, 30, tzinfo=UTC)),
        (
            datetime(2027, 1, 31, tzinfo=UTC),
            Duration(1, DurationUnit.MONTHS),
            datetime(2027, 2, 28, tzinfo=UTC),
        ),
        (
            datetime(2028, 2, 29, tzinfo=UTC),
            Duration(1, DurationUnit.YEARS),
            datetime(2029, 2, 28, tzinfo=UTC),
        ),
    ],
)
def test_access_ends_by_the_calendar(start: datetime, duration: Duration, end: datetime) -> None:
    assert ends(start, duration) == end


# --- against the sandbox --------------------------------------------------------------------------

# product, requester, (steward, verdict, duration) in turn: every review shape the seed has.
FLOWS = {
    "any steward, approved for 7 days": ("Sales Pipeline", "rick", [("sara", Verdict.APPROVE, 7)]),
    "any steward, denied": ("Sales Pipeline", "rick", [("omar", Verdict.DENY, None)]),
    "all stewards, one of two": ("Customer 360", "rick", [("sara", Verdict.APPROVE, 30)]),
    "all stewards, both": (
        "Customer 360",
        "rick",
        [("sara", Verdict.APPROVE, 30), ("gina", Verdict.APPROVE, 7)],
    ),
    "all stewards, one denies": ("Customer 360", "rick", [("gina", Verdict.DENY, None)]),
    "two stages, the first": ("Finance Ledger", "rick", [("gina", Verdict.APPROVE, 14)]),
}


@pytest.mark.parametrize(("product", "requester", "turns"), FLOWS.values(), ids=FLOWS.keys())
async def test_after_each_decision_the_gateway_shows_what_a_whole_read_shows(
    sandbox: Any, product: str, requester: str, turns: list[tuple[str, Verdict, int | None]]
) -> None:
    async with MarketplaceClient(sandbox.base_url, sandbox.token_for(ADMIN)) as client:
        gateway = MarketplaceGateway(client, app_url="https://app.example.com")
        asking = client.with_token(SecretStr(sandbox.token_for(requester)))
        product_id = (await client.get_data_product_by_name(product)).id
        form = plausible_answers(await client.get_request_forms(product_id))
        user = sandbox.state.users[requester].global_user_id
        request_id = (
            await asking.request_access(product_id, wire.CreateAccessRequest(user=user, form=form))
        ).id
        for steward, verdict, days in turns:
            token = SecretStr(sandbox.token_for(steward))
            before = await gateway.load(request_id)
            [mine, *_] = eligibility(before, await gateway.whoami(token)).steps
            duration = Duration(days, DurationUnit.DAYS) if days else None
            answer = await gateway.decide(token, mine.id, Decision(verdict, "because", duration))
            shown = await gateway.after_decision(before, [answer])
            truth = await gateway.load(request_id)
            assert (shown.status, shown.raw_status, shown.expiration) == (
                truth.status,
                truth.raw_status,
                truth.expiration,
            )
            assert shown.steps == truth.steps
