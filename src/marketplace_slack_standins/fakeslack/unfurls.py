"""chat.unfurl: the app's previews of links people shared, refused as Slack refuses them.

Slack lets an app unfurl only a URL it told the app about in a `link_shared` event, on the message
that event named (by channel + ts, or by the event's unfurl_id + source). The fake learns those
events as they are delivered (`FakeSlack.note_event`) and keeps the previews per message, a later
call for the same message replacing the same URLs' previews as Slack does.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from marketplace_slack_standins.fakeslack import blockkit
from marketplace_slack_standins.fakeslack.errors import ApiError, Violation

Json = dict[str, Any]

SOURCES = frozenset({"composer", "conversations_history"})


@dataclass(slots=True)
class _Shared:
    """One link_shared event: where the links were posted and which URLs Slack asked about."""

    channel: str
    ts: str
    source: str
    urls: set[str] = field(default_factory=set)


def _arg(args: Mapping[str, Any], key: str) -> str | None:
    value = args.get(key)
    return None if value is None or value == "" else str(value)


class Unfurls:
    def __init__(
        self,
        *,
        channel_exists: Callable[[str], bool],
        message_exists: Callable[[str, str], bool],
        record: Callable[[Violation], None],
    ) -> None:
        self._channel_exists = channel_exists
        self._message_exists = message_exists
        self._record = record
        self._shared: dict[tuple[str, str], _Shared] = {}  # (channel, ts) -> the event's links
        self._by_unfurl_id: dict[str, tuple[str, str]] = {}
        self._previews: dict[tuple[str, str], dict[str, Json]] = {}

    def note_event(self, event: Mapping[str, Any]) -> None:
        """Remember a link_shared event Slack delivered: only its URLs may be unfurled, on its message."""
        if event.get("type") != "link_shared":
            return
        key = (str(event["channel"]), str(event["message_ts"]))
        shared = self._shared.setdefault(
            key, _Shared(*key, source=str(event.get("source", "conversations_history")))
        )
        shared.urls.update(str(link["url"]) for link in event.get("links", []))
        if event.get("unfurl_id"):
            self._by_unfurl_id[str(event["unfurl_id"])] = key

    def previews(self, channel: str, ts: str) -> dict[str, Json]:
        return copy.deepcopy(self._previews.get((channel, ts), {}))

    # --- the Web API method ------------------------------------------------------------------------

    def chat_unfurl(self, args: Json) -> Json:
        unfurls = self._parse(args.get("unfurls"))
        key = self._target(args)
        shared = self._shared.get(key)
        for url in unfurls:
            if shared is None or url not in shared.urls:
                # Slack's word for "no link_shared event told you about this URL on this message".
                raise ApiError("cannot_unfurl_url")
        problems = [p for url, preview in unfurls.items() for p in _check_preview(url, preview)]
        if problems:
            self._record(Violation("chat.unfurl", "unfurl", tuple(problems)))
            raise ApiError(
                "cannot_parse_attachment", response_metadata={"messages": [f"[ERROR] {p}" for p in problems]}
            )
        self._previews.setdefault(key, {}).update(copy.deepcopy(unfurls))
        return {"ok": True}

    def _parse(self, raw: Any) -> dict[str, Json]:
        if raw is None or raw == "":
            raise ApiError("missing_unfurls")
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except json.JSONDecodeError:
                raise ApiError("invalid_unfurls_format") from None
        if not isinstance(raw, dict) or not all(
            isinstance(url, str) and isinstance(preview, dict) for url, preview in raw.items()
        ):
            raise ApiError("invalid_unfurls_format")
        if not raw:
            raise ApiError("missing_unfurls")
        return raw

    def _target(self, args: Json) -> tuple[str, str]:
        """The message to unfurl in: named by unfurl_id + source, or by channel + ts."""
        unfurl_id, source = _arg(args, "unfurl_id"), _arg(args, "source")
        if unfurl_id is not None or source is not None:
            if unfurl_id is None:
                raise ApiError("missing_unfurl_id")
            if source is None:
                raise ApiError("missing_source")
            if source not in SOURCES:
                raise ApiError("invalid_source")
            key = self._by_unfurl_id.get(unfurl_id)
            if key is None:
                raise ApiError("invalid_unfurl_id")
            if self._shared[key].source != source:
                raise ApiError("invalid_source")
            return key
        channel, ts = _arg(args, "channel"), _arg(args, "ts")
        if channel is None:
            raise ApiError("missing_channel")
        if ts is None:
            raise ApiError("missing_ts")
        if not self._channel_exists(channel) and not any(c == channel for c, _ in self._shared):
            raise ApiError("cannot_find_channel")
        if (channel, ts) not in self._shared and not self._message_exists(channel, ts):
            raise ApiError("cannot_find_message")
        return channel, ts


def _check_preview(url: str, preview: Json) -> list[str]:
    """A preview is an attachment: Block Kit `blocks` (checked as a message's), or legacy fields."""
    where = f"unfurls[{url!r}]"
    if "blocks" in preview:
        return [f"{where}.{p}" for p in blockkit.validate_blocks(preview["blocks"], surface="message")]
    if not any(preview.get(k) for k in ("text", "title", "fallback", "fields", "image_url", "preview")):
        return [f"{where}: an unfurl needs blocks or attachment fields (text, title...)"]
    return []
