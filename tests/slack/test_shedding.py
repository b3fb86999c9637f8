"""A click the app has no room for: acked, answered "busy" to its clicker alone, and nothing started.

The listeners run on Slack's whole loop (signed deliveries from the fake Slack to a Bolt app); the
workflow is a recorder, and the background is full: one turn, no queue, and that turn held by a task
that waits on a gate until the test opens it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from marketplace_slack.infra.tasks import BackgroundTasks
from marketplace_slack.slack import ids, listeners
from marketplace_slack.slack.cards import render_card
from marketplace_slack.slack.handoff import BusyTeller
from marketplace_slack.slack.request_listeners import register_requests
from marketplace_slack.slack.views import approve_modal
from marketplace_slack.workflow import sentences
from marketplace_slack_standins.fakeslack import (
    FakeSlack,
    SlackUserAgent,
    block_action,
    global_shortcut,
    slash_command,
    view_state,
    view_submission,
)
from marketplace_slack_standins.stage import installed_as_declared, invite_everywhere

from .factories import NOW, pending_data_access
from .test_listeners import Recorder

SECRET = "fake-signing-secret"
CHANNEL = "C0STEWARDS"


class Full:
    def __init__(self, slack: FakeSlack, agent: SlackUserAgent, tasks: BackgroundTasks) -> None:
        self.slack, self.agent, self.tasks = slack, agent, tasks
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.gate = asyncio.Event()

    def fill(self) -> None:
        assert self.tasks.offer(self.gate.wait(), name="someone-elses-click") is not None
        assert self.tasks.full

    async def empty(self) -> None:
        self.gate.set()
        await self.tasks.drain()

    async def card(self) -> tuple[str, list[dict[str, Any]]]:
        card = render_card(pending_data_access(), now=NOW)
        client = AsyncWebClient(token=self.slack.bot_token, base_url=self.slack.base_url)
        posted = await client.chat_postMessage(channel=CHANNEL, text=card.text, blocks=card.blocks)
        return str(posted["ts"]), card.blocks

    def busy_answers(self) -> list[str]:
        return [str(c.args.get("text")) for c in self.slack.calls_to("response_url")]


@pytest.fixture
async def full(clock: Any) -> AsyncIterator[Full]:
    async with FakeSlack(clock=clock, install=installed_as_declared()) as slack:
        invite_everywhere(slack)
        tasks = BackgroundTasks(concurrency=1, queue=0)
        app = AsyncApp(
            client=AsyncWebClient(token=slack.bot_token, base_url=slack.base_url),
            signing_secret=SECRET,
            process_before_response=True,
        )
        runner = web.AppRunner(app.web_app(path="/slack/events"), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        async with SlackUserAgent(f"http://{host}:{port}/slack/events", SECRET, slack=slack) as agent:
            rig = Full(slack, agent, tasks)
            part: Any = Recorder(rig.calls)
            busy = BusyTeller(replies=part)
            listeners.register_cards(app, part, part, tasks, reminders=part, busy=busy)
            listeners.register_modals(app, part, part, tasks)
            listeners.register_commands(app, part, tasks, digests=part, busy=busy)
            register_requests(app, part, tasks, busy=busy)
            yield rig
            await busy.aclose()
        await rig.empty()
        await runner.cleanup()


async def test_a_click_with_no_room_is_acked_told_busy_and_starts_nothing(full: Full) -> None:
    ts, blocks = await full.card()
    full.fill()
    payload = block_action(
        user_id="U0SARA",
        team_id=full.slack.team_id,
        channel_id=CHANNEL,
        message_ts=ts,
        action_id=ids.APPROVE,
        message_blocks=blocks,
    )
    delivery = await full.agent.send_interaction(payload)
    assert delivery.status == 200
    await full.empty()
    assert full.calls == []  # nothing of the click was done, not even later
    assert full.busy_answers() == [sentences.BUSY.text]
    [told] = full.slack.calls_to("response_url")
    assert told.args.get("response_type") == "ephemeral" and not told.args.get("replace_original")
    assert full.tasks.shed == 1 and full.tasks.failures == 0
    # With room again, the same click is taken.
    assert (await full.agent.send_interaction(payload)).status == 200
    await full.tasks.drain()
    assert [name for name, _ in full.calls] == ["start"]


async def test_a_click_without_a_response_url_is_told_through_the_replies(full: Full) -> None:
    """App Home's buttons carry no response_url: the Replies port whispers (or DMs) the sentence."""
    ts, blocks = await full.card()
    full.fill()
    payload = block_action(
        user_id="U0SARA",
        team_id=full.slack.team_id,
        channel_id=CHANNEL,
        message_ts=ts,
        action_id=ids.APPROVE,
        message_blocks=blocks,
    )
    del payload["response_url"]
    assert (await full.agent.send_interaction(payload)).status == 200
    await full.empty()
    assert full.calls == [("tell", {"user_id": "U0SARA", "channel": CHANNEL, "sentence": sentences.BUSY})]


async def test_a_request_shortcut_with_no_room_is_told_busy_and_opens_nothing(full: Full) -> None:
    full.fill()
    payload = global_shortcut(user_id="U0RICK", team_id=full.slack.team_id, callback_id=ids.REQUEST_SHORTCUT)
    assert (await full.agent.send_interaction(payload)).status == 200
    await full.empty()
    # No channel and no response_url: the Replies port tells them (a DM, where the channel is None).
    assert full.calls == [("tell", {"user_id": "U0RICK", "channel": None, "sentence": sentences.BUSY})]
    assert full.tasks.shed == 1


async def test_a_command_with_no_room_is_told_busy(full: Full) -> None:
    full.fill()
    for text in ("digest", "unlink", "link"):
        fields = slash_command(
            user_id="U0SARA",
            team_id=full.slack.team_id,
            channel_id=CHANNEL,
            command=ids.SLASH_COMMAND,
            text=text,
        )
        assert (await full.agent.send_slash_command(fields)).status == 200
    await full.empty()
    assert full.calls == []
    assert full.busy_answers() == [sentences.BUSY.text] * 3
    assert full.tasks.shed == 3


async def test_a_submitted_form_is_never_refused_it_waits_for_its_turn(full: Full) -> None:
    """Its click was let in, and the steward typed the reason: refusing it would throw that away."""
    full.fill()
    view = approve_modal(
        "req-1", "Customer 360", initial_duration="7:DAYS", private_metadata='{"r": "req-1"}'
    )
    payload = view_submission(
        user_id="U0SARA", team_id=full.slack.team_id, view=view, state_values=view_state(view, {})
    )
    delivery = await full.agent.send_interaction(payload)
    assert delivery.status == 200 and not delivery.body  # the modal closes as usual
    assert full.calls == []  # not yet: the one turn is taken
    await full.empty()
    assert [name for name, _ in full.calls] == ["submit"]
    assert full.busy_answers() == [] and full.tasks.shed == 0
