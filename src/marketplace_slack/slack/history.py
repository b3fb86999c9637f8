"""The app's own messages in a conversation's history, found by their metadata tag.

Every message the app posts carries Slack message metadata (`Tag`): an event type and its delivery
key. After an ambiguous answer (`ambiguous`) the messenger asks `TaggedHistory.find` whether the
message is there before posting again; see `messenger.py`'s docstring for the whole rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from marketplace_slack.workflow.ports import MessageRef

# The metadata event types of the app's messages (see the module's docstring).
CARD_EVENT: Final = "marketplace_slack_card"
REPLY_EVENT: Final = "marketplace_slack_reply"
DM_EVENT: Final = "marketplace_slack_dm"
NOTICE_EVENT: Final = "marketplace_slack_notice"
RETIRED_EVENT: Final = "marketplace_slack_card_retired"

LOOK_MARGIN: Final = timedelta(seconds=60)  # history read from this long before the first attempt
LOOK_BACK: Final = timedelta(days=7)  # with `look_first`: the dead owner's attempt was before its lease
LOOK_PAGES: Final = 5  # pages of history read at most, newest first
LOOK_PAGE: Final = 200  # messages a page (Slack's recommended maximum)
# Slack's own words for "something went wrong on our side, part of it may have happened".
_UNSURE_ERRORS: Final = frozenset({"internal_error", "fatal_error"})


def slack_error(exc: SlackApiError) -> str:
    """Slack's error code of a failed call (`unknown` when its answer carried none)."""
    response = exc.response
    error = response.get("error") if hasattr(response, "get") else None
    return str(error or "unknown")


def ambiguous(exc: BaseException) -> bool:
    """Whether a failed call may have been done by Slack all the same, as slack-sdk's AsyncWebClient
    reports it: a timeout (`TimeoutError`), a dropped or reset connection (`aiohttp.ClientError`,
    e.g. `ServerDisconnectedError`, `ClientOSError`), or a `SlackApiError` for a 5xx answer (or
    `internal_error`/`fatal_error`). Never-connected (`ClientConnectorError`) is not: nothing was sent."""
    if isinstance(exc, aiohttp.ClientConnectorError):
        return False
    if isinstance(exc, TimeoutError | aiohttp.ClientError | ConnectionError):
        return True
    if isinstance(exc, SlackApiError):
        response = exc.response
        status = getattr(response, "status_code", None) or getattr(response, "status", None)
        return (isinstance(status, int) and status >= 500) or slack_error(exc) in _UNSURE_ERRORS
    return False


@dataclass(frozen=True, slots=True)
class Tag:
    """A message's metadata: what kind of message it is and its delivery key."""

    event_type: str
    key: str | None = None

    @property
    def metadata(self) -> dict[str, Any]:
        return {"event_type": self.event_type, "event_payload": {"key": self.key} if self.key else {}}

    def marks(self, message: Any, me: tuple[str | None, str | None]) -> bool:
        """Whether a message from the history carries this tag and was posted by this app's bot
        (`me`: its user id and bot id): another app may use the same event type, and keys."""
        if not isinstance(message, dict) or not _posted_by(message, me):
            return False
        meta = message.get("metadata")
        if not isinstance(meta, dict) or meta.get("event_type") != self.event_type or self.key is None:
            return False
        payload = meta.get("event_payload")
        return isinstance(payload, dict) and payload.get("key") == self.key


def _posted_by(message: dict[str, Any], me: tuple[str | None, str | None]) -> bool:
    user_id, bot_id = me
    if bot_id is not None and message.get("bot_id") is not None:
        return bool(message.get("bot_id") == bot_id)
    return user_id is not None and message.get("user") == user_id


class CannotLook(Exception):
    """The conversation's history cannot be read (scopes, membership, an outage)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _slack_ts(when: datetime) -> str:
    return f"{when.timestamp():.6f}"


def _ts_order(ref: MessageRef) -> Decimal:
    try:
        return Decimal(ref.ts)
    except InvalidOperation:
        return Decimal(0)


class TaggedHistory:
    """Reads a conversation's history for the app's tagged messages (only the bot's own count)."""

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client
        self._identity: tuple[str, str | None] | None = None

    async def find(
        self,
        tag: Tag,
        channel: str,
        thread_ts: str | None,
        *,
        oldest: datetime,
        skip: MessageRef | None = None,
    ) -> list[MessageRef]:
        """The messages carrying `tag` in `channel` (or the thread) since `oldest`, oldest first.
        Raises CannotLook when the history cannot be read."""
        me = await self.me()
        found: list[MessageRef] = []
        cursor: str | None = None
        for _ in range(LOOK_PAGES):
            args: dict[str, Any] = {
                "channel": channel,
                "oldest": _slack_ts(oldest),
                "include_all_metadata": True,
                "limit": LOOK_PAGE,
            }
            if cursor:
                args["cursor"] = cursor
            try:
                if thread_ts is not None:
                    response = await self._client.conversations_replies(ts=thread_ts, **args)
                else:
                    response = await self._client.conversations_history(**args)
            except SlackApiError as exc:  # missing_scope, not_in_channel, channel_not_found...
                raise CannotLook(slack_error(exc)) from exc
            except Exception as exc:  # any other failure: the look tells nothing either way
                raise CannotLook(type(exc).__name__) from exc
            for item in response.get("messages") or []:
                ref = MessageRef(channel, str(item.get("ts") or ""))
                if tag.marks(item, me) and ref.ts and ref != skip:
                    found.append(ref)
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not response.get("has_more") or not cursor:
                break
        return sorted(set(found), key=_ts_order)

    async def me(self) -> tuple[str, str | None]:
        """The bot's user id and bot id (auth.test, once): only its own messages are adopted."""
        if self._identity is None:
            try:
                response = await self._client.auth_test()
            except SlackApiError as exc:
                raise CannotLook(f"auth.test: {slack_error(exc)}") from exc
            except Exception as exc:
                raise CannotLook(type(exc).__name__) from exc
            bot_id = response.get("bot_id")
            self._identity = (str(response["user_id"]), str(bot_id) if bot_id else None)
        return self._identity
