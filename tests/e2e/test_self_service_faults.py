"""Filing a request when the network lies: the Marketplace created it and the answer never arrived, or a
5xx came back after the work was done. The app finds out what happened before it tells the consumer,
and never files twice; a request turned away before anything happened is said so, and can be asked
again at once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from e2e.marketplace_faults import proxy_before, stage_behind
from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.slack import ids
from marketplace_slack_standins.consumer import Consumer
from marketplace_slack_standins.fakeslack.payloads import filled_state, view_submission
from marketplace_slack_standins.faultproxy import Fault, FaultProxy
from marketplace_slack_standins.sandbox.server import SandboxServer
from marketplace_slack_standins.stage import Stage

FILE = r"/api/data-product/[^/]+/request$"
ANSWERS = {"Purpose": "Audit", "Regions needed": ["EU"]}


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


def _filed(stage: Stage) -> list[str]:
    state = stage.sandbox.state
    return [
        r.id
        for r in state.requests.values()
        if r.user.username == "rick" and state.products[r.product_id].name == "Customer 360"
    ]


@pytest.mark.parametrize("fault", [Fault.DROP_AFTER, Fault.STATUS_AFTER], ids=["answer lost", "5xx after"])
async def test_a_request_filed_whose_answer_was_lost_is_confirmed_once(
    stage: Stage, proxy: FaultProxy, fault: Fault
) -> None:
    await stage.link("rick")
    rick = Consumer(stage, "rick")
    await rick.command("request Customer 360")
    rule = proxy.fault(fault, method="POST", path=FILE, times=1)

    await rick.submit(ANSWERS)

    assert rule.fired == 1
    [request_id] = _filed(stage)  # filed once: the app looked, it did not send it again
    assert rick.modal()["callback_id"] == ids.REQUEST_STATUS_MODAL
    assert request_id in rick.modal_text() and "waiting for review" in rick.modal_text()


async def test_a_request_turned_away_before_anything_happened_is_said_and_can_be_asked_again(
    stage: Stage, proxy: FaultProxy
) -> None:
    await stage.link("rick")
    rick = Consumer(stage, "rick")
    await rick.command("request Customer 360")
    proxy.fault(Fault.RESET_BEFORE, method="POST", path=FILE, times=1)

    await rick.submit(ANSWERS)

    assert _filed(stage) == []
    assert "nothing was filed" in rick.modal_text()
    await rick.command("request Customer 360")
    await rick.submit(ANSWERS)
    assert len(_filed(stage)) == 1


async def test_a_submission_delivered_twice_files_once(stage: Stage) -> None:
    # A masking exception: the tenant itself would take a second one, so only the app can stop it.
    await stage.link("rick")
    rick = Consumer(stage, "rick")
    await rick.command("request Customer 360")
    await rick.pick_kind("MASKING_EXCEPTION")
    view = rick.modal()
    columns = next(
        b for b in view["blocks"] if (b.get("element") or {}).get("action_id") == ids.COLUMNS_INPUT
    )
    email = next(o["value"] for g in columns["element"]["option_groups"] for o in g["options"])
    answers = {**ANSWERS, "Masked columns to unmask": [email]}
    by_block = {rick.block_of(label): answer for label, answer in answers.items()}
    agreement = next(
        b for b in view["blocks"] if (b.get("element") or {}).get("action_id") == ids.AGREEMENT_INPUT
    )
    by_block[agreement["block_id"]] = [o["value"] for o in agreement["element"]["options"]]
    payload = view_submission(
        user_id=rick.user_id,
        team_id=stage.slack.team_id,
        view=view,
        state_values=filled_state(view, by_block),
    )

    for _ in range(2):
        await stage.agent.send_interaction(payload)
        await stage.settle()

    masking = [
        r
        for r in stage.sandbox.state.requests.values()
        if r.type == "MASKING_EXCEPTION" and r.user.username == "rick"
    ]
    assert len(masking) == 1


async def test_a_cancel_whose_answer_was_lost_is_reported_as_done(stage: Stage, proxy: FaultProxy) -> None:
    await stage.link("rick")
    rick = Consumer(stage, "rick")
    await rick.command("request Customer 360")
    await rick.submit(ANSWERS)
    [request_id] = _filed(stage)
    await rick.open_home()
    rule = proxy.fault(Fault.DROP_AFTER, method="DELETE", path=r"/api/access-request/[^/]+$", times=1)

    await rick.click_home(ids.CANCEL_REQUEST, request_id)

    assert rule.fired == 1
    assert stage.sandbox.state.requests[request_id].status == "CANCELED"
    told = [m.text for m in rick.dms()]
    assert "Your request for Customer 360 is canceled." in told  # looked up, not "would not cancel"
    assert not [t for t in told if "would not cancel" in t or "Canceled" in t]
