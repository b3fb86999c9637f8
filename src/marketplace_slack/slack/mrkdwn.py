"""Making untrusted text safe and short for Slack, and the few block builders that rely on it.

Everything a user or the Marketplace wrote goes through `escape` (or `escape_clip`) before it is put
in mrkdwn: Slack reads `<!channel>`, `<@U123>` and `<https://x|label>` as a ping, a mention and a
link, so `&`, `<` and `>` become entities. Nor may their text look like ours: Slack would make
`*APPROVED*` bold, `_x_` italic, `~x~` struck, `` `x` `` code and a line opening with `>` a quote,
so those characters become their fullwidth look-alikes (U+FF0A for `*`). Every mrkdwn object is
`verbatim`, so Slack links no bare URL, email or `#channel` in it; our links are spelled out with
`link`. The app's own tokens (mentions of verified Slack ids, `<!date>`) are built here too, so
every raw `<` in our output has one origin.

Truncation is always visible: a cut string ends with "…" and, where there is room, says how much
was left out and where to read the rest.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from marketplace_slack.domain import Person
from marketplace_slack.slack.limits import (
    BUTTON_TEXT_MAX,
    CONTEXT_ELEMENTS_MAX,
    HEADER_TEXT_MAX,
    SECTION_TEXT_MAX,
    URL_MAX,
    measure,
)
from marketplace_slack.workflow.sentences import MENTION

ELLIPSIS: Final = "…"
MORE_HINT: Final = "open in Marketplace"

# Lone surrogates cannot be encoded as UTF-8; C0 controls and bidi embeddings/overrides/isolates
# (the "Trojan Source" characters) can make our own labels render reversed or garbled. Ordinary
# right-to-left text needs none of them: Arabic and Hebrew letters carry their own direction.
_UNSAFE = re.compile("[\ud800-\udfff]|[\x00-\x08\x0b-\x1f\x7f]|[\u202a-\u202e\u2066-\u2069]")
_WHITESPACE = re.compile(r"\s+")
_BLANK_LINES = re.compile(r"\n\s*\n(\s*\n)+")
# Slack user ids as the API issues them (U… for users, W… for Enterprise Grid users).
_SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,30}")
_SLACK_USERGROUP_ID = re.compile(r"S[A-Z0-9]{2,30}")
_ESCAPED_COST: Final = {"&": 5, "<": 4, ">": 4}  # len("&amp;"), len("&lt;"), len("&gt;")
# Slack's formatting characters, as fullwidth forms: they read the same, cost one character each like
# the originals, and Slack parses none of them. `_` inside a word (`col_name`) never formats in
# Slack and stays as typed, so identifiers can still be copied; at a word's edge it is replaced.
_LOOKALIKE: Final = {"*": "\uff0a", "_": "\uff3f", "~": "\uff5e", "`": "\uff40", ">": "\uff1e"}
_DELIMITER = re.compile(r"[*~`]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
# A `>` opening a line is a quote (Slack reads `&gt;` there the same way); one later in a line is not.
_QUOTE_MARK = re.compile(r"^([^\S\n]*)>", re.MULTILINE)
_ZWJ: Final = "\u200d"


def clean(text: str | None) -> str:
    """`text` with lone surrogates replaced and control/bidi-override characters removed."""
    if not text:
        return ""
    return _UNSAFE.sub(lambda m: "\ufffd" if "\ud800" <= m.group() <= "\udfff" else "", text)


def escape(text: str | None) -> str:
    """Untrusted text made inert for mrkdwn: `&`, `<`, `>` become entities and formatting characters
    look-alikes (see the module's docstring). None becomes ""."""
    return _inert(clean(text))


def _inert(text: str) -> str:
    text = _DELIMITER.sub(lambda m: _LOOKALIKE[m.group()], text)
    text = _QUOTE_MARK.sub(lambda m: m.group(1) + _LOOKALIKE[">"], text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def one_line(text: str | None) -> str:
    """Collapse all whitespace, newlines included, to single spaces (names, titles, tags)."""
    return _WHITESPACE.sub(" ", clean(text)).strip()


def tidy_lines(text: str | None) -> str:
    """Keep line breaks in free text (answers, reasons) but squeeze runs of blank lines to one."""
    return _BLANK_LINES.sub("\n\n", clean(text)).strip()


def truncation_marker(omitted: int, hint: str | None = MORE_HINT) -> str:
    """The visible tail of a cut string, e.g. `… (truncated, 42 more characters — open in Marketplace)`."""
    noun = "character" if omitted == 1 else "characters"
    where = f" — {hint}" if hint else ""
    return f"{ELLIPSIS} (truncated, {omitted} more {noun}{where})"


Normalize = Callable[[str | None], str]


def clip(
    text: str | None,
    limit: int,
    *,
    hint: str | None = MORE_HINT,
    label: bool = False,
    normalize: Normalize = clean,
) -> str:
    """Plain text cut to `limit` (as Slack measures), visibly; for plain_text fields, not mrkdwn.

    `label=True` ends a cut with a bare "…": a button or a header has no room for an explanation.
    `normalize` (`clean`, `one_line`, `tidy_lines`) is applied before cutting.
    """
    return _cut(text or "", limit, normalize=normalize, hint=hint, escaped=False, label=label)


def escape_clip(
    text: str | None, limit: int, *, hint: str | None = MORE_HINT, normalize: Normalize = clean
) -> str:
    """Untrusted text escaped for mrkdwn and cut so the *escaped* result fits `limit`.

    The cut is made on the raw text, so it never lands inside an entity like `&amp;`, and the
    marker counts the raw characters left out.
    """
    return _cut(text or "", limit, normalize=normalize, hint=hint, escaped=True, label=False)


def escape_line(text: str | None, limit: int, *, hint: str | None = MORE_HINT) -> str:
    """`escape_clip` of a one-line value (name, title, tag, column): whitespace runs become a space."""
    return escape_clip(text, limit, hint=hint, normalize=one_line)


def escape_lines(text: str | None, limit: int, *, hint: str | None = MORE_HINT) -> str:
    """`escape_clip` of free text (answer, reason, explanation): line breaks kept, blank runs squeezed."""
    return escape_clip(text, limit, hint=hint, normalize=tidy_lines)


def _cost(ch: str, escaped: bool) -> int:
    if escaped and ch in _ESCAPED_COST:
        return _ESCAPED_COST[ch]
    return 2 if ord(ch) > 0xFFFF else 1


def _cut(text: str, limit: int, *, normalize: Normalize, hint: str | None, escaped: bool, label: bool) -> str:
    def render(s: str) -> str:
        # Made inert after the cut, so a `_` left at the cut's edge is judged as an edge. A quote's
        # `>` costs 1 there rather than the 4 counted for it: the text only ever comes out shorter.
        return _inert(s) if escaped else s

    # Only a window of the input is normalised and scanned, so a megabyte answer costs no more than
    # a short one. Normalising only shrinks text, so a window of twice the limit is plenty, unless
    # the text opens with a huge run of whitespace; then less is shown, still visibly cut.
    window = text[: 2 * limit + 256]
    beyond = len(text) - len(window)
    raw = normalize(window)
    if beyond == 0 and sum(_cost(ch, escaped) for ch in raw) <= limit:
        return render(raw)
    # The long marker when it leaves room for some text, else a bare ellipsis (buttons, headers).
    marker = truncation_marker(len(raw) + beyond, hint)
    if label or measure(marker) * 2 > limit:
        marker = ELLIPSIS
    budget = limit - measure(marker)
    kept, spent = 0, 0
    for ch in raw:
        spent += _cost(ch, escaped)
        if spent > budget:
            break
        kept += 1
    kept = _grapheme_boundary(raw, kept)
    head = raw[:kept].rstrip()
    if marker != ELLIPSIS:
        # The count has no more digits than the estimate above, so the result still fits.
        marker = truncation_marker(len(raw) - len(head) + beyond, hint)
    return render(head) + marker


def _extends(ch: str) -> bool:
    """Whether `ch` belongs to the grapheme before it (combining mark, ZWJ, selector, skin tone, tag)."""
    cp = ord(ch)
    return (
        ch == _ZWJ
        or unicodedata.combining(ch) != 0
        or unicodedata.category(ch) in ("Mn", "Me", "Mc")
        or 0xFE00 <= cp <= 0xFE0F
        or 0x1F3FB <= cp <= 0x1F3FF
        or 0xE0020 <= cp <= 0xE007F
    )


def _is_regional_indicator(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def _splits_grapheme(raw: str, i: int) -> bool:
    if not 0 < i < len(raw):
        return False
    if _extends(raw[i]) or raw[i - 1] == _ZWJ:
        return True
    if _is_regional_indicator(raw[i]):
        run = 0
        while i - run - 1 >= 0 and _is_regional_indicator(raw[i - run - 1]):
            run += 1
        return run % 2 == 1  # an odd run of flag letters before the cut: it splits a pair
    return False


def _grapheme_boundary(raw: str, index: int) -> int:
    """Move a cut at `index` left so it does not split an emoji ZWJ sequence, flag or accent.

    A heuristic, not full UAX #29: it backs off at most 32 code points, then cuts on the code
    point, which is still valid UTF-8.
    """
    for candidate in range(index, max(index - 32, 0), -1):
        if not _splits_grapheme(raw, candidate):
            return candidate
    return index


def clip_mrkdwn(text: str, limit: int = SECTION_TEXT_MAX) -> str:
    """Last-resort cut of mrkdwn we assembled, never inside an entity or a `<…>` token.

    Renderers size their parts to fit; this guarantees the limit even if they misjudge.
    """
    if measure(text) <= limit:
        return text
    marker = f"{ELLIPSIS} (truncated — {MORE_HINT})"
    budget = limit - measure(marker)
    kept, spent = 0, 0
    for ch in text:
        spent += 2 if ord(ch) > 0xFFFF else 1
        if spent > budget:
            break
        kept += 1
    cut = text[: _grapheme_boundary(text, kept)]
    if cut.rfind("<") > cut.rfind(">"):
        cut = cut[: cut.rfind("<")]
    amp = cut.rfind("&")
    if amp > cut.rfind(";") and len(cut) - amp < 6:
        cut = cut[:amp]
    return cut.rstrip() + marker


# --- tokens the app builds itself -----------------------------------------------------------------


def mention(slack_user_id: str | None) -> str | None:
    """`<@U123>` for a well-formed Slack user id, else None (the caller falls back to a name)."""
    if slack_user_id and _SLACK_USER_ID.fullmatch(slack_user_id):
        return f"<@{slack_user_id}>"
    return None


def sentence_text(text: str, mentioning: str | None, limit: int) -> str:
    """A catalogue sentence as mrkdwn: its words escaped first, then the one mention it may carry put
    where MENTION stands, so no other text can become a mention."""
    safe = escape_lines(text, limit) or "…"
    if mentioning is not None:
        safe = safe.replace(MENTION, mention(mentioning) or "someone", 1)
    return safe


def person(p: Person, *, limit: int = 200, with_email: bool = True) -> str:
    """A person for mrkdwn: a mention when Slack knows them, else their escaped name (and email)."""
    tag = mention(p.slack_user_id)
    if tag:
        return tag
    return escape_clip(person_name(p, with_email=with_email), limit, hint=None)


def person_name(p: Person, *, with_email: bool = True) -> str:
    """A person as plain text: name, else username, email or id; with `(email)` when it adds anything.
    Without `with_email` the email shows in no form, not even standing in for a missing name."""
    email = one_line(p.email)
    name = one_line(p.name) or one_line(p.username) or (with_email and email) or one_line(p.marketplace_id)
    if with_email and email and email != name:
        return f"{name or 'Unknown user'} ({email})"
    return name or "Unknown user"


def usergroup_mention(usergroup_id: str | None) -> str | None:
    """`<!subteam^S123>` for a well-formed user group id, else None."""
    if usergroup_id and _SLACK_USERGROUP_ID.fullmatch(usergroup_id):
        return f"<!subteam^{usergroup_id}>"
    return None


def date(when: datetime, fmt: str = "{date_short_pretty} at {time}", *, tz: ZoneInfo | None = None) -> str:
    """Slack date formatting, so every reader sees their own time zone. The fallback (shown where
    Slack cannot format) is in `tz` when given, else UTC."""
    aware = when if when.tzinfo else when.replace(tzinfo=UTC)
    if tz is None:
        fallback = aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    else:
        fallback = aware.astimezone(tz).strftime("%Y-%m-%d %H:%M ") + (aware.astimezone(tz).tzname() or "")
    return f"<!date^{int(aware.timestamp())}^{fmt}|{escape(fallback.strip())}>"


def link(url: str | None, label: str) -> str:
    """`<url|label>` when `url` is safe to link, else `label` alone. `label` must be safe mrkdwn."""
    safe = safe_url(url)
    if safe is None or "|" in safe or ">" in safe or "<" in safe:
        return label
    return f"<{safe}|{label}>"


def plural(n: int, singular: str, plural_form: str | None = None) -> str:
    return f"{n} {singular if n == 1 else (plural_form or singular + 's')}"


def safe_url(url: str | None) -> str | None:
    """`url` if it can go on a url button (http(s), within Slack's length), else None."""
    if not url or measure(url) > URL_MAX or not url.startswith(("https://", "http://")):
        return None
    if _UNSAFE.search(url) or _WHITESPACE.search(url):
        return None
    return url


# --- block builders (plain dicts; they apply the limits so callers cannot forget) -----------------


def defang(text: str) -> str:
    """Angle brackets swapped for look-alikes (U+2039, U+203A), for plain_text that may quote data.

    Slack does not parse plain_text, so `<!channel>` there would not ping; but a payload should
    carry no `<!…>`/`<@…>` from data at all, whatever later reads it (previews, logs, a field
    someone switches to mrkdwn), and entities may be shown literally in plain_text.
    """
    return text.replace("<", "\u2039").replace(">", "\u203a")


def plain(text: str, limit: int) -> dict[str, Any]:
    """A plain_text object, cut visibly to `limit`; never empty (Slack rejects empty text)."""
    return {
        "type": "plain_text",
        "text": defang(clip(text, limit, label=True).strip()) or ELLIPSIS,
        "emoji": True,
    }


def md(text: str, limit: int = SECTION_TEXT_MAX) -> dict[str, Any]:
    """A mrkdwn object from text that is already safe (escaped user parts plus our own tokens).

    `verbatim`: Slack still applies our formatting and `<…>` tokens, but turns no bare URL, email,
    domain or `#channel` in user text into a link (the docs call this automatic parsing)."""
    return {"type": "mrkdwn", "text": clip_mrkdwn(text, limit).strip() or ELLIPSIS, "verbatim": True}


def header_block(text: str) -> dict[str, Any]:
    return {"type": "header", "text": plain(text, HEADER_TEXT_MAX)}


def section_block(
    text: str, *, block_id: str | None = None, accessory: dict[str, Any] | None = None
) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": md(text)}
    if block_id:
        block["block_id"] = block_id
    if accessory:
        block["accessory"] = accessory
    return block


def context_block(*texts: str) -> dict[str, Any]:
    return {"type": "context", "elements": [md(t) for t in texts[:CONTEXT_ELEMENTS_MAX]]}


def divider_block() -> dict[str, Any]:
    return {"type": "divider"}


def button(
    text: str,
    action_id: str,
    *,
    value: str | None = None,
    url: str | None = None,
    style: str | None = None,
) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "button", "action_id": action_id, "text": plain(text, BUTTON_TEXT_MAX)}
    if value is not None:
        element["value"] = value
    if url is not None:
        element["url"] = url
    if style is not None:
        element["style"] = style
    return element


# --- long texts, in pieces ---------------------------------------------------------------------------
# A text too long for one block (an agreement of 10,000 characters) is shown whole, in several.

_PARAGRAPHS = re.compile(r"(\n\s*\n)")
_LINES = re.compile(r"(\n)")
_WORDS = re.compile(r"(\s+)")


def _escaped_cost(text: str) -> int:
    # What `escape` can make of `text`, at most: entities cost more, look-alikes the same.
    return measure(text) + 4 * text.count("&") + 3 * (text.count("<") + text.count(">"))


def split_text(text: str, limit: int) -> list[str]:
    """`text` (line breaks kept, blank runs squeezed) in pieces whose escaped form fits `limit`, split at
    paragraphs, else lines, else words, else characters: nothing is left out."""
    tidy = tidy_lines(text)
    return [piece.strip() for piece in _pack(tidy, limit, (_PARAGRAPHS, _LINES, _WORDS)) if piece.strip()]


def _pack(text: str, limit: int, levels: tuple[re.Pattern[str], ...]) -> list[str]:
    if _escaped_cost(text) <= limit:
        return [text]
    if not levels:
        return _by_characters(text, limit)
    # The separators stay with the piece before them, so joining the pieces gives back the text.
    parts = levels[0].split(text)
    units = ["".join(parts[i : i + 2]) for i in range(0, len(parts), 2)]
    out: list[str] = []
    current = ""
    for unit in units:
        if _escaped_cost(current + unit) <= limit:
            current += unit
            continue
        if current:
            out.append(current)
            current = ""
        if _escaped_cost(unit) <= limit:
            current = unit
        else:
            out += _pack(unit, limit, levels[1:])
    if current:
        out.append(current)
    return out


def _by_characters(text: str, limit: int) -> list[str]:
    out, current, cost = [], "", 0
    for ch in text:
        c = _escaped_cost(ch)
        if cost + c > limit:
            out.append(current)
            current, cost = "", 0
        current += ch
        cost += c
    return [*out, current] if current else out
