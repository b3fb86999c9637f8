"""The workflow's Slack ports (`Cards`, `Replies`, `Notices`, `Modals`), done with Slack's Web API:
render with the pure builders, then deliver.

Messages are posted and updated through the `Pacer` (`pacing.py`), which keeps to Slack's limits per
channel, waits out every 429 and puts decisions before new cards and new cards before notices; the
other calls rely on slack-sdk's retry handlers on the client (see `app.build_slack_client`).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any, Final

import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from marketplace_slack.domain import AccessRequest, ApprovalStep, CardState, Verdict
from marketplace_slack.infra.clock import Clock
from marketplace_slack.slack import cards, messages, views
from marketplace_slack.slack.digest import render_digest, visible_entries
from marketplace_slack.slack.expiry import expiry_message
from marketplace_slack.slack.pacing import Pacer, Priority
from marketplace_slack.slack.reminders import escalation_message, reminder_message
from marketplace_slack.workflow.ports import (
    ChannelUnavailable,
    Destination,
    Digest,
    EscalationNote,
    ExpiryNote,
    MessageGone,
    MessageRef,
    ModalRef,
    ReminderNote,
)
from marketplace_slack.workflow.sentences import Sentence

log = structlog.get_logger(__name__)

_PERMALINKS_CACHED: Final = 4096  # a message's permalink never changes
_PERMALINK_CONCURRENCY: Final = 8


# chat.postEphemeral errors that mean "not in that channel", where a DM reaches the person instead.
_NOT_THERE = frozenset({"channel_not_found", "not_in_channel", "is_archived", "user_not_in_channel"})

# chat.postMessage errors that say the bot cannot post in that channel (as opposed to a bad message or
# an outage): the workflow records them and retries later. A private channel the bot is not in is
# `channel_not_found` to it.
_CANNOT_POST = frozenset(
    {
        "not_in_channel",
        "channel_not_found",
        "is_archived",
        "missing_scope",
        "restricted_action",
        "restricted_action_read_only_channel",
        "restricted_action_non_threadable_channel",
        "ekm_access_denied",
        "team_access_not_granted",
    }
)
# chat.update errors that say the card itself cannot be changed any more: it is posted again instead.
_CARD_GONE = frozenset({"message_not_found", "cant_update_message", "is_archived"})


def _error(exc: SlackApiError) -> str:
    return str(exc.response.get("error") or "unknown")


class SlackMessenger:
    def __init__(self, client: AsyncWebClient, clock: Clock, pacer: Pacer | None = None) -> None:
        self._client = client
        self._clock = clock
        self._pacer = pacer or Pacer(client)
        self._permalinks: dict[MessageRef, str] = {}

    async def post_request(self, channel: str, state: CardState) -> MessageRef:
        card = cards.render_card(state, now=self._clock.now())
        try:
            response = await self._pacer.post_message(
                Priority.CARD,
                channel=channel,
                text=card.text,
                blocks=card.blocks,
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as exc:
            if _error(exc) in _CANNOT_POST:
                raise ChannelUnavailable(channel, _error(exc)) from exc
            raise
        return MessageRef(str(response["channel"]), str(response["ts"]))

    async def update_request(self, ref: MessageRef, state: CardState) -> None:
        card = cards.render_card(state, now=self._clock.now())
        try:
            await self._pacer.update_message(
                Priority.DECISION, channel=ref.channel, ts=ref.ts, text=card.text, blocks=card.blocks
            )
        except SlackApiError as exc:
            if _error(exc) in _CARD_GONE:
                raise MessageGone(ref, _error(exc)) from exc
            if _error(exc) in _CANNOT_POST:  # the bot no longer sees the channel (out of a private one)
                raise ChannelUnavailable(ref.channel, _error(exc)) from exc
            raise

    async def retract(self, ref: MessageRef) -> None:
        await self._client.chat_delete(channel=ref.channel, ts=ref.ts)

    async def announce_step(self, ref: MessageRef, request: AccessRequest, step: ApprovalStep) -> None:
        message = messages.decision_thread_reply(request, step)
        await self._pacer.post_message(
            Priority.DECISION,
            channel=ref.channel,
            thread_ts=ref.ts,
            text=message.text,
            blocks=message.blocks,
            unfurl_links=False,
        )

    async def notify_requester(self, slack_user_id: str, request: AccessRequest) -> None:
        message = messages.requester_dm(request, now=self._clock.now())
        channel = await self._dm_channel(slack_user_id)
        await self._pacer.post_message(
            Priority.DECISION, channel=channel, text=message.text, blocks=message.blocks, unfurl_links=False
        )

    async def notify_owner(self, user_id: str, sentence: Sentence) -> None:
        await self._send(
            Destination.dm(user_id), messages.ephemeral(sentence.text, mentioning=sentence.mention)
        )

    async def tell(self, *, user_id: str, channel: str | None, sentence: Sentence) -> None:
        await self._whisper(user_id, channel, messages.ephemeral(sentence.text, mentioning=sentence.mention))

    async def prompt_link(self, *, user_id: str, channel: str | None, sentence: Sentence) -> None:
        await self._whisper(user_id, channel, messages.link_account_prompt(sentence.text))

    async def open_pending(self, trigger_id: str, verdict: Verdict) -> ModalRef | None:
        try:
            response = await self._client.views_open(trigger_id=trigger_id, view=views.pending_modal(verdict))
        except SlackApiError as exc:
            # Most often an expired trigger id; the caller tells the person in one sentence.
            log.warning("modal_not_opened", error=exc.response.get("error"))
            return None
        view = response.get("view") or {}
        return ModalRef(str(view.get("id") or ""), view.get("hash"))

    async def show_decision_form(
        self,
        modal: ModalRef,
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
        await self._update_view(modal, view)

    async def show_refusal(self, modal: ModalRef, verdict: Verdict, sentence: Sentence) -> None:
        await self._update_view(modal, views.refusal_modal(verdict, sentence))

    async def show_link_form(self, modal: ModalRef, sentence: Sentence, *, context: str) -> None:
        await self._update_view(modal, views.link_modal(private_metadata=context, lead=sentence))

    async def _update_view(self, modal: ModalRef, view: dict[str, Any]) -> None:
        try:
            # With the hash, Slack refuses to overwrite a modal that changed since we rendered it.
            await self._client.views_update(view_id=modal.view_id, hash=modal.hash, view=view)
        except SlackApiError as exc:
            # hash_conflict: it changed meanwhile; not_found: the person closed it. Either way the
            # person is no longer looking at "Checking…", and clicking again opens a new one.
            log.warning("modal_not_updated", view_id=modal.view_id, error=exc.response.get("error"))

    async def open_link_form(self, trigger_id: str, *, context: str) -> None:
        await self._client.views_open(trigger_id=trigger_id, view=views.link_modal(private_metadata=context))

    async def send_reminder(self, to: Destination, note: ReminderNote) -> MessageRef:
        message = reminder_message(note, now=self._clock.now(), in_thread=to.thread_ts is not None)
        return await self._send(to, message)

    async def send_escalation(self, to: Destination, note: EscalationNote) -> MessageRef:
        return await self._send(to, escalation_message(note, now=self._clock.now()))

    async def send_digest(self, to: Destination, digest: Digest) -> MessageRef:
        # Only the entries the message can show get a link; a failed look-up shows a plain name.
        shown = [e for e in visible_entries(digest) if e.url is None and e.card is not None]
        gate = asyncio.Semaphore(_PERMALINK_CONCURRENCY)

        async def link(ref: MessageRef) -> str | None:
            async with gate:
                return await self.permalink(ref)

        urls = await asyncio.gather(*(link(e.card) for e in shown if e.card is not None))
        found = {e.request_id: url for e, url in zip(shown, urls, strict=True) if url}
        entries = tuple(replace(e, url=found.get(e.request_id, e.url)) for e in digest.entries)
        return await self._send(to, render_digest(replace(digest, entries=entries), now=self._clock.now()))

    async def send_expiry_notice(self, user_id: str, note: ExpiryNote) -> MessageRef:
        return await self._send(Destination.dm(user_id), expiry_message(note, now=self._clock.now()))

    async def permalink(self, ref: MessageRef) -> str | None:
        """The message's permalink (chat.getPermalink), or None when Slack will not give one."""
        cached = self._permalinks.get(ref)
        if cached is not None:
            return cached
        try:
            response = await self._client.chat_getPermalink(channel=ref.channel, message_ts=ref.ts)
        except SlackApiError as exc:
            log.warning("permalink_failed", channel=ref.channel, error=exc.response.get("error"))
            return None
        link = response.get("permalink")
        if not isinstance(link, str) or not link:
            return None
        if len(self._permalinks) >= _PERMALINKS_CACHED:
            self._permalinks.pop(next(iter(self._permalinks)))
        self._permalinks[ref] = link
        return link

    async def _send(self, to: Destination, message: Any) -> MessageRef:
        if to.user_id is not None:
            channel = await self._dm_channel(to.user_id)
        elif to.channel is not None:
            channel = to.channel
        else:
            raise ValueError("a destination needs a channel or a user")
        response = await self._pacer.post_message(
            Priority.NOTICE,
            channel=channel,
            thread_ts=to.thread_ts,
            text=message.text,
            blocks=message.blocks,
            unfurl_links=False,
            unfurl_media=False,
        )
        return MessageRef(str(response["channel"]), str(response["ts"]))

    async def _whisper(self, user_id: str, channel: str | None, message: Any) -> None:
        if channel and not channel.startswith("D"):
            try:
                await self._client.chat_postEphemeral(
                    channel=channel, user=user_id, text=message.text, blocks=message.blocks
                )
                return
            except SlackApiError as exc:
                # e.g. a slash command in a channel the bot is not in: the answer still has to arrive.
                if exc.response.get("error") not in _NOT_THERE:
                    raise
        await self._pacer.post_message(
            Priority.DECISION,  # the answer to something the person just did
            channel=await self._dm_channel(user_id),
            text=message.text,
            blocks=message.blocks,
        )

    async def _dm_channel(self, user_id: str) -> str:
        response = await self._client.conversations_open(users=user_id)
        return str(response["channel"]["id"])
