"""What Slack would format in a mrkdwn text: bold, italic, strike, code, quotes and links.

The stand-in has to be at least as strict as Slack, so this errs on the side of finding formatting:
a delimiter counts wherever Slack could take it (any non-ASCII-alphanumeric neighbour is a word
boundary here, where Slack may be pickier), a quote may follow leading spaces, and without
`verbatim: true` every URL, email address, domain-like word, `#channel` and `@here` is taken as a
link, as Slack's automatic parsing may do. With `verbatim: true` Slack still applies the
formatting and the `<…>` links written out, only not the automatic parsing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

KINDS: Final = ("pre", "code", "quote", "link", "bold", "italic", "strike", "autolink")

_PRE = re.compile(r"```(.+?)```", re.DOTALL)
_CODE = re.compile(r"`([^`\n]+)`")
# Slack sends `>` as `&gt;`; either opens a quote at the start of a line, three of them quote the rest.
_QUOTE_REST = re.compile(r"^[^\S\n]*(?:&gt;|>){3}(.*)", re.DOTALL | re.MULTILINE)
_QUOTE = re.compile(r"^[^\S\n]*(?:&gt;|>)(.*)$", re.MULTILINE)
_TOKEN = re.compile(r"<([^<>]*)>")
_INLINE: Final = {"bold": "*", "italic": "_", "strike": "~"}
_AUTOLINKS: Final = (
    re.compile(r"\b(?:[a-z][a-z0-9+.-]*)://[^\s<>|]+", re.IGNORECASE),
    re.compile(r"\bwww\.[^\s<>|]+", re.IGNORECASE),
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    re.compile(r"(?<![\w@/.-])[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])"),
    re.compile(r"(?<![\w&])#[\w-]+"),
    re.compile(r"(?<!\w)@(?:here|channel|everyone)\b", re.IGNORECASE),
)


def _inline(delimiter: str) -> re.Pattern[str]:
    d = re.escape(delimiter)
    return re.compile(rf"(?<![A-Za-z0-9]){d}(?=\S)([^{d}\n]*?\S){d}(?![A-Za-z0-9])")


_INLINE_PATTERNS: Final = {kind: _inline(d) for kind, d in _INLINE.items()}


@dataclass(frozen=True, slots=True)
class Span:
    """One run Slack would format: `text` is what is inside it (for a link, its target)."""

    kind: str
    text: str


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def formatting(text: str, *, verbatim: bool = False) -> list[Span]:
    """Every run Slack would format in the mrkdwn `text`, outermost first."""
    spans: list[Span] = []

    def take(kind: str, pattern: re.Pattern[str], source: str) -> str:
        # A matched run is reported, then blanked, so what it held is not parsed again as a link.
        def found(match: re.Match[str]) -> str:
            spans.append(Span(kind, _unescape(match.group(1) if match.groups() else match.group())))
            return " " * len(match.group())

        return pattern.sub(found, source)

    rest = take("pre", _PRE, text)
    rest = take("code", _CODE, rest)
    for match in _QUOTE_REST.finditer(rest):
        spans.append(Span("quote", _unescape(match.group(1).strip())))
    for match in _QUOTE.finditer(rest):
        spans.append(Span("quote", _unescape(match.group(1).strip())))

    def token(match: re.Match[str]) -> str:
        target, _, label = match.group(1).partition("|")
        if not target.startswith(("@", "#", "!")):
            spans.append(Span("link", _unescape(target)))
        return label or " " * len(match.group())

    rest = _TOKEN.sub(token, rest)
    for kind, pattern in _INLINE_PATTERNS.items():
        spans += [Span(kind, _unescape(m.group(1))) for m in pattern.finditer(rest)]
    if not verbatim:
        for pattern in _AUTOLINKS:
            rest = take("autolink", pattern, rest)
    return spans


def _mrkdwn_objects(node: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(node, Mapping):
        if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
            yield node
        for value in node.values():
            yield from _mrkdwn_objects(value)
    elif isinstance(node, list):
        for item in node:
            yield from _mrkdwn_objects(item)


def payload_formatting(payload: Any) -> list[Span]:
    """Every formatted run in a message, view or block list, as Slack would show it.

    A message with blocks shows them, not its `text` (that is only the notification); a message
    without blocks shows `text`, parsed as mrkdwn with Slack's automatic parsing.
    """
    spans: list[Span] = []
    if isinstance(payload, Mapping) and not payload.get("blocks") and isinstance(payload.get("text"), str):
        spans += formatting(payload["text"])
    for obj in _mrkdwn_objects(payload):
        spans += formatting(str(obj["text"]), verbatim=obj.get("verbatim") is True)
    return spans
