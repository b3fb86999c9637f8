"""Reading a conversation back, as Slack serves it: message metadata (validated when posted, shown only to
`include_all_metadata`), `conversations.history` newest first and `conversations.replies` parent first,
both paged by cursor and bounded by oldest/latest. The app needs this to find out whether a post whose
answer was lost landed before it posts again, so the fake refuses what Slack refuses: missing
`*:history` scopes, public channels the bot is not in, private ones it cannot see."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from marketplace_slack_standins.fakeslack.conversations import Conversations
from marketplace_slack_standins.fakeslack.errors import ApiError
from marketplace_slack_standins.fakeslack.install import HISTORY_SCOPES, Install

if TYPE_CHECKING:
    from marketplace_slack_standins.fakeslack.api import Message

Json = dict[str, Any]

DEFAULT_LIMIT = 100  # conversations.history
MAX_LIMIT = 999
DEFAULT_REPLIES_LIMIT = 1000  # conversations.replies reads a whole thread at once unless told otherwise
MAX_REPLIES_LIMIT = 1000
# Slack documents event_type as a short human-readable alphanumeric name (snake_case recommended) and
# publishes no exact grammar; the fake takes letters, digits, `_` and `.` only, which is at least as strict.
EVENT_TYPE = re.compile(r"[A-Za-z0-9_.]{1,255}")
# Slack refuses large metadata with `metadata_too_large` without publishing the bound; the app's tags are
# a few dozen bytes, so a small bound here catches a payload that grew by accident.
METADATA_MAX_BYTES = 8_000
_TS = re.compile(r"\d{1,10}(\.\d{1,6})?")
_CURSOR_PREFIX = "next_ts:"


# --- metadata ------------------------------------------------------------------------------------


def parse_metadata(raw: Any) -> Json | None:
    """The `metadata` argument of chat.postMessage / chat.update, or None when not given.

    Slack takes a JSON object (or its text) of exactly `event_type` (a name) and `event_payload` (an
    object whose values are strings, numbers, booleans, objects or arrays of them)."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            raise ApiError("invalid_metadata_format") from None
    if not isinstance(raw, dict):
        raise ApiError("invalid_metadata_format")
    event_type, payload = raw.get("event_type"), raw.get("event_payload")
    if set(raw) != {"event_type", "event_payload"} or not isinstance(payload, dict):
        raise ApiError("invalid_metadata_schema")
    if not isinstance(event_type, str) or not EVENT_TYPE.fullmatch(event_type):
        raise ApiError("invalid_metadata_schema")
    if not _payload_value_ok(payload):
        raise ApiError("invalid_metadata_schema")
    if len(json.dumps(raw, separators=(",", ":")).encode()) > METADATA_MAX_BYTES:
        raise ApiError("metadata_too_large")
    return {"event_type": event_type, "event_payload": payload}


def _payload_value_ok(value: Any) -> bool:
    # Slack's published types allow no null anywhere in a payload.
    if isinstance(value, dict):
        return all(isinstance(k, str) and k and _payload_value_ok(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_payload_value_ok(v) for v in value)
    return isinstance(value, str | int | float | bool)


# --- reading -------------------------------------------------------------------------------------


def _arg(args: Mapping[str, Any], key: str) -> str | None:
    value = args.get(key)
    return None if value is None or value == "" else str(value)


def _flag(value: Any) -> bool:
    return value is True or value in ("true", "1", 1)


def ts_key(ts: str) -> tuple[int, int]:
    seconds, _, micros = ts.partition(".")
    return int(seconds), int(micros.ljust(6, "0") or 0)


def encode_cursor(ts: str) -> str:
    # Slack's history cursors are base64 of "next_ts:<ts>"; opaque to clients either way.
    return base64.b64encode(f"{_CURSOR_PREFIX}{ts}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[int, int]:
    try:
        text = base64.b64decode(cursor.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise ApiError("invalid_cursor") from None
    ts = text.removeprefix(_CURSOR_PREFIX)
    if not text.startswith(_CURSOR_PREFIX) or not _TS.fullmatch(ts):
        raise ApiError("invalid_cursor")
    return ts_key(ts)


def _bound(args: Mapping[str, Any], key: str) -> tuple[int, int] | None:
    raw = _arg(args, key)
    if raw is None:
        return None
    if not _TS.fullmatch(raw):
        raise ApiError(f"invalid_ts_{key}")
    return ts_key(raw)


def _limit(args: Mapping[str, Any], *, default: int = DEFAULT_LIMIT, most: int = MAX_LIMIT) -> int:
    raw = _arg(args, "limit")
    if raw is None:
        return default
    try:
        wanted = int(raw)
    except ValueError:
        raise ApiError("invalid_limit") from None
    # Slack caps the page at its maximum and treats zero or less as "the default".
    return default if wanted < 1 else min(wanted, most)


class _Window:
    """oldest / latest / inclusive as Slack applies them to a message's ts."""

    def __init__(self, args: Mapping[str, Any]) -> None:
        self.oldest = _bound(args, "oldest")
        self.latest = _bound(args, "latest")
        self.inclusive = _flag(args.get("inclusive"))

    def __contains__(self, ts: str) -> bool:
        key = ts_key(ts)
        if self.oldest is not None and (key < self.oldest or (key == self.oldest and not self.inclusive)):
            return False
        return not (
            self.latest is not None and (key > self.latest or (key == self.latest and not self.inclusive))
        )


class History:
    """conversations.history and conversations.replies over the workspace's current messages."""

    def __init__(
        self,
        *,
        messages: Callable[[str], list[Message]],
        conversations: Conversations,
        install: Install,
        render: Callable[[Message], Json],
    ) -> None:
        self._messages = messages  # channel -> its messages oldest first, deleted ones gone
        self._conversations = conversations
        self._install = install
        self._render = render

    def check(self, channel: str | None) -> str:
        """The channel, if the bot may read its history; else Slack's refusal."""
        rooms, dms = self._conversations.rooms, self._conversations.dms
        if channel is None or (channel not in rooms and channel not in dms):
            raise ApiError("channel_not_found")
        room = rooms.get(channel)
        self._install.require("conversations.history", HISTORY_SCOPES[room.kind if room else "im"])
        # A private room the bot is not in does not exist for it; a public one it can see but not read.
        # Archived channels stay readable to members.
        self._conversations.check_seen(channel)
        if room is not None and self._conversations.bot_user_id not in room.members:
            raise ApiError("not_in_channel")
        return channel

    def history(self, args: Json) -> Json:
        channel = self.check(_arg(args, "channel"))
        window, limit = _Window(args), _limit(args)
        cursor = _decode_cursor(str(args["cursor"])) if _arg(args, "cursor") else None
        everything = self._messages(channel)
        threads = _replies_by_parent(everything)
        # Thread replies stay in their thread; the channel shows top-level messages, newest first.
        top = [m for m in reversed(everything) if m.thread_ts is None or m.thread_ts == m.ts]
        chosen = [m for m in top if m.ts in window and (cursor is None or ts_key(m.ts) <= cursor)]
        page, rest = chosen[:limit], chosen[limit:]
        full = _flag(args.get("include_all_metadata"))
        body: Json = {
            "ok": True,
            "messages": [self._json(m, threads.get(m.ts, []), full) for m in page],
            "has_more": bool(rest),
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
        }
        if rest:
            body["response_metadata"] = {"next_cursor": encode_cursor(rest[0].ts)}
        return body

    def replies(self, args: Json) -> Json:
        channel = self.check(_arg(args, "channel"))
        ts = _arg(args, "ts")
        if ts is None:
            raise ApiError("thread_not_found")
        window = _Window(args)
        limit = _limit(args, default=DEFAULT_REPLIES_LIMIT, most=MAX_REPLIES_LIMIT)
        cursor = _decode_cursor(str(args["cursor"])) if _arg(args, "cursor") else None
        everything = self._messages(channel)
        by_ts = {m.ts: m for m in everything}
        named = by_ts.get(ts)
        if named is None:
            raise ApiError("thread_not_found")
        # The ts of a reply names its whole thread, as the parent's does (while the parent is there).
        head = by_ts.get(named.thread_ts or "", named)
        replies = _replies_by_parent(everything).get(head.ts, []) if head.thread_ts in (None, head.ts) else []
        chosen = [r for r in replies if r.ts in window and (cursor is None or ts_key(r.ts) >= cursor)]
        # Slack puts the parent first on every page and counts it against the limit; a page still
        # carries one reply at least, so paging with limit=1 ends.
        room = max(limit - 1, 1)
        page, rest = chosen[:room], chosen[room:]
        full = _flag(args.get("include_all_metadata"))
        messages = [self._json(head, replies, full)] + [
            self._json(r, [], full, parent_user=head.user) for r in page
        ]
        body: Json = {"ok": True, "messages": messages, "has_more": bool(rest)}
        if rest:
            body["response_metadata"] = {"next_cursor": encode_cursor(rest[0].ts)}
        return body

    def _json(
        self,
        message: Message,
        replies: list[Message],
        include_metadata: bool,
        *,
        parent_user: str | None = None,
    ) -> Json:
        out = self._render(message)
        if not include_metadata:
            out.pop("metadata", None)
        if replies:  # a parent: Slack marks it as the head of its thread and summarises the replies
            users = sorted({r.user for r in replies})
            out.update(
                thread_ts=message.ts,
                reply_count=len(replies),
                reply_users_count=len(users),
                reply_users=users,
                latest_reply=replies[-1].ts,
            )
        elif parent_user is not None:
            out["parent_user_id"] = parent_user
        return out


def _replies_by_parent(messages: list[Message]) -> dict[str, list[Message]]:
    threads: dict[str, list[Message]] = {}
    for m in messages:  # oldest first, so each thread's replies are too
        if m.thread_ts is not None and m.thread_ts != m.ts:
            threads.setdefault(m.thread_ts, []).append(m)
    return threads
