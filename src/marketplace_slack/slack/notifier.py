"""The workflow's `Messenger`, done with Slack's Web API: render with the pure builders, then deliver.

Rate limits are handled by slack-sdk's retry handlers on the client (see `app.build_slack_client`),
so a 429 waits for Retry-After and the same call goes again.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from marketplace_slack.clock import Clock
from marketplace_slack.domain import AccessRequest, ApprovalStep, CardState, Verdict
from marketplace_slack.ports import MessageRef
from marketplace_slack.slack import cards, messages, views


class SlackMessenger:
    def __init__(self, client: AsyncWebClient, clock: Clock) -> None:
        self._client = client
        self._clock = clock

    async def post_request(self, channel: str, state: CardState) -> MessageRef:
        card = cards.render_card(state, now=self._clock.now())
        response = await self._client.chat_postMessage(
            channel=channel, text=card.text, blocks=card.blocks, unfurl_links=False, unfurl_media=False
        )
        return MessageRef(str(response["channel"]), str(response["ts"]))

    async def update_request(self, ref: MessageRef, state: CardState) -> None:
        card = cards.render_card(state, now=self._clock.now())
        await self._client.chat_update(channel=ref.channel, ts=ref.ts, text=card.text, blocks=card.blocks)

    async def announce_step(self, ref: MessageRef, request: AccessRequest, step: ApprovalStep) -> None:
        message = messages.decision_thread_reply(request, step)
        await self._client.chat_postMessage(
            channel=ref.channel,
            thread_ts=ref.ts,
            text=message.text,
            blocks=message.blocks,
            unfurl_links=False,
        )

    async def notify_requester(self, slack_user_id: str, request: AccessRequest) -> None:
        message = messages.requester_dm(request, now=self._clock.now())
        channel = await self._dm_channel(slack_user_id)
        await self._client.chat_postMessage(
            channel=channel, text=message.text, blocks=message.blocks, unfurl_links=False
        )

    async def tell(self, *, user_id: str, channel: str | None, text: str) -> None:
        await self._whisper(user_id, channel, messages.ephemeral(text))

    async def prompt_link(self, *, user_id: str, channel: str | None, text: str) -> None:
        await self._whisper(user_id, channel, messages.link_account_prompt(text))

    async def open_decision_form(
        self,
        trigger_id: str,
        request: AccessRequest,
        verdict: Verdict,
        *,
        initial_duration: str,
        context: str,
    ) -> None:
        if verdict is Verdict.APPROVE:
            view = views.approve_modal(
                request.id, request.product_name, initial_duration=initial_duration, private_metadata=context
            )
        else:
            view = views.deny_modal(request.id, request.product_name, private_metadata=context)
        await self._client.views_open(trigger_id=trigger_id, view=view)

    async def open_link_form(self, trigger_id: str, *, context: str) -> None:
        await self._client.views_open(trigger_id=trigger_id, view=views.link_modal(private_metadata=context))

    async def _whisper(self, user_id: str, channel: str | None, message: Any) -> None:
        if channel and not channel.startswith("D"):
            await self._client.chat_postEphemeral(
                channel=channel, user=user_id, text=message.text, blocks=message.blocks
            )
            return
        await self._client.chat_postMessage(
            channel=await self._dm_channel(user_id), text=message.text, blocks=message.blocks
        )

    async def _dm_channel(self, user_id: str) -> str:
        response = await self._client.conversations_open(users=user_id)
        return str(response["channel"]["id"])
