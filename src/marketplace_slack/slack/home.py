"""App Home and the "my requests" list: one person's requests, a pure function of their `HomeSnapshot`.

Layout of Home: header with "Request data access" · link status · notice · *Waiting on me* (Approve /
Deny, the card's own buttons, so the card's listeners open the same decision modals) · *My requests*
(pending with Cancel, then recent outcomes) · *My access* (active grants with Request again). The
"my requests" message is the last two parts alone.

Slack refuses a whole view past 100 blocks (a message past 50), so the lists share what is left of
the budget after the fixed blocks, one item at a time in turn, and each list cut short ends in a
visible "… and N more". A snapshot is read when Home opens, so ages ("3 days") are measured against
its `now`, not a clock here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Final

from marketplace_slack.domain import (
    AccessRequest,
    ApprovalStep,
    RecordStatus,
    RequestKind,
    RequestStatus,
    RiskAssessment,
    describe_step_outcome,
    review_stages,
)
from marketplace_slack.slack import ids
from marketplace_slack.slack.cards import (
    KIND_LABELS,
    RISK_BADGES,
    Card,
    approver_label,
    stage_progress,
    status_badge,
)
from marketplace_slack.slack.limits import FALLBACK_TEXT_MAX
from marketplace_slack.slack.mrkdwn import (
    button,
    clip,
    context_block,
    date,
    divider_block,
    escape,
    escape_clip,
    escape_line,
    escape_lines,
    header_block,
    one_line,
    person,
    plain,
    section_block,
    sentence_text,
)
from marketplace_slack.workflow import sentences
from marketplace_slack.workflow.consumer_ports import HomeSnapshot
from marketplace_slack.workflow.ports import age_words

HOME_BLOCKS_MAX: Final = 100  # Slack's limit for a Home view
MESSAGE_BLOCKS_MAX: Final = 50  # and for a message
PRODUCT_MAX: Final = 150
USERNAME_MAX: Final = 100
REASON_MAX: Final = 500
NOTICE_MAX: Final = 500
APPROVERS_SHOWN_MAX: Final = 3
CONFIRM_PRODUCT_MAX: Final = 120  # the dialog's text holds 300 in all
CONFIRM_TEXT_MAX: Final = 300
CONFIRM_TITLE_MAX: Final = 100
CONFIRM_BUTTON_MAX: Final = 30
# No list can show more items than there are blocks, so no more are rendered, however long the list.
ITEMS_RENDERED_MAX: Final = HOME_BLOCKS_MAX
HEADER: Final = "Marketplace data access"


# --- public ----------------------------------------------------------------------------------------


def home_view(snapshot: HomeSnapshot) -> dict[str, Any]:
    """The `views.publish` view of `snapshot`, in at most 100 blocks."""
    linked = snapshot.linked_as is not None
    fixed: list[dict[str, Any]] = [
        header_block(HEADER),
        section_block(
            escape(sentences.HOME_START),
            accessory=button("Request data access", ids.START_REQUEST, value="", style="primary"),
        ),
        _link_status(snapshot),
    ]
    notice = _notice(snapshot)
    if notice is not None:
        fixed.append(notice)
    parts: list[_Part] = []
    if snapshot.waiting_on_me or linked:
        parts.append(_waiting_part(snapshot))
    parts += _mine_parts(snapshot)
    return {"type": "home", "blocks": fixed + _fit(parts, HOME_BLOCKS_MAX - len(fixed))}


def requests_message(snapshot: HomeSnapshot) -> dict[str, Any]:
    """The "my requests" part of `snapshot` as an ephemeral message, in at most 50 blocks."""
    pending, recent, access = len(snapshot.my_pending), len(snapshot.my_recent), len(snapshot.my_access)
    notice = _notice(snapshot)
    if pending + recent + access == 0:
        words = _empty_words(snapshot, sentences.HOME_NOTHING_AT_ALL)
        blocks = [section_block(escape_lines(words, FALLBACK_TEXT_MAX))]
        if notice is not None:
            blocks.append(notice)
        text = snapshot.notice.text if snapshot.notice is not None else words
        return Card(text=escape_clip(text, FALLBACK_TEXT_MAX), blocks=blocks).as_message()
    fixed = [notice] if notice is not None else []
    text = sentences.home_requests_summary(pending, recent, access)
    blocks = fixed + _fit(_mine_parts(snapshot, lead_divider=False), MESSAGE_BLOCKS_MAX - len(fixed))
    return Card(text=escape_clip(text, FALLBACK_TEXT_MAX), blocks=blocks).as_message()


# --- fitting the lists into the block budget --------------------------------------------------------


@dataclass(slots=True)
class _Part:
    """One list: its heading, its first items (each one or more blocks), how many it has in all, and
    what it says when empty."""

    head: list[dict[str, Any]]
    items: list[list[dict[str, Any]]] = field(default_factory=list)
    total: int = 0
    empty: list[dict[str, Any]] = field(default_factory=list)


def _fit(parts: Sequence[_Part], budget: int) -> list[dict[str, Any]]:
    """The parts laid out in `budget` blocks. When every item fits, all are shown; else the lists take
    items in turn while there is room, so a long list cannot crowd out the others, and each list cut
    short gets one "… and N more" line (its block reserved up front)."""
    fixed = sum(len(p.head) + (0 if p.total else len(p.empty)) for p in parts)
    room = budget - fixed
    shown = [len(p.items) for p in parts]
    cut = any(p.total > len(p.items) for p in parts)
    if cut or sum(len(block) for p in parts for block in p.items) > room:
        reserved = [bool(p.total) for p in parts]  # a block each for the "… and N more" lines
        room -= sum(reserved)
        shown = [0] * len(parts)
        while True:
            room = _take_turns(parts, shown, room)
            # A list that turned out to fit needs no "more" line: its block goes back to the others.
            done = [i for i, p in enumerate(parts) if reserved[i] and shown[i] == p.total]
            if not done:
                break
            for i in done:
                reserved[i] = False
            room += len(done)
    blocks: list[dict[str, Any]] = []
    for part, n in zip(parts, shown, strict=True):
        blocks += part.head
        if not part.total:
            blocks += part.empty
            continue
        for item in part.items[:n]:
            blocks += item
        if n < part.total:
            blocks.append(context_block(escape(sentences.home_more(part.total - n))))
    return blocks


def _take_turns(parts: Sequence[_Part], shown: list[int], room: int) -> int:
    """Add the lists' next items one list at a time while they fit in `room`; what is left of it."""
    progress = True
    while progress:
        progress = False
        for i, part in enumerate(parts):
            if shown[i] < len(part.items) and len(part.items[shown[i]]) <= room:
                room -= len(part.items[shown[i]])
                shown[i] += 1
                progress = True
    return room


# --- parts ------------------------------------------------------------------------------------------


def _link_status(snapshot: HomeSnapshot) -> dict[str, Any]:
    if snapshot.linked_as is None:
        text = f"*{escape(sentences.HOME_NOT_LINKED)}*\n{escape(sentences.HOME_LINK_EXPLAINED)}"
        return section_block(text, accessory=button("Link account", ids.LINK_ACCOUNT, style="primary"))
    username = escape_line(snapshot.linked_as, USERNAME_MAX, hint=None) or "your account"
    text = f"🔗 Linked to the Marketplace as *{username}*"
    if snapshot.link_expires_at is not None:
        text += f" until {date(snapshot.link_expires_at)}"
    unlink = button("Unlink", ids.UNLINK_ACCOUNT)
    unlink["confirm"] = _confirm(
        sentences.HOME_UNLINK_TITLE, sentences.HOME_UNLINK_CONFIRM, yes="Unlink", no="Keep it"
    )
    return section_block(text, accessory=unlink)


def _notice(snapshot: HomeSnapshot) -> dict[str, Any] | None:
    if snapshot.notice is None:
        return None
    words = sentence_text(snapshot.notice.text, snapshot.notice.mention, NOTICE_MAX)
    return context_block(f":information_source: {words}")


def _title(text: str, count: int) -> dict[str, Any]:
    return section_block(f"*{text}*" + (f" ({count:,})" if count else ""))


def _empty_words(snapshot: HomeSnapshot, words: str) -> str:
    """An empty list of one's own says why: not linked means it could not be read."""
    return sentences.HOME_LINK_TO_SEE if snapshot.linked_as is None else words


def _waiting_part(snapshot: HomeSnapshot) -> _Part:
    requests = sorted(snapshot.waiting_on_me, key=lambda r: (r.created_at, r.id))
    items = [_waiting_item(snapshot, i, r) for i, r in enumerate(requests[:ITEMS_RENDERED_MAX])]
    return _Part(
        head=[divider_block(), _title("Waiting on me", len(requests))],
        items=items,
        total=len(requests),
        empty=[context_block(escape(sentences.HOME_NOTHING_WAITING))],
    )


def _mine_parts(snapshot: HomeSnapshot, *, lead_divider: bool = True) -> list[_Part]:
    divider = [divider_block()] if lead_divider else []
    pending, recent = snapshot.my_pending, snapshot.my_recent
    nothing = [context_block(escape(_empty_words(snapshot, sentences.HOME_NO_REQUESTS)))]
    parts = [
        _Part(
            head=[*divider, _title("My requests", len(pending))],
            items=[[_pending_item(r)] for r in pending[:ITEMS_RENDERED_MAX]],
            total=len(pending),
            empty=nothing if not recent else [],
        )
    ]
    if recent:
        parts.append(
            _Part(
                head=[context_block("*Recent outcomes*")],
                items=[[_recent_item(r)] for r in recent[:ITEMS_RENDERED_MAX]],
                total=len(recent),
            )
        )
    parts.append(
        _Part(
            head=[divider_block(), _title("My access", len(snapshot.my_access))],
            items=[[_access_item(r)] for r in snapshot.my_access[:ITEMS_RENDERED_MAX]],
            total=len(snapshot.my_access),
            empty=[context_block(escape(_empty_words(snapshot, sentences.HOME_NO_ACCESS)))],
        )
    )
    return parts


# --- items ------------------------------------------------------------------------------------------


def _waiting_item(snapshot: HomeSnapshot, index: int, request: AccessRequest) -> list[dict[str, Any]]:
    first = [f"*{_product(request)}*", KIND_LABELS[request.kind]]
    if request.risk is not None:
        first.append(f"risk {_risk(request.risk)}")
    who = person(request.requester, with_email=False)
    if request.requested_by.marketplace_id != request.requester.marketplace_id:
        who = f"{person(request.requested_by, with_email=False)} for {who}"
    second = [f"requested by {who}", f"waiting {age_words(snapshot.now - request.created_at)}"]
    stage = _stage_of_open(request)
    if stage is not None:
        second.append(stage)
    actions = [
        button("Approve", ids.APPROVE, value=request.id, style="primary"),
        button("Deny", ids.DENY, value=request.id, style="danger"),
    ]
    # The card's block id (fresh per item, so no two blocks share one): the card's listeners answer.
    block_id = ids.fresh(ids.CARD_ACTIONS_BLOCK, "home", index, request.id)
    return [
        section_block(" · ".join(first) + "\n" + " · ".join(second)),
        {"type": "actions", "block_id": block_id, "elements": actions},
    ]


def _pending_item(request: AccessRequest) -> dict[str, Any]:
    first = [f"*{_product(request)}*", KIND_LABELS[request.kind], f"submitted {date(request.created_at)}"]
    if request.requested_by.marketplace_id != request.requester.marketplace_id:
        first.append(f"for {person(request.requester, with_email=False)}")
    text = " · ".join(first) + "\n" + _waiting_for(request)
    return section_block(text, accessory=_cancel_button(request))


def _recent_item(request: AccessRequest) -> dict[str, Any]:
    first = [escape(status_badge(request)), f"*{_product(request)}*", KIND_LABELS[request.kind]]
    when = _settled_at(request)
    if when is not None:
        first.append(date(when))
    text = " · ".join(first)
    denial = next((s for s in request.steps if s.status is RecordStatus.DENIED), None)
    if denial is not None:
        actor = person(denial.decided_by, with_email=False) if denial.decided_by else "an approver"
        # describe_step_outcome puts the reason in as given, so it gets an escaped copy.
        reason = escape_line(denial.reason, REASON_MAX) or None
        text += f"\n{describe_step_outcome(replace(denial, reason=reason), actor)}"
    return section_block(text)


def _access_item(request: AccessRequest) -> dict[str, Any]:
    grant = "access" if request.kind is RequestKind.DATA_ACCESS else "masking exception"
    until = f"until {date(request.expiration)}" if request.expiration is not None else "with no end date"
    text = f"*{_product(request)}* · {grant} {until}"
    return section_block(text, accessory=button("Request again", ids.REQUEST_AGAIN_OPEN, value=request.id))


def _cancel_button(request: AccessRequest) -> dict[str, Any]:
    product = clip(request.product_name, CONFIRM_PRODUCT_MAX, label=True, normalize=one_line)
    element = button("Cancel", ids.CANCEL_REQUEST, value=request.id)
    element["confirm"] = _confirm(
        sentences.HOME_CANCEL_TITLE,
        sentences.home_cancel_confirm(product or "this data product"),
        yes="Cancel request",
        no="Keep it",
    )
    return element


def _confirm(title: str, text: str, *, yes: str, no: str) -> dict[str, Any]:
    """Slack's "are you sure?" dialog. Its text is plain_text: a product name in it is quoted as typed,
    with nothing for Slack to format."""
    return {
        "title": plain(title, CONFIRM_TITLE_MAX),
        "text": plain(text, CONFIRM_TEXT_MAX),
        "confirm": plain(yes, CONFIRM_BUTTON_MAX),
        "deny": plain(no, CONFIRM_BUTTON_MAX),
        "style": "danger",
    }


# --- words ------------------------------------------------------------------------------------------


def _product(request: AccessRequest) -> str:
    """The product name as mrkdwn: escaped, on one line, cut with a bare "…" (a list has no room)."""
    return escape(clip(request.product_name, PRODUCT_MAX, label=True, normalize=one_line)) or (
        "Untitled data product"
    )


def _risk(risk: RiskAssessment) -> str:
    # As the card reads it: a level the vendor sent as a plain string still finds its badge.
    raw = clip(str(risk.level), 30, label=True, normalize=one_line).upper()
    return RISK_BADGES.get(raw) or f"⚪ {escape(raw) or 'UNKNOWN'}"


def _stage_of_open(request: AccessRequest) -> str | None:
    """`stage 2 of 3`, the stage of the first open record, as the card and the digest count; None
    when the flow has one stage or nothing is open."""
    stages = review_stages(request.steps)
    if len(stages) < 2:
        return None
    current = next((st for st in stages if any(s.is_open for s in st.steps)), None)
    return None if current is None else f"stage {current.number} of {len(stages)}"


def _waiting_for(request: AccessRequest) -> str:
    """Who the request waits on: the open records' approvers, or an "all stewards" stage's progress."""
    stages = review_stages(request.steps)
    current = next((st for st in stages if any(s.is_open for s in st.steps)), None)
    if current is None:
        return escape(sentences.HOME_NO_STEP_OPEN)
    label = f"Stage {current.number} of {len(stages)}: " if len(stages) > 1 else ""
    if current.is_parallel:
        return "⏳ " + label + stage_progress(current)
    return f"⏳ {label}waiting for {_approvers(current.steps)}"


def _approvers(steps: Sequence[ApprovalStep]) -> str:
    labels: list[str] = []
    for step in steps:
        for approver in step.approvers:
            label = approver_label(approver)
            if label not in labels:
                labels.append(label)
    if not labels:
        return "no approver listed"
    shown = labels[:APPROVERS_SHOWN_MAX]
    hidden = len(labels) - len(shown)
    return " or ".join(shown) + (f" or {hidden} more" if hidden else "")


def _settled_at(request: AccessRequest) -> datetime | None:
    """When a request was settled, as well as it is known: the deciding record, else the request."""
    if request.status is RequestStatus.EXPIRED and request.expiration is not None:
        return request.expiration
    decided = [s.updated_at for s in request.steps if s.updated_at is not None and not s.is_open]
    return max(decided, default=None) or request.updated_at
