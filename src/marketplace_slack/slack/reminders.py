"""Reminders and escalations as Slack messages: pure functions of a note and `now`.

A reminder mentions its recipients (that is its purpose) and carries the snooze buttons; an
escalation names the approvers who have not acted without pinging them, and mentions the user
group it is for. Like the card, every string from the Marketplace is escaped and cut visibly.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from marketplace_slack.domain import Approver, RequestKind
from marketplace_slack.slack import ids
from marketplace_slack.slack.cards import Card, approver_label
from marketplace_slack.slack.limits import FALLBACK_TEXT_MAX, measure
from marketplace_slack.slack.mrkdwn import (
    button,
    clip,
    context_block,
    escape,
    escape_clip,
    escape_line,
    mention,
    one_line,
    plural,
    safe_url,
    section_block,
    usergroup_mention,
)
from marketplace_slack.workflow.ports import EscalationNote, ReminderNote, age_words

PRODUCT_MAX: Final = 200
NAME_MAX: Final = 100
MENTIONS_MAX: Final = 40  # a step rarely has more; past it the reply says "+N more"
NAMES_SHOWN_MAX: Final = 15
APPROVERS_SHOWN_MAX: Final = 5


def reminder_message(note: ReminderNote, *, now: datetime, in_thread: bool) -> Card:
    """A reminder: in the card's thread it speaks about "this request"; in a DM it names it."""
    waited = age_words(now - note.waiting_since)
    step = _step(note.step_number, note.steps_total)
    if note.notify_only:  # a notify-only route: the decision is made in the Marketplace, not here
        step += " in the Marketplace"
    if in_thread:
        tags = _mentions(note.recipients)
        line = f"🔔 {tags}: this request has been waiting {waited} for your decision{step}."
    else:
        line = (
            f"🔔 {_subject(note.kind, note.product_name, note.requester.name or note.requester.username)} "
            f"has been waiting {waited} for your decision{step}."
        )
    blocks: list[dict[str, Any]] = [section_block(line)]
    blocks.append(context_block(f"Reminder {note.number}. Snooze it if you need more time."))
    blocks.append(
        _actions(
            note.record_id,
            note.request_id,
            card_url=None if in_thread else note.card_url,
            marketplace_url=note.marketplace_url,
            snooze=True,
            review=note.notify_only,
        )
    )
    # Unlike the card's, this fallback mentions: the notification is the point of a reminder.
    mentions = " ".join(m for r in note.recipients[:MENTIONS_MAX] if (m := mention(r)))
    prefix = f"{mentions} " if in_thread and mentions else ""
    text = escape_clip(
        f"Reminder: {_product(note.product_name)} request waiting {waited} for your decision",
        FALLBACK_TEXT_MAX - measure(prefix),
    )
    return Card(text=prefix + text, blocks=blocks)


def escalation_message(note: EscalationNote, *, now: datetime) -> Card:
    waited = age_words(now - note.waiting_since)
    requester = note.requester.name or note.requester.username
    lines = [
        f"⏫ *Escalation:* {_subject(note.kind, note.product_name, requester)} has been waiting "
        f"{waited}{_step(note.step_number, note.steps_total)}.",
    ]
    reminded = plural(note.reminders, "reminder")
    if note.not_acted:
        names = [escape_line(n, NAME_MAX) or "someone" for n in note.not_acted[:NAMES_SHOWN_MAX]]
        more = len(note.not_acted) - len(names)
        lines.append(
            f"*Not acted after {reminded}:* " + ", ".join(names) + (f" and {more} more" if more > 0 else "")
        )
    else:
        lines.append(f"*Not acted after {reminded}:* nobody who could decide was found in Slack.")
    if note.approvers:
        lines.append("*Waiting for:* " + _approvers(note.approvers))
    group = usergroup_mention(note.usergroup)
    if group:
        lines.append(f"{group}, can you help it along?")
    blocks = [
        section_block("\n".join(lines)),
        _actions(
            note.record_id,
            note.request_id,
            card_url=note.card_url,
            marketplace_url=note.marketplace_url,
            snooze=False,
            review=note.notify_only,
        ),
    ]
    text = escape_clip(
        f"Escalation: {_product(note.product_name)} request by {one_line(requester)} waiting {waited}",
        FALLBACK_TEXT_MAX,
    )
    return Card(text=text, blocks=[b for b in blocks if b])


# --- parts ----------------------------------------------------------------------------------------


def _product(name: str) -> str:
    return clip(name, PRODUCT_MAX, label=True, normalize=one_line) or "Untitled data product"


def _subject(kind: RequestKind, product_name: str, requester: str) -> str:
    what = "access to" if kind is RequestKind.DATA_ACCESS else "a masking exception on"
    who = escape_clip(one_line(requester), NAME_MAX, hint=None) or "Someone"
    return f"{who}'s request for {what} *{escape(_product(product_name))}*"


def _step(number: int | None, total: int) -> str:
    # The numbers are the record's stage of the review flow (`domain.stage_position`), as the card says.
    return f" (stage {number} of {total})" if number and total > 1 else ""


def _mentions(recipients: Sequence[str]) -> str:
    tags = [m for r in recipients[:MENTIONS_MAX] if (m := mention(r))]
    more = len(recipients) - MENTIONS_MAX
    return (" ".join(tags) or "Approvers") + (f" and {more} more" if more > 0 else "")


def _approvers(approvers: Sequence[Approver]) -> str:
    shown = [approver_label(a) for a in approvers[:APPROVERS_SHOWN_MAX]]
    hidden = len(approvers) - len(shown)
    return " or ".join(shown) + (f" or {hidden} more" if hidden > 0 else "")


def _actions(
    record_id: str,
    request_id: str,
    *,
    card_url: str | None,
    marketplace_url: str | None,
    snooze: bool,
    review: bool = False,
) -> dict[str, Any]:
    """`review` (a notify-only route): the Marketplace, where the step is decided, comes first."""
    elements = []
    marketplace = safe_url(marketplace_url)
    if review and marketplace is not None:
        elements.append(
            button(
                "Review in Marketplace",
                ids.OPEN_IN_MARKETPLACE,
                value=request_id,
                url=marketplace,
                style="primary",
            )
        )
    card = safe_url(card_url)
    if card is not None:
        elements.append(button("View request", ids.VIEW_REQUEST, value=request_id, url=card))
    if snooze:
        elements += [
            button("Snooze 1 day", ids.SNOOZE_1D, value=record_id),
            button("Snooze 3 days", ids.SNOOZE_3D, value=record_id),
        ]
    if not review and marketplace is not None:
        elements.append(
            button("Open in Marketplace", ids.OPEN_IN_MARKETPLACE, value=request_id, url=marketplace)
        )
    if not elements:
        return {}
    return {"type": "actions", "block_id": ids.REMINDER_ACTIONS_BLOCK, "elements": elements}
