"""Hostile inputs and the checks every rendered payload must pass."""

from __future__ import annotations

import json
import re
from typing import Any

from marketplace_slack_standins.fakeslack.formatting import Span, payload_formatting

from .factories import VERIFIED_SLACK_IDS

# What a form answer or a Marketplace name could use to ping, mention or forge a link.
INJECTIONS = (
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U123>",
    "<#C123|general>",
    "<!subteam^S123>",
    "<https://evil.example|bank>",
    "<mailto:x@evil.example|support>",
)
# What a requester's answer could use to pass for the app: a bold status line, a quote, a link, and
# italics, strike-through and code. Each must arrive as literal text, never formatted by Slack.
FORGERIES = (
    "*APPROVED BY CISO*",
    "> Approved by Ada Admin",
    "https://evil.example",
    "_APPROVED IN MARKETPLACE_",
    "~DENIED BY RISK~",
    "`APPROVED-CODE`",
    "```APPROVED BLOCK```",
    ">>> Approved by Ada Admin",
    "&gt; Approved by Ada Admin",  # typed as an entity: shown as typed, not read as Slack's `&gt;`
    "www.evil.example",
    "ciso@evil.example",
    "evil.example/approve",
    "x*APPROVED BY CISO*x \u200b*APPROVED BY CISO*\u200b",  # Slack takes a zero-width space as a word edge
)
# The text each forgery would format, and the host no link may point to.
_FORGED_TEXT = (
    "APPROVED BY CISO",
    "Approved by Ada Admin",
    "APPROVED IN MARKETPLACE",
    "DENIED BY RISK",
    "APPROVED-CODE",
    "APPROVED BLOCK",
)
_EVIL_HOST = "evil.example"
ALREADY_ESCAPED = "&amp; &lt;b&gt;"
RTL = "طلب الوصول إلى البيانات · בקשת גישה לנתונים"
EMOJI = "👩‍👩‍👧‍👦 🏳️‍🌈 👍🏽 🇫🇷🇩🇪 é"  # ZWJ family, ZWJ flag, skin tone, regional pairs, combining accent
# Each forgery on its own line as well, so the quotes open a line wherever newlines survive.
HOSTILE = " ".join(INJECTIONS) + f" {ALREADY_ESCAPED} {RTL} {EMOJI}\n" + "\n".join(FORGERIES)

# The only `<…>` tokens the app may emit: dates it formats and mentions of verified Slack ids.
_TOKEN = re.compile(r"<[^<>]*>")
_OUR_DATE = re.compile(r"<!date\^\d+\^\{[a-z_]+\}( at \{time\})?\|\d{4}-\d\d-\d\d \d\d:\d\d UTC>")


def rogue_tokens(payload: Any) -> list[str]:
    """Every `<…>` in the serialised payload that the app did not build itself."""
    text = json.dumps(payload, ensure_ascii=False)
    rogue = []
    for token in _TOKEN.findall(text):
        if _OUR_DATE.fullmatch(token):
            continue
        if token.startswith("<@") and token[2:-1] in VERIFIED_SLACK_IDS:
            continue
        rogue.append(token)
    return rogue


def forged_formatting(payload: Any) -> list[Span]:
    """Every run Slack would format (per the fake Slack's model) that a forgery made, not the app.

    The app's own bold may hold user text (`*{question}*`), so a run counts as forged when it holds
    exactly a forgery's words (a quote: starts with them), or links to the forgery's host.
    """
    forged = []
    for span in payload_formatting(payload):
        inside = span.text.strip()
        if span.kind in ("link", "autolink"):
            hit = _EVIL_HOST in inside
        elif span.kind == "quote":
            hit = inside.startswith(_FORGED_TEXT)
        else:
            hit = inside in _FORGED_TEXT
        if hit:
            forged.append(span)
    return forged


def assert_inert(payload: Any) -> None:
    """No injection survives as markup anywhere, and no stray raw `<!`, `<@`, `<#`, `<http`; no
    forgery is formatted."""
    text = json.dumps(payload, ensure_ascii=False)
    assert rogue_tokens(payload) == []
    assert forged_formatting(payload) == []
    for needle in ("<!channel", "<!here", "<!everyone", "<@U123", "<#C", "<!subteam", "<http", "<mailto"):
        assert needle not in text, f"{needle!r} survived unescaped"
    text.encode("utf-8")  # raises on a lone surrogate
