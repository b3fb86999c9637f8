"""The expiry notice: a DM telling a member that their temporary access ends soon. Pure.

The expiry time is a Slack date token, so each reader sees it in their own time zone; its fallback
(shown where Slack cannot format dates) is written in the member's zone from their profile.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marketplace_slack.domain import RequestKind
from marketplace_slack.slack import ids
from marketplace_slack.slack.cards import Card
from marketplace_slack.slack.limits import FALLBACK_TEXT_MAX
from marketplace_slack.slack.mrkdwn import (
    button,
    clip,
    date,
    escape,
    escape_clip,
    one_line,
    safe_url,
    section_block,
)
from marketplace_slack.workflow.ports import ExpiryNote, age_words

PRODUCT_MAX: Final = 300


def expiry_message(note: ExpiryNote, *, now: datetime) -> Card:
    product = clip(note.product_name, PRODUCT_MAX, label=True, normalize=one_line) or "a data product"
    grant = "access to" if note.kind is RequestKind.DATA_ACCESS else "masking exception on"
    when = date(note.expires_at, "{date_long_pretty} at {time}", tz=_zone(note.timezone))
    left = _time_left(note.expires_at - now)
    lines = [
        f"⌛ Your {grant} *{escape(product)}* ends in {left}, on {when}.",
        "If you still need it, request it again now so there is no gap.",
    ]
    # Request again opens the request modal here, prefilled with this request's answers.
    elements: list[dict[str, Any]] = [
        button("Request again", ids.REQUEST_AGAIN_OPEN, value=note.request_id, style="primary")
    ]
    marketplace = safe_url(note.marketplace_url)
    if marketplace is not None:
        elements.append(
            button("Open in Marketplace", ids.OPEN_IN_MARKETPLACE, value=note.request_id, url=marketplace)
        )
    blocks: list[dict[str, Any]] = [
        section_block("\n".join(lines)),
        {"type": "actions", "elements": elements},
    ]
    text = escape_clip(f"Your {grant} {product} ends in {left}", FALLBACK_TEXT_MAX)
    return Card(text=text, blocks=blocks)


def _time_left(delta: timedelta) -> str:
    # Rounded, not floored: a 7-day notice held back until the member's morning still says 7 days.
    hours = delta.total_seconds() / 3600
    if hours >= 36:
        return f"{round(hours / 24)} days"
    if hours >= 1:
        whole = round(hours)
        return f"{whole} hour{'' if whole == 1 else 's'}"
    return age_words(delta)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")
