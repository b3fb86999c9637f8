"""The Modals port over loopback HTTP against the stand-in Slack: open at once, then update in place."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from structlog.testing import capture_logs

from marketplace_slack.domain import Verdict
from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.slack import ids
from marketplace_slack.slack.messenger import SlackMessenger
from marketplace_slack.workflow import sentences
from marketplace_slack_standins.fakeslack import FakeSlack
from marketplace_slack_standins.stage import installed_as_declared

from .factories import pending_data_access

USER = "U0SARA"


@pytest.fixture
async def slack(clock: FakeClock) -> AsyncIterator[FakeSlack]:
    async with FakeSlack(clock=clock, install=installed_as_declared()) as running:
        yield running


def _messenger(slack: FakeSlack, clock: FakeClock) -> SlackMessenger:
    return SlackMessenger(AsyncWebClient(token=slack.bot_token, base_url=slack.base_url), clock)


def _shown(slack: FakeSlack) -> dict[str, Any]:
    [view] = slack.views(USER)
    return view


async def test_the_pending_modal_turns_into_the_form_with_the_views_hash(
    slack: FakeSlack, clock: FakeClock
) -> None:
    messenger = _messenger(slack, clock)
    modal = await messenger.open_pending(slack.issue_trigger_id(USER), Verdict.APPROVE)
    assert modal is not None and modal.view_id and modal.hash
    assert _shown(slack)["callback_id"] == ids.PENDING_MODAL

    request = pending_data_access().request
    await messenger.show_decision_form(
        modal, request, Verdict.APPROVE, initial_duration="7:DAYS", context="{}"
    )

    [update] = slack.calls_to("views.update")
    assert update.ok and update.args["view_id"] == modal.view_id and update.args["hash"] == modal.hash
    view = _shown(slack)
    assert view["id"] == modal.view_id and view["callback_id"] == ids.APPROVE_MODAL
    assert slack.violations == []


async def test_a_trigger_slack_will_not_take_gives_no_modal_and_no_exception(
    slack: FakeSlack, clock: FakeClock
) -> None:
    messenger = _messenger(slack, clock)
    trigger = slack.issue_trigger_id(USER)
    assert await messenger.open_pending(trigger, Verdict.DENY) is not None
    with capture_logs() as logs:
        assert await messenger.open_pending(trigger, Verdict.DENY) is None  # exchanged already
        assert await messenger.open_pending("1.2.3", Verdict.DENY) is None  # never issued
    assert [(e["event"], e["error"]) for e in logs] == [
        ("modal_not_opened", "exchanged_trigger_id"),
        ("modal_not_opened", "invalid_trigger_id"),
    ]


async def test_a_modal_that_changed_meanwhile_is_not_overwritten(slack: FakeSlack, clock: FakeClock) -> None:
    messenger = _messenger(slack, clock)
    modal = await messenger.open_pending(slack.issue_trigger_id(USER), Verdict.APPROVE)
    assert modal is not None
    await messenger.show_refusal(modal, Verdict.APPROVE, sentences.NOT_AN_APPROVER)  # its hash is now old
    with capture_logs() as logs:
        await messenger.show_link_form(modal, sentences.LINK_FIRST, context="{}")
    assert [(e["event"], e["error"]) for e in logs] == [("modal_not_updated", "hash_conflict")]
    view = _shown(slack)
    assert view["callback_id"] == ids.REFUSAL_MODAL and sentences.NOT_AN_APPROVER.text in str(view["blocks"])
