"""The workflow's Slack ports (`Cards`, `Replies`, `Notices`, `Modals`), done with Slack's Web API:
render with the pure builders, then deliver.

Messages are posted and updated through the `Pacer` (`pacing.py`), which keeps to Slack's limits per
channel, waits out every 429 and puts decisions before new cards and new cards before notices; the
other calls rely on slack-sdk's retry handlers on the client (see `app.build_slack_client`), which
never repeat a call that creates a message (`pacing.only_repeatable`).

Look before you post again. Every message the app creates carries Slack message metadata: an
`event_type` (`marketplace_slack_card`, `_reply`, `_dm`, `_notice`; a retired duplicate card is
`_card_retired`) and `event_payload` {"key": <its delivery key>}: the request id for a card, the
once-mark key for a thread reply, the DM and the notices that have one. A post whose outcome is
ambiguous (a timeout, a dropped or reset connection, a 5xx or Slack's `internal_error`/`fatal_error`:
Slack may have posted it) is not repeated blindly: the messenger reads the channel's recent history
(`conversations.history`, or `conversations.replies` for a thread reply; from a little before the
first attempt, with metadata, a bounded number of pages) and adopts the tagged message if it is
there, else posts once more. A second ambiguous answer raises `DeliveryUnknown`. A caller that took
a claim over from an owner that died passes `look_first`: the history is read before the first post.
Several tagged cards of one request: the oldest is adopted, the others retired (made true, no buttons).
Reading the history for tagged messages is `history.py`'s.

Where the history cannot be read (the team left out `channels:history`/`groups:history`/`im:history`,
the bot is not in the conversation...) the app prefers a late message to a doubled one: after an
ambiguous answer it raises `DeliveryUnknown` and does NOT post again; the card claim or once-mark
stays held, so the message is retried only after its lease (with a look first, and blind when it
still cannot look), and reconciliation finds a card still missing. With `look_first` and no history
the post goes out blind: the lease has already been waited out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, Final

import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from marketplace_slack.domain import AccessRequest, ApprovalStep, CardState, Verdict
from marketplace_slack.infra.clock import Clock
from marketplace_slack.slack import cards, messages, views
from marketplace_slack.slack.cards import Card
from marketplace_slack.slack.digest import render_digest, visible_entries
from marketplace_slack.slack.expiry import expiry_message
from marketplace_slack.slack.history import (
    CARD_EVENT,
    DM_EVENT,
    LOOK_BACK,
    LOOK_MARGIN,
    NOTICE_EVENT,
    REPLY_EVENT,
    RETIRED_EVENT,
    CannotLook,
    Tag,
    TaggedHistory,
    ambiguous,
)
from marketplace_slack.slack.history import slack_error as _error
from marketplace_slack.slack.pacing import Pacer, Priority
from marketplace_slack.slack.reminders import escalation_message, reminder_message
from marketplace_slack.workflow.ports import (
    ChannelUnavailable,
    DeliveryUnknown,
    Destination,
    Digest,
    EscalationNote,
    ExpiryNote,
    MessageGone,
    MessageRef,
    ModalRef,
    ReminderNote,
    dm_key,
    filer_dm_key,
    step_key,
)
from marketplace_slack.workflow.sentences import Sentence

log = structlog.get_logger(__name__)

_PERMALINKS_CACHED: Final = 4096  # a message's permalink never changes
_DM_CHANNELS_CACHED: Final = 10_000  # nor a person's DM channel
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


class SlackMessenger:
    def __init__(
        self,
        client: AsyncWebClient,
        clock: Clock,
        pacer: Pacer | None = None,
        *,
        show_requester_email: bool = False,
    ) -> None:
        self._client = client
        self._clock = clock
        self._show_email = show_requester_email  # the configuration file's cards.show_requester_email
        self._pacer = pacer or Pacer(client)
        self._permalinks: dict[MessageRef, str] = {}
        self._dm_channels: dict[str, str] = {}
        self._history = TaggedHistory(client)

    async def post_request(
        self, channel: str, state: CardState, *, look_first: bool = False, replacing: MessageRef | None = None
    ) -> MessageRef:
        card = cards.render_card(state, now=self._clock.now(), show_email=self._show_email)

        async def adopted(live: MessageRef, others: list[MessageRef]) -> None:
            # The card found may show an older state; and only the oldest of several stays live. The
            # adoption stands whatever these updates meet: failing here would give up the claim and
            # post the card blind a second time.
            try:
                await self.update_request(live, state)
            except Exception:
                log.warning(
                    "adopted_card_not_refreshed", request_id=state.request.id, ts=live.ts, exc_info=True
                )
            for other in others:
                log.warning("duplicate_card_retired", request_id=state.request.id, ts=other.ts)
                try:
                    await self.retire(other, state, live=live)
                except Exception:
                    log.warning("duplicate_card_not_retired", request_id=state.request.id, exc_info=True)

        try:
            return await self._post(
                Priority.CARD,
                Tag(CARD_EVENT, state.request.id),
                channel=channel,
                look_first=look_first,
                on_adopt=adopted,
                skip=replacing,
                text=card.text,
                blocks=card.blocks,
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as exc:
            if _error(exc) in _CANNOT_POST:
                raise ChannelUnavailable(channel, _error(exc)) from exc
            raise

    async def update_request(self, ref: MessageRef, state: CardState) -> None:
        card = cards.render_card(state, now=self._clock.now(), show_email=self._show_email)
        try:
            await self._pacer.update_message(
                Priority.DECISION,
                channel=ref.channel,
                ts=ref.ts,
                text=card.text,
                blocks=card.blocks,
                metadata=Tag(CARD_EVENT, state.request.id).metadata,
            )
        except SlackApiError as exc:
            if _error(exc) in _CARD_GONE:
                raise MessageGone(ref, _error(exc)) from exc
            if _error(exc) in _CANNOT_POST:  # the bot no longer sees the channel (out of a private one)
                raise ChannelUnavailable(ref.channel, _error(exc)) from exc
            raise

    async def retire(self, ref: MessageRef, state: CardState, *, live: MessageRef | None = None) -> None:
        """A duplicate card made true and inert (no buttons), rather than deleted: a message people
        may have seen does not vanish, and a `chat.delete` whose answer is lost is no better known."""
        url = await self.permalink(live) if live is not None else None
        card = cards.render_retired(state, now=self._clock.now(), live_url=url, show_email=self._show_email)
        try:
            await self._pacer.update_message(
                Priority.DECISION,
                channel=ref.channel,
                ts=ref.ts,
                text=card.text,
                blocks=card.blocks,
                metadata=Tag(RETIRED_EVENT, state.request.id).metadata,
            )
        except SlackApiError as exc:
            if _error(exc) not in _CARD_GONE and _error(exc) not in _CANNOT_POST:
                raise
            log.info("retired_card_gone", channel=ref.channel, error=_error(exc))  # nothing left live

    async def announce_step(
        self, ref: MessageRef, request: AccessRequest, step: ApprovalStep, *, look_first: bool = False
    ) -> None:
        message = messages.decision_thread_reply(request, step)
        await self._post(
            Priority.DECISION,
            Tag(REPLY_EVENT, step_key(step)),
            channel=ref.channel,
            thread_ts=ref.ts,
            look_first=look_first,
            text=message.text,
            blocks=message.blocks,
            unfurl_links=False,
        )

    async def notify_requester(
        self, slack_user_id: str, request: AccessRequest, *, look_first: bool = False, as_filer: bool = False
    ) -> None:
        message = messages.requester_dm(request, now=self._clock.now(), as_filer=as_filer)
        channel = await self._dm_channel(slack_user_id)
        await self._post(
            Priority.DECISION,
            Tag(DM_EVENT, filer_dm_key(request) if as_filer else dm_key(request)),
            channel=channel,
            look_first=look_first,
            text=message.text,
            blocks=message.blocks,
            unfurl_links=False,
        )

    async def notify_owner(self, user_id: str, sentence: Sentence) -> None:
        await self._send(
            Destination.dm(user_id), messages.ephemeral(sentence.text, mentioning=sentence.mention)
        )

    async def send_link_notice(
        self, user_id: str, sentence: Sentence, *, key: str | None = None, look_first: bool = False
    ) -> MessageRef:
        message = messages.link_account_prompt(sentence.text)
        return await self._send(Destination.dm(user_id), message, key=key, look_first=look_first)

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
            initial = initial_duration or views.initial_duration_value(request.requested_duration)
            view = views.approve_modal(
                request.id, request.product_name, initial_duration=initial, private_metadata=context
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

    async def send_reminder(
        self, to: Destination, note: ReminderNote, *, key: str | None = None, look_first: bool = False
    ) -> MessageRef:
        message = reminder_message(note, now=self._clock.now(), in_thread=to.thread_ts is not None)
        return await self._send(to, message, key=key, look_first=look_first)

    async def send_escalation(
        self, to: Destination, note: EscalationNote, *, key: str | None = None, look_first: bool = False
    ) -> MessageRef:
        message = escalation_message(note, now=self._clock.now())
        return await self._send(to, message, key=key, look_first=look_first)

    async def send_digest(
        self, to: Destination, digest: Digest, *, key: str | None = None, look_first: bool = False
    ) -> MessageRef:
        # Only the entries the message can show get a link; a failed look-up shows a plain name.
        shown = [e for e in visible_entries(digest) if e.url is None and e.card is not None]
        gate = asyncio.Semaphore(_PERMALINK_CONCURRENCY)

        async def link(ref: MessageRef) -> str | None:
            async with gate:
                return await self.permalink(ref)

        urls = await asyncio.gather(*(link(e.card) for e in shown if e.card is not None))
        found = {e.request_id: url for e, url in zip(shown, urls, strict=True) if url}
        entries = tuple(replace(e, url=found.get(e.request_id, e.url)) for e in digest.entries)
        message = render_digest(replace(digest, entries=entries), now=self._clock.now())
        return await self._send(to, message, key=key, look_first=look_first)

    async def send_expiry_notice(
        self, user_id: str, note: ExpiryNote, *, key: str | None = None, look_first: bool = False
    ) -> MessageRef:
        message = expiry_message(note, now=self._clock.now())
        return await self._send(Destination.dm(user_id), message, key=key, look_first=look_first)

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

    async def _send(
        self, to: Destination, message: Any, *, key: str | None = None, look_first: bool = False
    ) -> MessageRef:
        if to.user_id is not None:
            channel = await self._dm_channel(to.user_id)
        elif to.channel is not None:
            channel = to.channel
        else:
            raise ValueError("a destination needs a channel or a user")
        return await self._post(
            Priority.NOTICE,
            Tag(NOTICE_EVENT, key),
            channel=channel,
            thread_ts=to.thread_ts,
            look_first=look_first,
            text=message.text,
            blocks=message.blocks,
            unfurl_links=False,
            unfurl_media=False,
        )

    # --- look before you post again (see the module's docstring) ---------------------------------------

    async def _post(
        self,
        priority: Priority,
        tag: Tag,
        *,
        channel: str,
        thread_ts: str | None = None,
        look_first: bool = False,
        on_adopt: Callable[[MessageRef, list[MessageRef]], Awaitable[None]] | None = None,
        skip: MessageRef | None = None,
        **message: Any,
    ) -> MessageRef:
        """Post a tagged message exactly once as far as Slack lets anyone know; see the docstring."""
        since = self._clock.now() - LOOK_MARGIN
        if look_first and tag.key is not None:
            try:
                found = await self._history.find(
                    tag, channel, thread_ts, oldest=self._clock.now() - LOOK_BACK, skip=skip
                )
            except CannotLook as cannot:
                # The lease was waited out and nothing can tell: late, then blind, but not lost.
                log.warning("delivery_unchecked", event_type=tag.event_type, reason=cannot.reason)
            else:
                if found:
                    return await self._adopt(tag, found, on_adopt)
        if thread_ts is not None:
            message["thread_ts"] = thread_ts
        for attempt in (1, 2):
            try:
                response = await self._pacer.post_message(
                    priority, channel=channel, metadata=tag.metadata, **message
                )
            except Exception as exc:
                if attempt == 2 and tag.key is not None:
                    # After an ambiguous first attempt, no failure of the second says the first did
                    # not land: the message's fate stays unknown, and its claim stays held.
                    raise DeliveryUnknown(tag.key, f"first answer lost, then {type(exc).__name__}") from exc
                if not ambiguous(exc) or tag.key is None:
                    raise
                log.warning(
                    "delivery_ambiguous", event_type=tag.event_type, attempt=attempt, error=type(exc).__name__
                )
                try:
                    found = await self._history.find(tag, channel, thread_ts, oldest=since, skip=skip)
                except CannotLook as cannot:
                    raise DeliveryUnknown(tag.key, f"history unreadable: {cannot.reason}") from exc
                if found:
                    return await self._adopt(tag, found, on_adopt)
            else:
                return MessageRef(str(response["channel"]), str(response["ts"]))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _adopt(
        self,
        tag: Tag,
        found: list[MessageRef],
        on_adopt: Callable[[MessageRef, list[MessageRef]], Awaitable[None]] | None,
    ) -> MessageRef:
        oldest, *more = found
        log.info("delivery_adopted", event_type=tag.event_type, ts=oldest.ts, others=len(more))
        if on_adopt is not None:
            await on_adopt(oldest, more)
        return oldest

    async def whisper(self, user_id: str, channel: str | None, message: Card) -> None:
        """A message only `user_id` sees: ephemeral in `channel`, else (or where refused) a DM."""
        await self._whisper(user_id, channel, message)

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
            metadata=Tag(NOTICE_EVENT).metadata,
        )

    async def _dm_channel(self, user_id: str) -> str:
        """The DM channel with `user_id`, opened once: a person's DM channel never changes, and
        `conversations.open` is Tier 3 (about 50 a minute), so 100 reminders due at once would be
        refused past the first 50 if each opened it again."""
        cached = self._dm_channels.get(user_id)
        if cached is not None:
            return cached
        response = await self._client.conversations_open(users=user_id)
        channel = str(response["channel"]["id"])
        if len(self._dm_channels) >= _DM_CHANNELS_CACHED:
            self._dm_channels.pop(next(iter(self._dm_channels)))
        self._dm_channels[user_id] = channel
        return channel
