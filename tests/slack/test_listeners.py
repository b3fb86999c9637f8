"""The listeners on Slack's whole loop: signed deliveries from the fake Slack to a Bolt app, answers back.

The workflow is replaced by a recorder, so each test reads as "this click starts that call" or "this
click is refused in one sentence and starts nothing".
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from marketplace_slack.domain import RequestKind, Verdict
from marketplace_slack.infra.tasks import BackgroundTasks
from marketplace_slack.slack import ids, listeners
from marketplace_slack.slack.cards import render_card
from marketplace_slack.slack.reminders import reminder_message
from marketplace_slack.slack.views import approve_modal, link_modal
from marketplace_slack.workflow import sentences
from marketplace_slack.workflow.ports import ReminderNote
from marketplace_slack_standins.fakeslack import (
    FakeSlack,
    Grid,
    SlackUserAgent,
    block_action,
    event_callback,
    slash_command,
    view_state,
    view_submission,
)
from marketplace_slack_standins.stage import installed_as_declared, invite_everywhere

from .factories import NORA, NOW, pending_data_access

SECRET = "fake-signing-secret"
CHANNEL = "C0STEWARDS"


class Recorder:
    """Stands in for a part of the workflow: every method call is recorded as (name, kwargs)."""

    def __init__(self, calls: list[tuple[str, dict[str, Any]]]) -> None:
        self._calls = calls

    def __getattr__(self, name: str) -> Callable[..., Awaitable[None]]:
        async def record(*args: Any, **kwargs: Any) -> None:
            self._calls.append((name, {**dict(enumerate(args)), **kwargs}))

        return record


class PassThrough:
    """Stands in for `workflow.events`: records the event id the listener passed on, and acts every time
    (telling repeats apart is the workflow's job, tested in tests/workflow/test_events.py)."""

    def __init__(self, calls: list[tuple[str, dict[str, Any]]]) -> None:
        self._calls = calls

    async def once(self, event_id: str | None, action: Callable[[], Awaitable[None]]) -> bool:
        self._calls.append(("once", {0: event_id}))
        await action()
        return True


class Rig:
    def __init__(self, slack: FakeSlack) -> None:
        self.slack = slack
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.tasks = BackgroundTasks()
        self.app = AsyncApp(
            client=AsyncWebClient(token=slack.bot_token, base_url=slack.base_url),
            signing_secret=SECRET,
            process_before_response=True,
        )
        part: Any = Recorder(self.calls)
        listeners.register_cards(self.app, part, part, self.tasks, reminders=part)
        listeners.register_modals(self.app, part, part, self.tasks)
        listeners.register_commands(self.app, part, self.tasks, digests=part)
        listeners.register_events(self.app, part, PassThrough(self.calls), self.tasks)
        self.agent: SlackUserAgent

    async def card(self) -> tuple[str, list[dict[str, Any]]]:
        card = render_card(pending_data_access(), now=NOW)
        client = AsyncWebClient(token=self.slack.bot_token, base_url=self.slack.base_url)
        posted = await client.chat_postMessage(channel=CHANNEL, text=card.text, blocks=card.blocks)
        return str(posted["ts"]), card.blocks

    async def click(self, action_id: str, *, blocks: list[dict[str, Any]], ts: str, **extra: Any) -> int:
        payload = block_action(
            user_id="U0SARA",
            team_id=self.slack.team_id,
            channel_id=CHANNEL,
            message_ts=ts,
            action_id=action_id,
            message_blocks=blocks,
            **extra,
        )
        delivery = await self.agent.send_interaction(payload)
        await self.tasks.drain()
        return delivery.status

    async def submit(self, view: dict[str, Any], answers: dict[str, Any], *, grid: Grid | None = None) -> Any:
        payload = view_submission(
            user_id="U0SARA",
            team_id=self.slack.team_id,
            view=view,
            state_values=view_state(view, answers),
            grid=grid,
        )
        delivery = await self.agent.send_interaction(payload)
        await self.tasks.drain()
        return delivery.json() if delivery.body else None

    async def command(self, text: str, *, team_id: str | None = None, grid: Grid | None = None) -> None:
        fields = slash_command(
            user_id="U0SARA",
            team_id=team_id or self.slack.team_id,
            channel_id=CHANNEL,
            command=ids.SLASH_COMMAND,
            text=text,
            grid=grid,
        )
        await self.agent.send_slash_command(fields)
        await self.tasks.drain()

    def answers(self) -> list[str]:
        return [str(c.args.get("text")) for c in self.slack.calls_to("response_url")]


@pytest.fixture
async def rig(clock: Any) -> AsyncIterator[Rig]:
    async with FakeSlack(clock=clock, install=installed_as_declared()) as slack:
        invite_everywhere(slack)
        rig = Rig(slack)
        runner = web.AppRunner(rig.app.web_app(path="/slack/events"), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        async with SlackUserAgent(f"http://{host}:{port}/slack/events", SECRET, slack=slack) as agent:
            rig.agent = agent
            yield rig
        await runner.cleanup()


async def test_approve_hands_what_bolt_extracted_to_the_decisions(rig: Rig) -> None:
    ts, blocks = await rig.card()
    assert await rig.click(ids.APPROVE, blocks=blocks, ts=ts) == 200
    [(name, call)] = rig.calls
    assert name == "start"
    assert call["team_id"] == rig.slack.team_id and call["user_id"] == "U0SARA"
    assert call["request_id"] == "req-1001" and call["verdict"] is Verdict.APPROVE
    assert call["channel"] == CHANNEL and call["message_ts"] == ts and call["trigger_id"]
    assert call["duration_choice"] == "30:DAYS"  # the picker's preselection: the requested duration


async def test_the_cards_fresh_block_ids_are_matched_by_their_base(rig: Rig) -> None:
    ts, blocks = await rig.card()
    [actions] = [b for b in blocks if b.get("type") == "actions"]
    assert actions["block_id"] != ids.CARD_ACTIONS_BLOCK  # fresh per rendering
    assert ids.base_of(actions["block_id"]) == ids.CARD_ACTIONS_BLOCK
    assert await rig.click(ids.DENY, blocks=blocks, ts=ts) == 200
    assert await rig.click(ids.DURATION, blocks=blocks, ts=ts, value="7:DAYS") == 200  # acked, nothing to do
    assert [name for name, _ in rig.calls] == ["start"]
    actions["block_id"] = ids.CARD_ACTIONS_BLOCK + "_lookalike"
    assert await rig.click(ids.APPROVE, blocks=blocks, ts=ts) == 404  # a base, not a prefix


def _shown(view: dict[str, Any], base: str) -> str:
    """The id the view gives the block of `base` (input block ids are fresh per rendering)."""
    return next(b["block_id"] for b in view["blocks"] if ids.base_of(b.get("block_id", "")) == base)


async def test_a_click_without_a_request_id_is_answered_and_starts_nothing(rig: Rig) -> None:
    ts, blocks = await rig.card()
    for block in blocks:
        for element in block.get("elements") or []:
            if element.get("action_id") == ids.DENY:
                element["value"] = ""
    assert await rig.click(ids.DENY, blocks=blocks, ts=ts) == 200
    assert rig.calls == []
    assert rig.answers() == [sentences.BUTTON_WITHOUT_REQUEST.text]


async def test_snooze_hands_the_step_and_the_days_to_the_reminders(rig: Rig) -> None:
    note = ReminderNote(
        request_id="req-1001",
        record_id="st-1",
        product_name="Customer 360",
        kind=RequestKind.DATA_ACCESS,
        requester=NORA,
        waiting_since=NOW,
        recipients=("U0SARA",),
        number=1,
    )
    message = reminder_message(note, now=NOW, in_thread=False)
    client = AsyncWebClient(token=rig.slack.bot_token, base_url=rig.slack.base_url)
    posted = await client.chat_postMessage(channel=CHANNEL, text=message.text, blocks=message.blocks)
    assert await rig.click(ids.SNOOZE_3D, blocks=message.blocks, ts=str(posted["ts"])) == 200
    snoozed = {"user_id": "U0SARA", "record_id": "st-1", "days": 3, "channel": CHANNEL}
    assert rig.calls == [("snooze", snoozed)]


async def test_approve_outside_the_cards_action_block_is_not_ours(rig: Rig) -> None:
    ts, blocks = await rig.card()
    for block in blocks:
        if ids.base_of(block.get("block_id", "")) == ids.CARD_ACTIONS_BLOCK:
            block["block_id"] = "somewhere_else"
    assert await rig.click(ids.APPROVE, blocks=blocks, ts=ts) == 404  # Bolt: no listener matched
    assert rig.calls == []


async def test_the_link_form_uses_the_parser_its_tests_test(rig: Rig) -> None:
    view = link_modal(private_metadata=json.dumps({"c": CHANNEL}))
    refused = await rig.submit(view, {ids.TOKEN_INPUT: "abc def"})
    assert refused == {
        "response_action": "errors",
        "errors": {_shown(view, ids.TOKEN_BLOCK): sentences.TOKEN_HAS_SPACES.text},
    }
    assert rig.calls == []
    await rig.submit(view, {ids.TOKEN_INPUT: "  abc.def  "})
    [(name, call)] = rig.calls
    assert name == "complete_link" and call["token"].get_secret_value() == "abc.def"
    assert call["channel"] == CHANNEL and call["team_id"] == rig.slack.team_id


async def test_link_unlink_click_and_submit_key_the_link_by_one_team_whatever_the_payload_says(
    rig: Rig,
) -> None:
    """Bolt reads the team from `view.app_installed_team_id` in a modal, `team_id` in a command and
    `team.id` in a click: in an Enterprise Grid organisation these differ. The link is kept under
    the installation's team (auth.test), so the unlink finds it."""
    grid = Grid(installed_team_id="E0EXAMPLEORG", home_team_id="T0SARASHOME")
    await rig.submit(link_modal(private_metadata="{}"), {ids.TOKEN_INPUT: "abc.def"}, grid=grid)
    await rig.command("unlink", team_id="T0OTHERWORKSPACE", grid=grid)
    ts, blocks = await rig.card()
    await rig.click(ids.APPROVE, blocks=blocks, ts=ts)
    view = approve_modal("req-1", "Customer 360", initial_duration="7:DAYS", private_metadata='{"r": "r"}')
    await rig.submit(view, {}, grid=grid)
    assert [name for name, _ in rig.calls] == ["complete_link", "unlink", "start", "submit"]
    assert {call["team_id"] for _, call in rig.calls} == {rig.slack.team_id}


async def test_a_decision_form_that_names_no_request_is_refused_in_the_form(rig: Rig) -> None:
    view = approve_modal("req-1", "Customer 360", initial_duration="7:DAYS", private_metadata="{}")
    refused = await rig.submit(view, {})
    assert refused == {
        "response_action": "errors",
        "errors": {_shown(view, ids.REASON_BLOCK): sentences.FORM_WITHOUT_REQUEST.text},
    }
    assert rig.calls == []
    view["private_metadata"] = json.dumps({"r": "req-1", "c": CHANNEL})
    assert await rig.submit(view, {}) is None
    [(name, call)] = rig.calls
    assert name == "submit" and call["decision"].verdict is Verdict.APPROVE
    # The context goes to the workflow as Slack returned it: checking its signature is the workflow's.
    assert call["context"] == view["private_metadata"] and call["user_id"] == "U0SARA"


async def test_the_command_answers_in_one_escaped_sentence_or_hands_off(rig: Rig) -> None:
    await rig.command("help")
    await rig.command("<!channel>")
    assert rig.answers() == [sentences.HELP.text, 'I don\'t know "&lt;!channel&gt;". Try /marketplace help.']
    await rig.command("unlink")
    await rig.command("digest")
    assert [(n, c.get("user_id"), c.get("channel")) for n, c in rig.calls] == [
        ("unlink", "U0SARA", CHANNEL),
        ("post_now", "U0SARA", CHANNEL),
    ]


async def test_uninstalling_forgets_the_workspace(rig: Rig) -> None:
    await rig.agent.send_event(
        event_callback({"type": "app_uninstalled"}, team_id=rig.slack.team_id, event_id="Ev0UNINSTALL")
    )
    await rig.tasks.drain()
    assert rig.calls == [("once", {0: "Ev0UNINSTALL"}), ("forget_workspace", {0: rig.slack.team_id})]
