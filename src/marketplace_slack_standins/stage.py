"""Everything on loopback: the Marketplace sandbox, a stand-in Slack, and the app wired between them.

The demo, the end-to-end tests and the benchmarks all run this same stage, so what the demo shows is
what the tests check. People act through it the way they would for real: requesters call the
Marketplace API with their own tokens; stewards click signed Slack payloads.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from pydantic import SecretStr

from marketplace_slack.app import Application, build
from marketplace_slack.config import Settings
from marketplace_slack.infra.clock import Clock, FakeClock, SystemClock
from marketplace_slack.marketplace import models as wire
from marketplace_slack.marketplace.client import MarketplaceClient
from marketplace_slack.marketplace.registration import register_webhook
from marketplace_slack.slack import ids
from marketplace_slack_standins.fakeslack import (
    FakeSlack,
    Install,
    RecordedCall,
    SlackUserAgent,
    block_action,
    slash_command,
    view_state,
    view_submission,
)
from marketplace_slack_standins.fakeslack.agent import Delivery
from marketplace_slack_standins.fakeslack.payloads import interactive_elements
from marketplace_slack_standins.fakeslack.socket_mode import SocketModeAgent
from marketplace_slack_standins.sandbox.server import SandboxServer

SIGNING_SECRET = "stage-signing-secret"  # noqa: S105 - a loopback-only stand-in, not a credential
WEBHOOK_KEY = "stage-webhook-key"
STEWARDS_CHANNEL = "C0STEWARDS"
# The checkout's manifest; an installed package has none and gets the stand-in's default install.
MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"

Agent = SlackUserAgent | SocketModeAgent  # Slack's side over HTTP, or over the app's Socket Mode link


@dataclass
class Stage:
    sandbox: SandboxServer
    slack: FakeSlack
    app: Application
    agent: Agent
    clock: Clock
    reconcile: bool = False
    # Slack ids found by email, kept: someone whose Slack email changes is still the same person.
    slack_ids: dict[str, str] = dataclasses.field(default_factory=dict)

    # --- the Marketplace side -------------------------------------------------------------------

    def marketplace_as(self, username: str) -> MarketplaceClient:
        return self.app.marketplace.with_token(SecretStr(self.sandbox.token_for(username)))

    async def product_id(self, name: str) -> str:
        return (await self.app.marketplace.get_data_product_by_name(name)).id

    async def request_access(
        self, username: str, product: str, *, form: dict[str, Any] | None = None, for_user: str | None = None
    ) -> str:
        """`username` asks for access to `product` (by name) in the Marketplace; returns the request id."""
        client = self.marketplace_as(username)
        product_id = await self.product_id(product)
        target = self.sandbox.state.users[for_user or username]
        if form is None:
            form = await self.default_answers(product_id)
        created = await client.request_access(
            product_id, wire.CreateAccessRequest(user=target.global_user_id, form=form)
        )
        return created.id

    async def default_answers(
        self, product_id: str, *, duration: tuple[int, str] = (30, "DAYS")
    ) -> dict[str, Any]:
        """Plausible answers to the product's current data-access form."""
        return plausible_answers(await self.app.marketplace.get_request_forms(product_id), duration=duration)

    # --- the Slack side -------------------------------------------------------------------------

    def slack_user(self, username: str) -> str:
        """The Slack user id of a seeded person, matched by email as the app does."""
        if username in self.slack_ids:
            return self.slack_ids[username]
        email = (self.sandbox.state.users[username].email or "").casefold()
        for user in self.slack.users:
            if (user.email or "").casefold() == email:
                self.slack_ids[username] = str(user.id)
                return str(user.id)
        raise KeyError(f"{username} has no Slack account on the stage")

    async def change_slack_user(
        self, username: str, *, announce: bool = True, **changes: Any
    ) -> Delivery | None:
        """Change `username`'s Slack account (`email=`, `deleted=True`, `is_restricted=True`...); with
        `announce`, Slack's `user_change` event reaches the app (if it subscribed) and is handled."""
        event = self.slack.change_user(self.slack_user(username), **changes)
        if event is None or not announce:
            return None
        delivery = await self.agent.send_event(event)
        await self.settle()
        return delivery

    async def card(self, request_id: str) -> Any:
        """The card's current message in the fake Slack."""
        record = await self.app.store.cards.get(request_id)
        if record is None or record.ts is None:
            raise LookupError(f"no card for request {request_id}")
        return self.slack.message(record.channel, record.ts)

    async def link(self, username: str, *, token: str | None = None) -> Delivery:
        """`username` links their Marketplace account (or pastes someone else's `token`)."""
        delivery = await link_account(
            self.agent, self.slack, self.slack_user(username), token or self.sandbox.token_for(username)
        )
        await self.settle()
        return delivery

    async def click(
        self, username: str, request_id: str, action_id: str, *, duration: str | None = None
    ) -> Delivery:
        """`username` clicks a control on the request's card (optionally picking a duration first)."""
        record = await self.app.store.cards.get(request_id)
        assert record is not None and record.ts is not None, "the request has no card"
        message = self.slack.message(record.channel, record.ts)
        state = _picked(message.blocks, ids.DURATION, duration) if duration else None
        payload = block_action(
            user_id=self.slack_user(username),
            team_id=self.slack.team_id,
            channel_id=record.channel,
            message_ts=record.ts,
            action_id=action_id,
            message_blocks=message.blocks,
            state_values=state,
        )
        delivery = await self.agent.send_interaction(payload)
        await self.settle()
        return delivery

    async def submit(
        self, username: str, view: Any, answers: dict[str, Any], *, past_the_client: bool = False
    ) -> Delivery:
        """`username` fills in an open modal and submits it (`past_the_client`: with a required input
        left empty, as only a forged payload can)."""
        user_id = self.slack_user(username)
        payload = view_submission(
            user_id=user_id, team_id=self.slack.team_id, view=view, state_values=view_state(view, answers)
        )
        delivery = await self.agent.send_interaction(payload, past_the_client=past_the_client)
        self.slack.note_delivery(payload, delivery.status, delivery.body)
        await self.settle()
        return delivery

    async def decide(
        self, username: str, request_id: str, verdict: str, *, reason: str = "", duration: str | None = None
    ) -> Delivery:
        """Click Approve or Deny on the card, then submit the modal that opens."""
        user_id = self.slack_user(username)
        opened = len(self.slack.views(user_id))
        action = ids.APPROVE if verdict == "approve" else ids.DENY
        delivery = await self.click(username, request_id, action, duration=duration)
        views = self.slack.views(user_id)
        if len(views) == opened or views[-1]["callback_id"] not in (ids.APPROVE_MODAL, ids.DENY_MODAL):
            return delivery  # no form: the modal says why not, or an ephemeral sentence does
        answers: dict[str, Any] = {ids.REASON_INPUT: reason} if reason else {}
        return await self.submit(username, views[-1], answers)

    # --- waiting --------------------------------------------------------------------------------

    # --- time and restarts ----------------------------------------------------------------------

    async def advance(self, delta: timedelta) -> None:
        """Move the fake clock on; the Marketplace notices (expiry), then the app does what is due."""
        if not isinstance(self.clock, FakeClock):
            raise TypeError("only a stage with a FakeClock can be fast-forwarded")
        self.clock.advance(delta)
        await self.sandbox.tick()
        await self.settle()
        await self.app.timekeeper.due_work()
        await self.settle()

    async def restart(self) -> None:
        """Stop the app and start a new one on the same database and settings, as a redeploy does."""
        settings = self.app.settings
        await self.app.stop()
        for hook in list(self.sandbox.webhooks.webhooks):
            self.sandbox.webhooks.remove(hook)
        self.app = await build(settings, clock=self.clock)
        await self.app.start(host="127.0.0.1", port=0, reconcile=self.reconcile)
        if isinstance(self.agent, SlackUserAgent):
            self.agent.events_url = f"{self.app.url}/slack/events"
        await register_webhook(
            self.app.marketplace, f"{self.app.url}{settings.webhook_path}", SecretStr(WEBHOOK_KEY)
        )
        await self.settle()

    async def settle(self) -> None:
        """Wait until webhooks are delivered and the app's background work is done, then again, until
        nothing new started: a decision sends a webhook, whose handling may start more work."""
        for _ in range(50):
            await self.sandbox.webhooks.drain()
            await self.app.tasks.drain()
            await asyncio.sleep(0)
            if self.app.tasks.pending == 0 and not self.sandbox.webhooks.busy:
                return
        raise RuntimeError("the stage did not settle")


async def link_account(
    agent: Agent, slack: FakeSlack, user_id: str, token: str, *, channel_id: str = STEWARDS_CHANNEL
) -> Delivery:
    """A person runs `/marketplace link` in `channel_id` and pastes `token` into the modal that opens.

    Returns the modal submission's delivery once the app has whispered its answer (linked, or why not).
    It waits on what the stand-in Slack sees rather than on the app's tasks, so it also serves an app
    running in another process (the benchmarks).
    """

    def answer(call: RecordedCall) -> bool:
        return call.args.get("user") == user_id

    opened = len(slack.calls_to("views.open"))
    answered = len([c for c in slack.calls_to("chat.postEphemeral") if answer(c)])
    await agent.send_slash_command(
        slash_command(
            user_id=user_id,
            team_id=slack.team_id,
            channel_id=channel_id,
            command=ids.SLASH_COMMAND,
            text="link",
        )
    )
    await slack.wait_for("views.open", count=opened + 1)
    view = slack.views(user_id)[-1]
    values = view_state(view, {ids.TOKEN_INPUT: token})
    delivery = await agent.send_interaction(
        view_submission(user_id=user_id, team_id=slack.team_id, view=view, state_values=values)
    )
    await slack.wait_for("chat.postEphemeral", count=answered + 1, predicate=answer)
    return delivery


def plausible_answers(
    forms: list[wire.DataProductRequestForm], *, duration: tuple[int, str] = (30, "DAYS")
) -> dict[str, Any]:
    """Answers a requester might give to a product's data-access form, keyed by field id."""
    form = next((f for f in forms if str(f.request_type) == "DATA_ACCESS"), forms[0] if forms else None)
    answers: dict[str, Any] = {}
    for field in form.fields if form else []:
        if isinstance(field, wire.AccessDurationFormField):
            answers[field.id] = {"duration": duration[0], "durationUnit": duration[1]}
        elif isinstance(field, wire.SelectionFormField):
            first = field.options[0].value
            answers[field.id] = [first] if str(field.type) == "CHECKBOXES" else first
        elif isinstance(field, wire.ShortAnswerFormField):
            answers[field.id] = "Quarterly pipeline review for the EMEA sales team."
    return answers


def _picked(blocks: list[dict[str, Any]], action_id: str, value: str) -> dict[str, dict[str, Any]]:
    """`state.values` after a person chose `value` in the select `action_id`, as Slack reports it."""
    for block_id, element in interactive_elements(blocks):
        if element.get("action_id") == action_id and block_id:
            option = next(o for o in element.get("options", []) if o.get("value") == value)
            return {block_id: {action_id: {"type": element["type"], "selected_option": option}}}
    raise LookupError(f"no select {action_id!r} on the message")


def installed_as_declared(manifest: Path = MANIFEST) -> Install:
    """The scopes and messages tab our manifest asks for, as a workspace installing the app grants them."""
    return Install.from_manifest(manifest.read_text()) if manifest.is_file() else Install()


def invite_everywhere(slack: FakeSlack) -> None:
    """What an admin does after installing: `/invite @Marketplace` in every channel it serves."""
    for channel in slack.workspace.conversations.channels():
        slack.invite(channel.id)


def stage_settings(
    sandbox: SandboxServer, slack: FakeSlack, *, database_url: str, **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "MARKETPLACE_URL": sandbox.base_url,
        "MARKETPLACE_TOKEN": sandbox.token_for("admin"),
        "MARKETPLACE_WEBHOOK_SIGNING_KEY": WEBHOOK_KEY,
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.base_url,
        "MPSLACK_DEFAULT_CHANNEL": STEWARDS_CHANNEL,
        "MPSLACK_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "MPSLACK_DATABASE_URL": database_url,
        "MPSLACK_HOST": "127.0.0.1",
        "MPSLACK_PORT": 0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@asynccontextmanager
async def open_stage(
    *,
    database_url: str,
    clock: Clock | None = None,
    reconcile: bool = False,
    socket_mode: bool = False,
    **settings: Any,
) -> AsyncIterator[Stage]:
    """Start sandbox, fake Slack and app on loopback, with the app's webhook registered; with
    `socket_mode`, Slack's payloads reach the app over its Socket Mode link instead of HTTP."""
    clock = clock or SystemClock()
    async with AsyncExitStack() as stack:
        sandbox = await stack.enter_async_context(SandboxServer(clock=clock))
        slack = await stack.enter_async_context(FakeSlack(clock=clock, install=installed_as_declared()))
        invite_everywhere(slack)
        if socket_mode:
            settings.setdefault("SLACK_APP_TOKEN", slack.socket_mode.app_token)
        app = await build(stage_settings(sandbox, slack, database_url=database_url, **settings), clock=clock)
        await app.start(host="127.0.0.1", port=0, reconcile=reconcile)
        stage: Stage | None = None

        async def stop_app() -> None:
            await (stage.app if stage is not None else app).stop()  # the running one, after a restart

        stack.push_async_callback(stop_app)
        agent: Agent = await stack.enter_async_context(
            SocketModeAgent(slack)
            if socket_mode
            # Slack signs with the real time and Bolt checks it against the real time, whatever the clock.
            else SlackUserAgent(f"{app.url}/slack/events", SIGNING_SECRET, slack=slack, clock=SystemClock())
        )
        await register_webhook(
            app.marketplace, f"{app.url}{app.settings.webhook_path}", SecretStr(WEBHOOK_KEY)
        )
        stage = Stage(sandbox=sandbox, slack=slack, app=app, agent=agent, clock=clock, reconcile=reconcile)
        await stage.settle()
        yield stage


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True)
