"""What a consumer does in the stand-in Slack, step by step: the request modal, App Home, unfurls.

Each step sends what Slack would send (signed, over loopback) built from what the app last showed,
then waits for the app's background work (`Stage.settle`), so a test reads the outcome at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from marketplace_slack.slack import ids
from marketplace_slack_standins.fakeslack.agent import Delivery
from marketplace_slack_standins.fakeslack.interactions import (
    block_suggestion,
    global_shortcut,
    view_block_action,
)
from marketplace_slack_standins.fakeslack.payloads import (
    Answer,
    block_action,
    filled_state,
    slash_command,
    view_submission,
)
from marketplace_slack_standins.stage import STEWARDS_CHANNEL, Stage

Json = dict[str, Any]


class Consumer:
    """`username` of the seeded world, in Slack."""

    def __init__(self, stage: Stage, username: str) -> None:
        self.stage = stage
        self.username = username

    @property
    def user_id(self) -> str:
        return self.stage.slack_user(self.username)

    # --- opening -------------------------------------------------------------------------------

    async def command(self, text: str, *, channel: str = STEWARDS_CHANNEL) -> Delivery:
        """`/marketplace <text>` in `channel`."""
        fields = slash_command(
            user_id=self.user_id,
            team_id=self.stage.slack.team_id,
            channel_id=channel,
            command=ids.SLASH_COMMAND,
            text=text,
        )
        delivery = await self.stage.agent.send_slash_command(fields)
        await self.stage.settle()
        return delivery

    async def shortcut(self) -> Delivery:
        """The global shortcut "Request data access"."""
        payload = global_shortcut(
            user_id=self.user_id, team_id=self.stage.slack.team_id, callback_id=ids.REQUEST_SHORTCUT
        )
        delivery = await self.stage.agent.send_interaction(payload)
        await self.stage.settle()
        return delivery

    # --- the modal -----------------------------------------------------------------------------

    def modal(self) -> Json:
        """The modal the consumer is looking at (the top of their stack), as Slack holds it now."""
        views = self.stage.slack.workspace.views
        stack = views.stacks.get(self.user_id) or []
        if not stack:
            raise LookupError(f"{self.username} has no modal open")
        return views.views[stack[-1]]

    def modal_text(self) -> str:
        """Every text of the open modal, joined: for asserting what it says."""
        return _texts(self.modal())

    def errors(self) -> dict[str, str]:
        return self.stage.slack.view_errors(self.modal()["id"])

    async def options(self, action_id: str, query: str, *, block_id: str | None = None) -> list[Json]:
        """Type `query` into an external select of the modal; the options the app offered."""
        view = self.modal()
        payload = block_suggestion(
            user_id=self.user_id,
            team_id=self.stage.slack.team_id,
            view=view,
            action_id=action_id,
            block_id=block_id or _block_of(view, action_id),
            value=query,
        )
        delivery = await self.stage.agent.send_interaction(payload)
        return self.stage.slack.note_options_answer(payload, delivery.status, delivery.body)

    async def choose(
        self,
        action_id: str,
        *,
        option: Json | None = None,
        value: str | None = None,
        view: Json | None = None,
    ) -> Delivery:
        """Pick in a dispatching element of the modal (or of `view`, App Home)."""
        payload = view_block_action(
            user_id=self.user_id,
            team_id=self.stage.slack.team_id,
            view=view or self.modal(),
            action_id=action_id,
            value=value,
            option=option,
        )
        delivery = await self.stage.agent.send_interaction(payload)
        await self.stage.settle()
        return delivery

    async def pick_product(self, name: str) -> Json:
        """Search for `name` in the product picker and pick the option showing it."""
        offered = await self.options(ids.REQUEST_PRODUCT_INPUT, name)
        option = next(o for o in offered if name.casefold() in str(o["text"]["text"]).casefold())
        await self.choose(ids.REQUEST_PRODUCT_INPUT, option=option)
        return self.modal()

    async def pick_kind(self, kind: str) -> Json:
        await self.choose(ids.REQUEST_KIND_INPUT, value=kind)
        return self.modal()

    def block_of(self, label: str) -> str:
        """The block id of the modal's input labelled `label` (exactly, as shown)."""
        for block in self.modal().get("blocks", []):
            if block.get("type") == "input" and (block.get("label") or {}).get("text") == label:
                return str(block["block_id"])
        raise LookupError(f"no input labelled {label!r}")

    async def submit(self, answers: Mapping[str, Answer], *, agree: bool = True) -> Delivery:
        """Fill inputs by their label (`answers`), tick every agreement when `agree`, and submit."""
        view = self.modal()
        by_block: dict[str, Answer] = {self.block_of(label): answer for label, answer in answers.items()}
        if agree:
            for block in view.get("blocks", []):
                element = block.get("element") or {}
                if element.get("action_id") == ids.AGREEMENT_INPUT:
                    by_block[str(block["block_id"])] = [o["value"] for o in element.get("options", [])]
        payload = view_submission(
            user_id=self.user_id,
            team_id=self.stage.slack.team_id,
            view=view,
            state_values=filled_state(view, by_block),
        )
        # Unticked boxes are what no client submits: sent past it, as a forged payload would be.
        delivery = await self.stage.agent.send_interaction(payload, past_the_client=not agree)
        await self.stage.settle()
        return delivery

    # --- App Home ------------------------------------------------------------------------------

    async def open_home(self) -> Json:
        body = self.stage.slack.open_home(self.user_id)
        if body is None:
            raise LookupError("Slack sends no app_home_opened: the manifest has no Home tab or event")
        await self.stage.agent.send_event(body)
        await self.stage.settle()
        return self.home()

    def home(self) -> Json:
        view = self.stage.slack.home_view(self.user_id)
        if view is None:
            raise LookupError(f"{self.username} has no App Home published")
        return view

    async def click_home(self, action_id: str, value: str) -> Delivery:
        """Click the App Home button `action_id` whose value is `value`."""
        home = self.home()
        block_id = _button_block(home, action_id, value)
        payload = view_block_action(
            user_id=self.user_id,
            team_id=self.stage.slack.team_id,
            view=home,
            action_id=action_id,
            block_id=block_id,
        )
        delivery = await self.stage.agent.send_interaction(payload)
        await self.stage.settle()
        return delivery

    async def click_message(self, message: Any, action_id: str) -> Delivery:
        """Click the button `action_id` of a message the app sent (a DM: an expiry notice...)."""
        payload = block_action(
            user_id=self.user_id,
            team_id=self.stage.slack.team_id,
            channel_id=message.channel,
            message_ts=message.ts,
            action_id=action_id,
            message_blocks=message.blocks,
        )
        delivery = await self.stage.agent.send_interaction(payload)
        await self.stage.settle()
        return delivery

    def dms(self) -> list[Any]:
        return self.stage.slack.messages(self.stage.slack.dm_channel(self.user_id))


def _block_of(view: Json, action_id: str) -> str:
    for block in view.get("blocks", []):
        elements = [block.get("element")] if block.get("element") else block.get("elements") or []
        if any(isinstance(e, dict) and e.get("action_id") == action_id for e in elements):
            return str(block["block_id"])
    raise LookupError(f"no element {action_id!r} in the view")


def _button_block(view: Json, action_id: str, value: str) -> str:
    for block in view.get("blocks", []):
        for element in block.get("elements") or ([block["accessory"]] if block.get("accessory") else []):
            if element.get("action_id") == action_id and element.get("value") == value:
                return str(block["block_id"])
    raise LookupError(f"no {action_id!r} button with value {value!r}")


def _texts(view: Json) -> str:
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("plain_text", "mrkdwn") and isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(view.get("blocks", []))
    return "\n".join(found)


__all__: Sequence[str] = ("Consumer",)
