"""A catalogue sentence that names someone reaches each surface as a real mention, and nothing else does.

"Someone else is deciding" names the steward holding the claim, who may be working through another
replica: the person told reads that steward as a mention wherever the answer lands (ephemeral, the DM
fallback, the modal), never the placeholder and never a mention made of other words.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from marketplace_slack.domain import Verdict
from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.slack.messenger import SlackMessenger
from marketplace_slack.workflow import sentences
from marketplace_slack.workflow.sentences import MENTION, Outcome, Sentence
from marketplace_slack_standins.fakeslack import FakeSlack
from marketplace_slack_standins.fakeslack.server import RecordedCall
from marketplace_slack_standins.stage import installed_as_declared, invite_everywhere

SARA, OMAR = "U0SARA", "U0OMAR"
DECIDING = sentences.someone_deciding(OMAR)
READ = "@omar is deciding this step right now."


@pytest.fixture
async def slack(clock: FakeClock) -> AsyncIterator[FakeSlack]:
    async with FakeSlack(clock=clock, install=installed_as_declared()) as running:
        invite_everywhere(running)
        yield running


def _messenger(slack: FakeSlack, clock: FakeClock) -> SlackMessenger:
    return SlackMessenger(AsyncWebClient(token=slack.bot_token, base_url=slack.base_url), clock)


def _read(slack: FakeSlack, call: RecordedCall) -> str:
    """What the person reads: the call's message or modal as the stand-in renders it."""
    return slack.describe(call).split("\n", 1)[1]


def _mentions(call: RecordedCall) -> list[str]:
    blob = str(call.args.get("blocks") or call.args.get("view") or "") + str(call.args.get("text") or "")
    return [part.split(">", 1)[0] for part in blob.split("<@")[1:]]


@pytest.mark.parametrize(
    ("channel", "method"),
    [("C0STEWARDS", "chat.postEphemeral"), (None, "chat.postMessage"), ("C0NOWHERE", "chat.postMessage")],
    ids=["ephemeral in the channel", "a DM when there is no channel", "the DM fallback"],
)
async def test_someone_deciding_mentions_the_holder_wherever_the_answer_lands(
    slack: FakeSlack, clock: FakeClock, channel: str | None, method: str
) -> None:
    await _messenger(slack, clock).tell(user_id=SARA, channel=channel, sentence=DECIDING)
    [call] = [c for c in slack.calls_to(method) if c.ok]
    assert _read(slack, call).strip() == READ
    assert MENTION not in str(call.args) and set(_mentions(call)) == {OMAR}
    if method == "chat.postMessage":
        assert call.response["channel"] == slack.dm_channel(SARA)
    assert slack.violations == []


async def test_someone_deciding_in_the_modal_mentions_the_holder(slack: FakeSlack, clock: FakeClock) -> None:
    messenger = _messenger(slack, clock)
    modal = await messenger.open_pending(slack.issue_trigger_id(SARA), Verdict.APPROVE)
    assert modal is not None
    await messenger.show_refusal(modal, Verdict.APPROVE, DECIDING)
    [update] = slack.calls_to("views.update")
    assert READ in _read(slack, update)
    assert MENTION not in str(update.args) and set(_mentions(update)) == {OMAR}


async def test_only_the_sentences_own_mention_is_made(slack: FakeSlack, clock: FakeClock) -> None:
    """A name in the words (from the Marketplace) never becomes a mention; a bad id becomes "someone"."""
    forged = Sentence(Outcome.SOMEONE_DECIDING, f"<@U0ADMIN> <!channel> {MENTION} is deciding.", mention=OMAR)
    bad_id = sentences.someone_deciding("not-a-slack-id")
    messenger = _messenger(slack, clock)
    await messenger.tell(user_id=SARA, channel="C0STEWARDS", sentence=forged)
    await messenger.tell(user_id=SARA, channel="C0STEWARDS", sentence=bad_id)
    first, second = slack.calls_to("chat.postEphemeral")
    assert _mentions(first) == [OMAR] * len(_mentions(first)) and "<!channel>" not in str(first.args)
    assert _read(slack, second).strip() == "someone is deciding this step right now."
