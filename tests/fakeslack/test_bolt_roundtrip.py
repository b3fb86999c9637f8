"""Slack's whole loop on loopback: a tiny Bolt app gets signed deliveries and answers through the fake."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from marketplace_slack_standins.fakeslack import (
    FakeSlack,
    SlackUserAgent,
    block_action,
    slash_command,
    url_verification,
    view_state,
    view_submission,
)
from marketplace_slack_standins.fakeslack.agent import Forgery

from .samples import card_blocks, modal_view

SECRET = "fake-signing-secret"


def tiny_app(slack: FakeSlack) -> AsyncApp:
    app = AsyncApp(
        client=AsyncWebClient(token=slack.bot_token, base_url=slack.base_url),
        signing_secret=SECRET,
        request_verification_enabled=True,
    )

    @app.action("mp_approve")
    async def approve(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        where = json.dumps({"channel": body["channel"]["id"], "ts": body["container"]["message_ts"]})
        await client.views_open(trigger_id=body["trigger_id"], view=modal_view(metadata=where))

    @app.view("mp_approve_modal")
    async def submitted(ack: AsyncAck, view: dict[str, Any], client: AsyncWebClient) -> None:
        reason = view["state"]["values"]["mp_reason"]["mp_reason_input"]["value"]
        if not reason:
            await ack(response_action="errors", errors={"mp_reason": "Say why"})
            return
        await ack()
        where = json.loads(view["private_metadata"])
        await client.chat_update(**where, text=f"Approved: {reason}", blocks=card_blocks()[:1])

    @app.command("/marketplace")
    async def command(ack: AsyncAck, respond: AsyncRespond) -> None:
        await ack()
        await respond("Your account is linked")

    return app


@pytest.fixture
async def events_url(slack: FakeSlack) -> AsyncIterator[str]:
    runner = web.AppRunner(tiny_app(slack).web_app(path="/slack/events"), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    yield f"http://{host}:{port}/slack/events"
    await runner.cleanup()


@pytest.fixture
async def agent(events_url: str, slack: FakeSlack) -> AsyncIterator[SlackUserAgent]:
    async with SlackUserAgent(events_url, SECRET, slack=slack) as user_agent:
        yield user_agent


async def post_card(slack: FakeSlack) -> str:
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.base_url)
    posted = await client.chat_postMessage(channel="C0STEWARDS", text="New request", blocks=card_blocks())
    return str(posted["ts"])


def click_approve(slack: FakeSlack, ts: str) -> dict[str, Any]:
    return block_action(
        user_id="U0SARA",
        team_id=slack.team_id,
        channel_id="C0STEWARDS",
        message_ts=ts,
        action_id="mp_approve",
        block_id="mp_card_actions",
        value="42",
        message_blocks=slack.message("C0STEWARDS", ts).blocks,
    )


async def test_click_opens_a_modal_and_submission_updates_the_card(
    slack: FakeSlack, agent: SlackUserAgent
) -> None:
    ts = await post_card(slack)

    clicked = await agent.send_interaction(click_approve(slack, ts))
    [opened] = await slack.wait_for("views.open")

    assert clicked.status == 200 and clicked.elapsed < 3
    assert opened.ok, opened.response
    [modal] = slack.views("U0SARA")

    empty = view_submission(user_id="U0SARA", team_id=slack.team_id, view=modal)
    refused = await agent.send_interaction(empty, past_the_client=True)
    assert refused.json() == {"response_action": "errors", "errors": {"mp_reason": "Say why"}}
    assert slack.view_errors(modal["id"]) == {"mp_reason": "Say why"}
    assert slack.views("U0SARA") == [modal]  # Slack keeps the modal open to show the error

    answered = view_submission(
        user_id="U0SARA",
        team_id=slack.team_id,
        view=modal,
        state_values=view_state(modal, {"mp_reason_input": "audit"}),
    )
    accepted = await agent.send_interaction(answered)
    [update] = await slack.wait_for("chat.update")

    assert accepted.status == 200 and update.ok
    assert slack.views("U0SARA") == []  # an empty ack closes the modal
    assert slack.message("C0STEWARDS", ts).text == "Approved: audit"
    assert slack.violations == []


@pytest.mark.parametrize("forge", ["wrong_secret", "stale_timestamp", "missing_headers", "missing_signature"])
async def test_forged_deliveries_are_refused(slack: FakeSlack, agent: SlackUserAgent, forge: Forgery) -> None:
    ts = await post_card(slack)
    refused = await agent.send_interaction(click_approve(slack, ts), forge=forge)
    assert refused.status == 401
    assert slack.calls_to("views.open") == []


async def test_slash_command_responds_through_the_fakes_response_url(
    slack: FakeSlack, agent: SlackUserAgent
) -> None:
    fields = slash_command(
        user_id="U0OMAR", team_id=slack.team_id, channel_id="C0GENERAL", command="/marketplace", text="link"
    )
    delivered = await agent.send_slash_command(fields)
    [responded] = await slack.wait_for("response_url")

    assert delivered.status == 200 and responded.ok
    [seen] = slack.ephemeral_messages("C0GENERAL", user="U0OMAR")
    assert seen.text == "Your account is linked"


async def test_url_verification_is_answered(agent: SlackUserAgent) -> None:
    challenge = url_verification()
    answered = await agent.send_event(challenge)
    assert answered.status == 200 and answered.json() == {"challenge": challenge["challenge"]}
