"""A steward's decision when the network lies: the app talks to the sandbox Marketplace through a fault
proxy that commits a PUT and loses its answer, turns it into a 5xx, or turns the request away first.

Each ends with one determination in the Marketplace, an audit log saying what really happened, a true
card, and the steward told the truth; a tampered form changes nothing. SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from e2e.marketplace_faults import proxy_before, stage_behind
from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.marketplace import models as wire
from marketplace_slack.slack import ids
from marketplace_slack.workflow import sentences
from marketplace_slack_standins.faultproxy import Fault, FaultProxy
from marketplace_slack_standins.sandbox.server import SandboxServer
from marketplace_slack_standins.stage import (
    STEWARDS_CHANNEL,
    Stage,
)

PUT = r"/api/approval-record/"
RECORDS = r"/api/access-request/[^/]+/records$"
ATTEMPTS = 4  # the PUT and the client's 3 retries (marketplace/retry.py)


@pytest.fixture
async def proxy(sandbox: SandboxServer) -> AsyncIterator[FaultProxy]:
    async with proxy_before(sandbox) as running:
        yield running


@pytest.fixture
async def stage(
    store_database: object, clock: FakeClock, sandbox: SandboxServer, proxy: FaultProxy
) -> AsyncIterator[Stage]:
    async with stage_behind(store_database, clock, sandbox, proxy) as running:
        yield running


async def _records(stage: Stage, request_id: str) -> list[wire.ApprovalRecord]:
    return (await stage.app.marketplace.get_access_request_records(request_id)).approval_records


def _told(stage: Stage, username: str) -> list[str]:
    """What the steward was told about deciding: ephemeral answers in the channel, and any in a DM
    (linking's own answer left out)."""
    user = stage.slack_user(username)
    said = [m.text for m in stage.slack.ephemeral_messages(STEWARDS_CHANNEL, user)]
    said += [m.text for m in stage.slack.messages(stage.slack.dm_channel(user))]
    return [text for text in said if not text.startswith("Linked to the Marketplace")]


async def _a_request(stage: Stage) -> str:
    request_id = await stage.request_access("rick", "Sales Pipeline")
    await stage.settle()
    await stage.link("sara")
    return request_id


async def _decided_once_by_sara(stage: Stage, request_id: str) -> None:
    records = await _records(stage, request_id)
    decided = [r for r in records if str(r.status) == "APPROVED"]
    assert len(decided) == 1 and decided[0].action_by is not None
    assert decided[0].action_by.username == "sara"
    card = await stage.card(request_id)
    body = json.dumps(card.blocks)
    assert "Approved by" in body and ids.APPROVE not in body
    record = await stage.app.store.cards.get(request_id)
    assert record is not None
    replies = [
        m for m in stage.slack.messages(record.channel) if m.thread_ts == record.ts and m.ts != record.ts
    ]
    assert len(replies) == 1  # one determination, one thread reply


LOST = {
    "the answer dropped after the commit, every retry too": (Fault.DROP_AFTER, ATTEMPTS),
    "every retry a 5xx after the commit": (Fault.STATUS_AFTER, ATTEMPTS),
    "a 5xx after the commit, then the retry's 409": (Fault.STATUS_AFTER, 1),
    "the answer dropped after the commit, then the retry's 409": (Fault.DROP_AFTER, 1),
}


@pytest.mark.parametrize(("fault", "times"), LOST.values(), ids=LOST.keys())
async def test_a_committed_decision_whose_answer_was_lost_is_reported_as_recorded(
    stage: Stage, proxy: FaultProxy, fault: Fault, times: int
) -> None:
    request_id = await _a_request(stage)
    rule = proxy.fault(fault, method="PUT", path=PUT, times=times)

    await stage.decide("sara", request_id, "approve", duration="7:DAYS", reason="Q4 review")

    assert rule.fired == times
    await _decided_once_by_sara(stage, request_id)
    assert _told(stage, "sara") == []  # success reads on the card; never "already approved by" her
    audit = await stage.app.store.audit.list(request_id)
    assert [(a.outcome, a.error) for a in audit] == [("ok", None)]
    [claim] = await stage.app.store.decisions.of_request(request_id)
    assert (claim.finished, claim.outcome) == (True, "ok")


async def test_a_decision_turned_away_before_the_marketplace_did_anything_can_be_retried_at_once(
    stage: Stage, proxy: FaultProxy
) -> None:
    request_id = await _a_request(stage)
    rule = proxy.fault(Fault.STATUS_BEFORE, method="PUT", path=PUT, times=ATTEMPTS, status=503)

    await stage.decide("sara", request_id, "approve", duration="7:DAYS", reason="Q4 review")

    assert rule.fired == ATTEMPTS
    assert all(str(r.status) == "PENDING" for r in await _records(stage, request_id))
    assert _told(stage, "sara") == [sentences.DECISION_NOT_TAKEN.text]
    card = await stage.card(request_id)
    assert sentences.DECISION_NOT_RECORDED.text in json.dumps(card.blocks)

    await stage.decide("sara", request_id, "approve", duration="7:DAYS", reason="Q4 review")  # at once

    await _decided_once_by_sara(stage, request_id)
    assert _told(stage, "sara") == [sentences.DECISION_NOT_TAKEN.text]  # nothing new to say
    assert [a.outcome for a in await stage.app.store.audit.list(request_id)] == ["unavailable", "ok"]


async def test_when_even_the_look_up_fails_the_steward_hears_the_outcome_is_unknown_and_the_card_follows(
    stage: Stage, proxy: FaultProxy
) -> None:
    request_id = await _a_request(stage)
    put = proxy.fault(Fault.STATUS_AFTER, method="PUT", path=PUT, times=ATTEMPTS)
    # Only the look-up after the PUT fails (with its retries), not the reads before it.
    look = proxy.fault(
        Fault.STATUS_BEFORE, method="GET", path=RECORDS, times=ATTEMPTS, when=lambda _: put.fired == ATTEMPTS
    )

    await stage.decide("sara", request_id, "approve", duration="7:DAYS", reason="Q4 review")

    assert look.fired == ATTEMPTS
    assert _told(stage, "sara") == [sentences.DECISION_OUTCOME_UNKNOWN.text]
    assert [a.outcome for a in await stage.app.store.audit.list(request_id)] == ["unknown"]
    [claim] = await stage.app.store.decisions.of_request(request_id)
    assert not claim.finished  # kept: the record is read again next time
    # The Marketplace's webhook (or reconciliation) brings the truth, and the card follows it.
    await stage.app.workflow.cards.sync_request(request_id)
    await stage.settle()
    await _decided_once_by_sara(stage, request_id)


async def test_a_form_whose_context_was_tampered_with_is_refused_and_changes_nothing(stage: Stage) -> None:
    request_id = await _a_request(stage)
    other_id = await stage.request_access("nora", "Sales Pipeline")
    await stage.settle()
    user = stage.slack_user("sara")
    await stage.click("sara", request_id, ids.APPROVE)
    [*_, modal] = stage.slack.views(user)
    assert modal["callback_id"] == ids.APPROVE_MODAL
    context = json.loads(modal["private_metadata"])
    modal["private_metadata"] = json.dumps({**context, "r": other_id})  # the signature stays the old one

    delivery = await stage.submit("sara", modal, {ids.REASON_INPUT: "pointed elsewhere"})

    assert delivery.status == 200
    assert _told(stage, "sara") == [sentences.FORM_CONTEXT_REFUSED.text]
    for rid in (request_id, other_id):
        assert all(str(r.status) == "PENDING" for r in await _records(stage, rid))
        assert await stage.app.store.audit.list(rid) == []
        assert await stage.app.store.decisions.of_request(rid) == []
