"""A self-service flow's whole loop on loopback: a tiny Bolt app gets a shortcut, loads options, updates
its modal on a click, reads the submission and unfurls a shared link, all through the fake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from marketplace_slack.infra.clock import FakeClock
from marketplace_slack_standins.fakeslack import (
    DEFAULT_CHANNELS,
    FakeSlack,
    Install,
    SlackUserAgent,
    block_suggestion,
    global_shortcut,
    view_block_action,
    view_state,
    view_submission,
)
from marketplace_slack_standins.fakeslack.install import DEFAULT_SCOPES

from .self_service_samples import request_modal

SECRET = "fake-signing-secret"
LINK = "https://market.example.com/p/7"
PRODUCTS = {"p7": "Sales Orders", "p8": "Sales Leads", "p9": "Payroll"}


def tiny_app(slack: FakeSlack) -> AsyncApp:
    app = AsyncApp(
        client=AsyncWebClient(token=slack.bot_token, base_url=slack.base_url),
        signing_secret=SECRET,
        request_verification_enabled=True,
    )

    @app.shortcut("mp_new_request")
    async def new_request(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=request_modal("draft"))

    @app.options("product_pick")
    async def products(ack: AsyncAck, body: dict[str, Any]) -> None:
        typed = body["value"].casefold()
        found = [(v, name) for v, name in PRODUCTS.items() if name.casefold().startswith(typed)]
        await ack(options=[{"text": {"type": "plain_text", "text": name}, "value": v} for v, name in found])

    @app.action("refresh_form")
    async def refresh(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        view = body["view"]
        await client.views_update(view_id=view["id"], hash=view["hash"], view=request_modal("refreshed"))

    @app.view("mp_request_modal")
    async def submitted(
        ack: AsyncAck, view: dict[str, Any], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        values = view["state"]["values"]
        product = values["product"]["product_pick"]["selected_option"]["text"]["text"]
        days = values["days"]["days_input"]["value"]
        await client.chat_postMessage(channel=body["user"]["id"], text=f"Requested {product} for {days} days")

    @app.event("link_shared")
    async def unfurl(event: dict[str, Any], client: AsyncWebClient) -> None:
        previews = {
            link["url"]: {
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*Sales Orders*"}}]
            }
            for link in event["links"]
        }
        await client.chat_unfurl(channel=event["channel"], ts=event["message_ts"], unfurls=previews)

    return app


@pytest.fixture
async def slack(clock: FakeClock) -> AsyncIterator[FakeSlack]:
    install = Install(
        scopes=set(DEFAULT_SCOPES | {"links:read", "links:write"}),
        messages_tab_enabled=True,
        bot_events={"link_shared"},
        unfurl_domains={"market.example.com"},
    )
    async with FakeSlack(clock=clock, install=install) as fake:
        for channel in DEFAULT_CHANNELS:
            fake.invite(channel.id)
        yield fake


@pytest.fixture
async def agent(slack: FakeSlack) -> AsyncIterator[SlackUserAgent]:
    runner = web.AppRunner(tiny_app(slack).web_app(path="/slack/events"), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    async with SlackUserAgent(f"http://{host}:{port}/slack/events", SECRET, slack=slack) as user_agent:
        yield user_agent
    await runner.cleanup()


async def test_shortcut_options_click_and_submission(slack: FakeSlack, agent: SlackUserAgent) -> None:
    ran = await agent.send_interaction(
        global_shortcut(user_id="U0SARA", team_id=slack.team_id, callback_id="mp_new_request")
    )
    [opened] = await slack.wait_for("views.open")
    assert ran.status == 200 and opened.ok, opened.response
    [modal] = slack.views("U0SARA")

    loaded = await agent.send_interaction(
        block_suggestion(
            user_id="U0SARA",
            team_id=slack.team_id,
            view=modal,
            action_id="product_pick",
            block_id=None,
            value="sal",
        )
    )
    offered = loaded.json()["options"]
    assert [o["value"] for o in offered] == ["p7", "p8"]

    clicked = await agent.send_interaction(
        view_block_action(user_id="U0SARA", team_id=slack.team_id, view=modal, action_id="refresh_form")
    )
    [updated] = await slack.wait_for("views.update")
    assert clicked.status == 200 and updated.ok, updated.response
    [modal] = slack.views("U0SARA")
    assert modal["private_metadata"] == "refreshed"

    answers = {
        "product_pick": offered[0],
        "purpose_pick": "audit",
        "terms_check": ["accept"],
        "manager_pick": "U0GINA",
        "days_input": "30",
        "reason_input": "quarterly audit",
    }
    submitted = await agent.send_interaction(
        view_submission(
            user_id="U0SARA", team_id=slack.team_id, view=modal, state_values=view_state(modal, answers)
        )
    )
    [posted] = await slack.wait_for("chat.postMessage")
    assert submitted.status == 200 and posted.ok
    assert slack.messages(slack.dm_channel("U0SARA"))[-1].text == "Requested Sales Orders for 30 days"
    assert slack.views("U0SARA") == []
    assert slack.violations == []


async def test_a_shared_link_is_unfurled(slack: FakeSlack, agent: SlackUserAgent) -> None:
    body = slack.share_links("U0OMAR", "C0GENERAL", [LINK])
    assert body is not None

    delivered = await agent.send_event(body)
    [unfurled] = await slack.wait_for("chat.unfurl")

    assert delivered.status == 200 and unfurled.ok, unfurled.response
    previews = slack.unfurls("C0GENERAL", body["event"]["message_ts"])
    assert previews[LINK]["blocks"][0]["text"]["text"] == "*Sales Orders*"
    assert slack.violations == []
