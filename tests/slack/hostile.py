"""Hostile inputs and the checks every rendered payload must pass."""

from __future__ import annotations

import json
import re
from typing import Any

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
ALREADY_ESCAPED = "&amp; &lt;b&gt;"
RTL = "طلب الوصول إلى البيانات · בקשת גישה לנתונים"
EMOJI = "👩‍👩‍👧‍👦 🏳️‍🌈 👍🏽 🇫🇷🇩🇪 é"  # ZWJ family, ZWJ flag, skin tone, regional pairs, combining accent
HOSTILE = " ".join(INJECTIONS) + f" {ALREADY_ESCAPED} {RTL} {EMOJI}"

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


def assert_inert(payload: Any) -> None:
    """No injection survives as markup anywhere, and no stray raw `<!`, `<@`, `<#`, `<http`."""
    text = json.dumps(payload, ensure_ascii=False)
    assert rogue_tokens(payload) == []
    for needle in ("<!channel", "<!here", "<!everyone", "<@U123", "<#C", "<!subteam", "<http", "<mailto"):
        assert needle not in text, f"{needle!r} survived unescaped"
    text.encode("utf-8")  # raises on a lone surrogate
