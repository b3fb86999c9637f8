"""Block Kit and Web API calls as compact, readable text, so the offline demo can show what Slack would."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from marketplace_slack_standins.fakeslack.workspace import (
    DEFAULT_CHANNELS,
    DEFAULT_USERS,
    SlackChannel,
    SlackUser,
)

if TYPE_CHECKING:
    from marketplace_slack_standins.fakeslack.server import RecordedCall

Json = dict[str, Any]

_SPECIAL = re.compile(r"<([^<>]+)>")
_DIVIDER = "─" * 32


class _Names:
    def __init__(self, users: Iterable[SlackUser] | None, channels: Iterable[SlackChannel] | None) -> None:
        self.users = {u.id: u.name for u in (DEFAULT_USERS if users is None else users)}
        self.channels = {c.id: c.name for c in (DEFAULT_CHANNELS if channels is None else channels)}

    def user(self, user_id: str) -> str:
        return "@" + self.users.get(user_id, user_id)

    def channel(self, channel_id: str) -> str:
        if channel_id.startswith("D") and "U" + channel_id[1:] in self.users:
            return f"DM {self.user('U' + channel_id[1:])}"
        if channel_id in self.users:  # chat.postMessage to a user id lands in the app's DM
            return f"DM {self.user(channel_id)}"
        return "#" + self.channels.get(channel_id, channel_id)


def mrkdwn_to_text(text: str, names: _Names) -> str:
    """Resolve Slack's <…> references (users, channels, links, dates) and unescape &lt; &gt; &amp;."""

    def replace(match: re.Match[str]) -> str:
        inner = match.group(1)
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            return names.user(target[1:]) if target[1:] in names.users or not label else "@" + label
        if target.startswith("#"):
            return "#" + (label or names.channels.get(target[1:], target[1:]))
        if target.startswith("!subteam^"):
            return label or "@" + target.removeprefix("!subteam^")
        if target.startswith("!date^"):
            return label or target
        if target.startswith("!"):
            return "@" + target[1:]
        return f"{label} ({target})" if label else target

    return html.unescape(_SPECIAL.sub(replace, text))


def _text(obj: Any, names: _Names) -> str:
    if not isinstance(obj, dict):
        return ""
    text = str(obj.get("text", ""))
    return mrkdwn_to_text(text, names) if obj.get("type") == "mrkdwn" else html.unescape(text)


def _option_label(option: Any, names: _Names) -> str:
    return _text(option.get("text"), names) if isinstance(option, dict) else ""


def element_to_text(element: Json, names: _Names | None = None) -> str:
    names = names or _Names(None, None)
    kind = element.get("type", "")
    placeholder = _text(element.get("placeholder"), names)
    if kind == "button":
        return f"[ {_text(element.get('text'), names)}{' ↗' if 'url' in element else ''} ]"
    if kind in ("static_select", "external_select"):
        return f"[ {_option_label(element.get('initial_option'), names) or placeholder or 'Choose'} ▾ ]"
    if kind in ("multi_static_select", "multi_external_select"):
        chosen = ", ".join(_option_label(o, names) for o in element.get("initial_options", []))
        return f"[ {chosen or placeholder or 'Choose'} ▾ ]"
    if kind in ("radio_buttons", "checkboxes"):
        on, off = ("(•)", "( )") if kind == "radio_buttons" else ("[x]", "[ ]")
        initial = element.get("initial_option") or {}
        values = {o.get("value") for o in element.get("initial_options", [])} | {initial.get("value")}
        return "  ".join(
            f"{on if o.get('value') in values else off} {_option_label(o, names)}"
            for o in element.get("options", [])
        )
    if kind == "users_select":
        user = element.get("initial_user")
        return f"[ {names.user(user) if user else placeholder or 'Choose a person'} ▾ ]"
    if kind in ("conversations_select", "channels_select"):
        channel = element.get("initial_conversation") or element.get("initial_channel")
        return f"[ {names.channel(channel) if channel else placeholder or 'Choose a channel'} ▾ ]"
    if kind == "datepicker":
        return f"[ 📅 {element.get('initial_date') or placeholder or 'date'} ]"
    if kind == "timepicker":
        return f"[ 🕒 {element.get('initial_time') or placeholder or 'time'} ]"
    if kind.endswith("_input"):
        return f"[ {element.get('initial_value') or placeholder or ''}___ ]"
    if kind == "overflow":
        return "[ ⋯ ]"
    if kind == "image":
        return f"[image: {element.get('alt_text', '')}]"
    return f"[{kind}]"


def _rich_text(node: Any, names: _Names) -> str:
    if isinstance(node, list):
        return "".join(_rich_text(n, names) for n in node)
    if not isinstance(node, dict):
        return ""
    kind = node.get("type")
    if kind == "text":
        return str(node.get("text", ""))
    if kind == "user":
        return names.user(str(node.get("user_id", "")))
    if kind == "channel":
        return names.channel(str(node.get("channel_id", "")))
    if kind == "link":
        return str(node.get("text") or node.get("url", ""))
    if kind == "emoji":
        return f":{node.get('name', '')}:"
    separator = "\n" if kind in ("rich_text_list", "rich_text") else ""
    return separator.join(_rich_text(n, names) for n in node.get("elements", []))


def _block_lines(block: Json, names: _Names) -> list[str]:
    kind = block.get("type")
    if kind == "header":
        return [f"# {_text(block.get('text'), names)}"]
    if kind == "divider":
        return [_DIVIDER]
    if kind == "section":
        lines = _text(block.get("text"), names).splitlines() if block.get("text") else []
        lines += ["  " + " ".join(_text(f, names).split("\n")) for f in block.get("fields", [])]
        if isinstance(block.get("accessory"), dict):
            lines.append("  " + element_to_text(block["accessory"], names))
        return lines
    if kind == "context":
        parts = [
            element_to_text(e, names) if e.get("type") == "image" else _text(e, names)
            for e in block.get("elements", [])
        ]
        return ["» " + " · ".join(p for p in parts if p)]
    if kind == "actions":
        return ["  ".join(element_to_text(e, names) for e in block.get("elements", []))]
    if kind == "input":
        label = _text(block.get("label"), names) + (" (optional)" if block.get("optional") else "")
        lines = [f"{label}: {element_to_text(block.get('element', {}), names)}"]
        if block.get("hint"):
            lines.append(f"  {_text(block['hint'], names)}")
        return lines
    if kind == "image":
        return [element_to_text(block, names)]
    if kind == "rich_text":
        return _rich_text(block, names).splitlines()
    return [f"[{kind}]"]


def blocks_to_text(
    blocks: Iterable[Json],
    *,
    users: Iterable[SlackUser] | None = None,
    channels: Iterable[SlackChannel] | None = None,
) -> str:
    """Header, sections, fields, context, buttons as `[ Approve ]`, selects as `[ 7 days ▾ ]`."""
    names = _Names(users, channels)
    return "\n".join(line for block in blocks for line in _block_lines(block, names))


def _view_text(view: Json, names: _Names) -> str:
    lines = (
        _block_lines({"type": "header", "text": view.get("title") or {}}, names) if view.get("title") else []
    )
    lines += [line for block in view.get("blocks", []) for line in _block_lines(block, names)]
    buttons = [f"[ {_text(view[k], names)} ]" for k in ("close", "submit") if view.get(k)]
    if buttons:
        lines.append("  ".join(buttons))
    return "\n".join(lines)


def _indent(text: str) -> str:
    return "\n".join("  " + line if line else line for line in text.splitlines())


def _headline(call: RecordedCall, names: _Names) -> str:
    args, response = call.args, call.response
    method = call.method
    where = names.channel(str(response.get("channel") or args.get("channel", "")))
    if method == "chat.postMessage":
        thread = f" in thread {args['thread_ts']}" if args.get("thread_ts") else ""
        return f"{method} → {where}{thread} (ts {response.get('ts', '?')})"
    if method == "chat.update":
        return f"{method} → {where} (ts {args.get('ts', '?')} updated)"
    if method == "chat.postEphemeral":
        return f"{method} → {where}, only {names.user(str(args.get('user', '')))} sees it"
    if method == "chat.delete":
        return f"{method} → {where} (ts {args.get('ts', '?')} deleted)"
    if method in ("conversations.history", "conversations.replies"):
        thread = f" thread {args['ts']}" if args.get("ts") else ""
        found = len(response.get("messages") or [])
        return f"{method} ← {where}{thread}: {found} message{'' if found == 1 else 's'}"
    if method == "views.publish":
        return f"{method} → Home tab of {names.user(str(args.get('user_id', '')))}"
    if method.startswith("views."):
        view = args.get("view")
        callback_id = view.get("callback_id", "") if isinstance(view, dict) else ""
        return f"{method} → modal {callback_id!r}"
    if method == "response_url":
        mode = next(
            (k for k in ("delete_original", "replace_original") if args.get(k) in (True, "true")), None
        )
        return f"{method} → {mode or args.get('response_type', 'ephemeral')}"
    shown = ", ".join(f"{k}={v}" for k, v in args.items() if isinstance(v, str | int | bool))
    return f"{method}({shown})"


def describe_call(
    call: RecordedCall,
    *,
    users: Iterable[SlackUser] | None = None,
    channels: Iterable[SlackChannel] | None = None,
) -> str:
    """One call as the demo prints it: a headline, then the message or modal, indented."""
    names = _Names(users, channels)
    lines = [_headline(call, names)]
    if not call.ok:
        lines[0] += f"  ✗ {call.error}"
    args: Mapping[str, Any] = call.args
    if isinstance(args.get("view"), dict):
        lines.append(_indent(_view_text(args["view"], names)))
    elif isinstance(args.get("blocks"), list) and args["blocks"]:
        lines.append(_indent("\n".join(line for b in args["blocks"] for line in _block_lines(b, names))))
    elif args.get("text") and (call.method.startswith("chat.") or call.method == "response_url"):
        lines.append(_indent(mrkdwn_to_text(str(args["text"]), names)))
    return "\n".join(line for line in lines if line)
