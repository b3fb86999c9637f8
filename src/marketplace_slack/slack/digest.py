"""A channel digest as a Slack message: pending requests grouped by data product, oldest first.

Pure, like the card. Groups are ordered by their oldest request, and requests within a group oldest
first, because the oldest wait is the one to act on. Totals come first. The message stays within
Slack's limits whatever the queue: at most `GROUPS_SHOWN_MAX` groups of `LINES_PER_GROUP_MAX` lines
are shown, each section is packed under 3000 characters, and what does not fit is summarised as
"…and 37 more in Sales Pipeline" rather than dropped or refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from marketplace_slack.slack.cards import RISK_BADGES, Card, approver_label
from marketplace_slack.slack.limits import FALLBACK_TEXT_MAX, SECTION_TEXT_MAX, measure
from marketplace_slack.slack.mrkdwn import (
    clip,
    context_block,
    divider_block,
    escape,
    escape_clip,
    escape_line,
    header_block,
    link,
    one_line,
    plural,
    section_block,
)
from marketplace_slack.workflow.ports import Digest, DigestEntry, age_words

GROUPS_SHOWN_MAX: Final = 20
LINES_PER_GROUP_MAX: Final = 5
PRODUCT_MAX: Final = 150
REQUESTER_MAX: Final = 80
APPROVERS_SHOWN_MAX: Final = 3


@dataclass(frozen=True, slots=True)
class _Group:
    name: str
    entries: tuple[DigestEntry, ...]  # oldest first


def _groups(digest: Digest) -> list[_Group]:
    grouped: dict[str, list[DigestEntry]] = {}
    for entry in digest.entries:
        grouped.setdefault(entry.product_id or entry.product_name, []).append(entry)
    groups = [
        _Group(entries[0].product_name, tuple(sorted(entries, key=lambda e: (e.created_at, e.request_id))))
        for entries in grouped.values()
    ]
    return sorted(groups, key=lambda g: (g.entries[0].created_at, g.name, g.entries[0].request_id))


def visible_entries(digest: Digest) -> list[DigestEntry]:
    """The entries `render_digest` can show, so only their permalinks need fetching."""
    return [e for g in _groups(digest)[:GROUPS_SHOWN_MAX] for e in g.entries[:LINES_PER_GROUP_MAX]]


def render_digest(digest: Digest, *, now: datetime) -> Card:
    total = len(digest.entries)
    if total == 0:
        return Card(
            text="No access requests are waiting for a decision.",
            blocks=[section_block("✨ No access requests are waiting for a decision.")],
        )
    groups = _groups(digest)
    oldest = min(e.created_at for e in digest.entries)
    waiting = plural(total, "access request")
    blocks: list[dict[str, Any]] = [
        header_block(f"📋 {waiting} waiting for a decision"),
        section_block(_totals(digest, len(groups), now - oldest)),
        divider_block(),
    ]
    for group in groups[:GROUPS_SHOWN_MAX]:
        blocks.append(section_block(_group_text(group, now)))
    hidden = groups[GROUPS_SHOWN_MAX:]
    if hidden:
        count = sum(len(g.entries) for g in hidden)
        where = (
            escape(_product(hidden[0].name))
            if len(hidden) == 1
            else plural(len(hidden), "other data product")
        )
        blocks.append(context_block(f"_…and {count} more in {where}_"))
    text = escape_clip(
        f"{waiting} waiting for a decision (the oldest for {age_words(now - oldest)})", FALLBACK_TEXT_MAX
    )
    return Card(text=text, blocks=blocks)


def _totals(digest: Digest, products: int, oldest: timedelta) -> str:
    parts = [
        f"*{len(digest.entries)} waiting* across {plural(products, 'data product')}",
        f"oldest waiting {age_words(oldest)}",
    ]
    high = sum(1 for e in digest.entries if (e.risk or "").upper() == "HIGH")
    if high:
        parts.append(f"🔴 {high} high risk")
    scope = "in this channel" if digest.scope == "channel" else "across all channels"
    return " · ".join(parts) + f"\n_Requests with a card {scope}, as their cards last showed them._"


def _product(name: str) -> str:
    return clip(name, PRODUCT_MAX, label=True, normalize=one_line) or "Untitled data product"


def _group_text(group: _Group, now: datetime) -> str:
    name = escape(_product(group.name))
    text = f"*{name}* · {len(group.entries)} waiting"
    shown = 0
    for entry in group.entries[:LINES_PER_GROUP_MAX]:
        left_after = len(group.entries) - shown - 1
        reserve = measure(_more(left_after, name)) + 1 if left_after else 0
        candidate = f"{text}\n{_line(entry, now)}"
        if measure(candidate) + reserve > SECTION_TEXT_MAX:
            break
        text, shown = candidate, shown + 1
    if len(group.entries) > shown:
        text += "\n" + _more(len(group.entries) - shown, name)
    return text


def _more(count: int, product: str) -> str:
    return f"_…and {count} more in {product}_"


def _line(entry: DigestEntry, now: datetime) -> str:
    who = escape_line(entry.requester, REQUESTER_MAX, hint=None) or "Someone"
    parts = [f"• {link(entry.url, who)}", age_words(now - entry.created_at)]
    if entry.risk:
        raw = clip(entry.risk, 30, label=True, normalize=one_line).upper()
        parts.append(RISK_BADGES.get(raw) or f"⚪ {escape(raw)}")
    waiting = ""
    if entry.step_number and entry.steps_total > 1:
        # The record's stage of the review flow (`domain.stage_position`), as the card says.
        waiting = f"stage {entry.step_number} of {entry.steps_total}: "
    if entry.waiting_for:
        shown = [approver_label(a) for a in entry.waiting_for[:APPROVERS_SHOWN_MAX]]
        more = len(entry.waiting_for) - len(shown)
        waiting += "waiting for " + " or ".join(shown) + (f" or {more} more" if more > 0 else "")
    if waiting:
        parts.append(waiting)
    return " · ".join(parts)
