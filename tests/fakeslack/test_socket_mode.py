"""The stand-in's Socket Mode, with slack-sdk's own aiohttp SocketModeClient as the app on the other end."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from marketplace_slack_standins.fakeslack import FakeSlack, block_action, event_callback, slash_command

PAYLOADS = Path(__file__).parents[1] / "data" / "slack-payloads"
SHORT = 0.2  # the ack deadline in these tests; Slack's is 3 s


class App:
    """A Socket Mode app that records every frame and request, and acks unless told not to."""

    def __init__(self, slack: FakeSlack) -> None:
        self.client = SocketModeClient(
            app_token=slack.socket_mode.app_token,
            web_client=AsyncWebClient(base_url=slack.base_url),
            ping_interval=1,
        )
        self.frames: list[dict[str, Any]] = []
        self.requests: list[SocketModeRequest] = []
        self.answer: dict[str, Any] | None = None
        self.silent = False
        self._changed = asyncio.Condition()
        self.client.message_listeners.append(self._on_frame)
        self.client.socket_mode_request_listeners.append(self._on_request)

    async def _on_frame(self, _: Any, message: dict[str, Any], raw: str | None) -> None:
        async with self._changed:
            self.frames.append(message)
            self._changed.notify_all()

    async def frame(self, kind: str) -> dict[str, Any]:
        """The first frame of `kind` the client has handed to its listeners (waiting for it)."""
        async with asyncio.timeout(5), self._changed:
            await self._changed.wait_for(lambda: any(f.get("type") == kind for f in self.frames))
        return next(f for f in self.frames if f.get("type") == kind)

    async def _on_request(self, client: Any, request: SocketModeRequest) -> None:
        self.requests.append(request)
        if not self.silent:
            response = SocketModeResponse(envelope_id=request.envelope_id, payload=self.answer)
            await client.send_socket_mode_response(response)


@pytest.fixture
async def app(slack: FakeSlack) -> AsyncIterator[App]:
    slack.socket_mode.ack_timeout = SHORT
    peer = App(slack)
    await peer.client.connect()
    await slack.socket_mode.wait_connected()
    yield peer
    await peer.client.close()


def _command(slack: FakeSlack, text: str = "help") -> dict[str, str]:
    return slash_command(
        user_id="U0SARA", team_id=slack.team_id, channel_id="C0STEWARDS", command="/marketplace", text=text
    )


async def test_connections_open_takes_only_the_app_level_token(slack: FakeSlack) -> None:
    web = AsyncWebClient(base_url=slack.base_url)
    for token, error in [
        (slack.bot_token, "not_allowed_token_type"),
        ("xapp-1-A0MARKET-9999-someone-else", "invalid_auth"),
        ("", "not_authed"),
    ]:
        with pytest.raises(SlackApiError) as refused:
            await web.apps_connections_open(app_token=token)
        assert refused.value.response["error"] == error
    opened = await web.apps_connections_open(app_token=slack.socket_mode.app_token)
    port = urlsplit(slack.base_url).port
    assert str(opened["url"]).startswith(f"ws://127.0.0.1:{port}/link/?ticket=")
    assert [c.error for c in slack.calls_to("apps.connections.open")] == [
        "not_allowed_token_type",
        "invalid_auth",
        "not_authed",
        None,
    ]


async def test_a_link_url_works_once(slack: FakeSlack) -> None:
    web = AsyncWebClient(base_url=slack.base_url)
    url = str((await web.apps_connections_open(app_token=slack.socket_mode.app_token))["url"])
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as first:
        hello = json.loads((await first.receive()).data)
        assert hello["type"] == "hello"
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(url)
        assert refused.value.status == 401
    assert slack.socket_mode.refused


async def test_the_link_says_hello_first(slack: FakeSlack, app: App) -> None:
    hello = await app.frame("hello")
    assert app.frames[0] is hello
    assert hello["type"] == "hello"
    assert hello["num_connections"] == 1
    assert hello["connection_info"] == {"app_id": "A0MARKET"}
    assert {"host", "build_number", "approximate_connection_time"} <= set(hello["debug_info"])
    assert await app.client.is_connected()


async def test_envelopes_of_each_kind_are_delivered_and_their_acks_recorded(
    slack: FakeSlack, app: App
) -> None:
    link = slack.socket_mode
    event = event_callback({"type": "app_uninstalled"}, team_id=slack.team_id)
    click = block_action(
        user_id="U0SARA",
        team_id=slack.team_id,
        channel_id="C0STEWARDS",
        message_ts="1700000000.000100",
        action_id="approve",
        message_blocks=[
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "approve",
                        "text": {"type": "plain_text", "text": "Approve"},
                    }
                ],
            }
        ],
    )
    sent = [
        await link.deliver("events_api", event),
        await link.deliver("interactive", click),
        await link.deliver("slash_commands", _command(slack)),
    ]
    acks = [await link.wait_ack(envelope) for envelope in sent]

    assert [(r.type, r.envelope_id) for r in app.requests] == [(e.kind, e.envelope_id) for e in sent]
    assert [r.payload for r in app.requests] == [event, click, _without_url(_command(slack), app)]
    assert [r.accepts_response_payload for r in app.requests] == [False, False, True]
    assert (app.requests[0].retry_attempt, app.requests[0].retry_reason) == (0, "")
    assert app.requests[1].retry_attempt is None  # only Events API envelopes count attempts
    assert all(not ack.late and ack.connection == 1 for ack in acks)
    assert link.stray == []


def _without_url(fields: dict[str, str], app: App) -> dict[str, str]:
    # Each slash_command() call makes a new response_url and trigger_id; compare with what was sent.
    sent = app.requests[2].payload
    return {**fields, "response_url": sent["response_url"], "trigger_id": sent["trigger_id"]}


async def test_an_ack_can_answer(slack: FakeSlack, app: App) -> None:
    app.answer = {"response_action": "errors", "errors": {"reason": "Say why."}}
    envelope = await slack.socket_mode.deliver("interactive", {"type": "view_submission", "view": {}})
    ack = await slack.socket_mode.wait_ack(envelope)
    assert envelope.accepts_response_payload
    assert ack.payload == app.answer


async def test_an_unacked_event_is_sent_again_with_the_attempt_counted(slack: FakeSlack, app: App) -> None:
    link = slack.socket_mode
    link.max_retries = 2
    app.silent = True
    envelope = await link.deliver(
        "events_api", event_callback({"type": "tokens_revoked"}, team_id="T0MARKET")
    )
    await link.wait_settled(envelope)

    assert [(r.retry_attempt, r.retry_reason) for r in app.requests] == [
        (0, ""),
        (1, "timeout"),
        (2, "timeout"),
    ]
    assert {r.envelope_id for r in app.requests} == {envelope.envelope_id}
    assert envelope.timed_out and envelope.ack is None


async def test_a_lost_ack_brings_the_event_back_once(slack: FakeSlack, app: App) -> None:
    link = slack.socket_mode
    link.lose_next_acks(1)
    envelope = await link.deliver(
        "events_api", event_callback({"type": "tokens_revoked"}, team_id="T0MARKET")
    )
    ack = await link.wait_ack(envelope)

    assert [r.retry_attempt for r in app.requests] == [0, 1]
    assert not ack.late and link.acks == [ack]


async def test_an_unacked_interaction_is_not_sent_again(slack: FakeSlack, app: App) -> None:
    app.silent = True
    envelope = await slack.socket_mode.deliver("slash_commands", _command(slack))
    await slack.socket_mode.wait_settled(envelope)
    assert envelope.timed_out and len(app.requests) == 1


async def test_a_late_ack_is_recorded_as_late(slack: FakeSlack, app: App) -> None:
    app.silent = True
    envelope = await slack.socket_mode.deliver("interactive", {"type": "block_actions", "actions": []})
    await slack.socket_mode.wait_settled(envelope)
    await app.client.send_socket_mode_response(SocketModeResponse(envelope_id=envelope.envelope_id))
    ack = await slack.socket_mode.wait_ack(envelope)
    assert ack.late


async def test_refresh_requested_moves_the_app_to_a_new_link(slack: FakeSlack, app: App) -> None:
    link = slack.socket_mode
    first = link.connections[0]
    await link.disconnect("refresh_requested")
    second = await link.wait_connected(2)
    await link.wait_closed(first)

    assert len(slack.calls_to("apps.connections.open")) == 2
    assert [f["type"] for f in first.frames] == ["hello", "disconnect"]
    assert first.frames[1]["reason"] == "refresh_requested"
    envelope = await link.deliver("slash_commands", _command(slack))
    ack = await link.wait_ack(envelope)
    assert ack.connection == second.id
    assert envelope.deliveries == [second.id]


async def test_a_warning_keeps_the_link_in_use(slack: FakeSlack) -> None:
    link = slack.socket_mode
    url = str(
        (await AsyncWebClient(base_url=slack.base_url).apps_connections_open(app_token=link.app_token))["url"]
    )
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as socket:
        await socket.receive()  # hello
        await link.wait_connected()
        await link.disconnect("warning")
        assert json.loads((await socket.receive()).data)["reason"] == "warning"
        envelope = await link.deliver("slash_commands", _command(slack))
        assert json.loads((await socket.receive()).data)["envelope_id"] == envelope.envelope_id


async def test_slack_closes_a_link_the_app_keeps_after_disconnect(slack: FakeSlack) -> None:
    link = slack.socket_mode
    link.close_grace = SHORT
    url = str(
        (await AsyncWebClient(base_url=slack.base_url).apps_connections_open(app_token=link.app_token))["url"]
    )
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as socket:
        await socket.receive()  # hello
        connection = await link.wait_connected()
        await link.disconnect("link_disabled")
        assert json.loads((await socket.receive()).data)["reason"] == "link_disabled"
        closing = await asyncio.wait_for(socket.receive(), timeout=5)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    await link.wait_closed(connection)


async def test_a_large_envelope_arrives_whole(slack: FakeSlack, app: App) -> None:
    sample = json.loads((PAYLOADS / "block_actions_static_select.socket_envelope.json").read_text())
    envelope = await slack.socket_mode.deliver("interactive", sample["payload"])
    await slack.socket_mode.wait_ack(envelope)
    assert app.requests[-1].payload == sample["payload"]
    assert not envelope.accepts_response_payload  # as in the sample from Slack
