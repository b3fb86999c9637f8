"""The request card: one Slack message per access request, a pure function of its `CardState`.

Every refresh re-renders the whole card from state, so there is no partial update to get wrong; the
card's look changes only when the state does. Relative times ("3 days ago") are deliberately
absent: a card is not re-rendered on a timer, so they would go stale. Absolute times use Slack's
`<!date>` so each reader sees their own time zone.

Layout: header · who/when · answers · agreements · columns · risk · recent decisions · approval
steps · status / progress / notice · actions. Each variable-length part has a block budget and
collapses into "+N more" past it, so the card stays under Slack's 50 blocks whatever the data.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final

from marketplace_slack.domain import (
    AccessRequest,
    ApprovalStep,
    Approver,
    CardState,
    RecentDeterminations,
    RecordStatus,
    RequestKind,
    RequestStatus,
    ReviewStage,
    RiskAssessment,
    RiskLevel,
    Verdict,
    describe_step_outcome,
    review_stages,
)
from marketplace_slack.slack import ids
from marketplace_slack.slack.limits import FALLBACK_TEXT_MAX, HEADER_TEXT_MAX, SECTION_TEXT_MAX, measure
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
    link,
    mention,
    one_line,
    person,
    person_name,
    plural,
    safe_url,
    section_block,
)
from marketplace_slack.slack.views import duration_select, initial_duration_value

# Budgets: how much of each part a card shows before "+N more". Sized so the worst case of every
# part at once stays far below 50 blocks (see test_hostile) and each line stays readable.
ANSWER_BLOCKS_MAX: Final = 4
QUESTION_MAX: Final = 200
ANSWER_MAX: Final = 1000
AGREEMENTS_SHOWN_MAX: Final = 10
AGREEMENT_MAX: Final = 200
COLUMNS_SHOWN_MAX: Final = 20
COLUMN_BLOCKS_MAX: Final = 2
COLUMN_PART_MAX: Final = 100
TAGS_SHOWN_MAX: Final = 5
TAG_MAX: Final = 50
EXPLANATION_MAX: Final = 1000
RISK_REASONS_SHOWN_MAX: Final = 3
RISK_REASON_MAX: Final = 250
STEP_BLOCKS_MAX: Final = 3
APPROVERS_SHOWN_MAX: Final = 5
WAITING_SHOWN_MAX: Final = 2  # records named on a parallel stage's progress line
APPROVER_MAX: Final = 100
STEP_REASON_MAX: Final = 500
NOTICE_MAX: Final = 500
PRODUCT_IN_TEXT_MAX: Final = 200

KIND_LABELS: Final = {
    RequestKind.DATA_ACCESS: "Data access",
    RequestKind.MASKING_EXCEPTION: "Masking exception",
}
STATUS_BADGES: Final = {
    RequestStatus.PENDING: "🕓 Pending",
    RequestStatus.APPROVED: "✅ Approved",
    RequestStatus.DENIED: "⛔ Denied",
    RequestStatus.CANCELED: "🚫 Canceled",
    RequestStatus.REVOKED: "↩️ Revoked",
    RequestStatus.EXPIRED: "⌛ Expired",
}
RISK_BADGES: Final[dict[str, str]] = {
    RiskLevel.LOW: "🟢 LOW",
    RiskLevel.MODERATE: "🟡 MODERATE",
    RiskLevel.HIGH: "🔴 HIGH",
    RiskLevel.INDETERMINATE: "⚪ INDETERMINATE",
    RiskLevel.PENDING: "⚪ PENDING",
}
_RECOMMENDATIONS: Final = {"APPROVED": "approve", "DENIED": "deny", "NONE": "none"}


@dataclass(frozen=True, slots=True)
class Card:
    """A Slack message body: `text` is the notification/fallback line, `blocks` what people see.

    Both are safe to post as-is: `text` is escaped mrkdwn within 3000 characters, and `blocks`
    pass the stand-in Slack's Block Kit validator for a message.
    """

    text: str
    blocks: list[dict[str, Any]]

    def as_message(self) -> dict[str, Any]:
        """Keyword arguments for `chat.postMessage` / `chat.update` (add `channel`, `ts`)."""
        return {"text": self.text, "blocks": self.blocks}


def render_card(state: CardState, *, now: datetime, show_email: bool = False) -> Card:
    """The card for `state`. Pure: the same state and `now` always give the same card.

    `now` only decides whether an approval's expiration has already passed. A card is read by a whole
    channel, so the requester's email is on it only with `show_email` (`cards.show_requester_email`).
    """
    request = state.request
    blocks: list[dict[str, Any]] = [
        header_block(_header(request)),
        section_block(_summary(request, show_email=show_email)),
    ]
    blocks += _answers(request)
    blocks += _agreements(request)
    blocks += _columns(request)
    if request.risk is not None or request.recent is not None:
        blocks.append(divider_block())
        if request.risk is not None:
            blocks.append(section_block(_risk(request.risk)))
        if request.recent is not None:
            blocks.append(context_block(_recent(request.recent)))
    blocks.append(divider_block())
    blocks += _steps(request)

    actionable = request.status is RequestStatus.PENDING and bool(request.open_steps)
    if request.is_settled:
        blocks.append(section_block(_final_status(request, now)))
    elif state.in_progress is not None:
        verb = "approving" if state.in_progress.verdict is Verdict.APPROVE else "denying"
        blocks.append(
            context_block(f"⏳ {mention(state.in_progress.actor_slack_id) or 'Someone'} is {verb}…")
        )
    elif not actionable:
        blocks.append(context_block("No approval step is open for a decision right now."))
    notice = escape_line(state.notice, NOTICE_MAX)
    if notice:
        blocks.append(context_block(f":information_source: {notice}"))

    if state.notify_only and actionable and state.in_progress is None:
        blocks.append(context_block("🔗 Decisions on this request are made in the Marketplace."))
    actions = _actions(
        request,
        decide=actionable and state.in_progress is None and not state.notify_only,
        review=state.notify_only,
    )
    if actions:
        # A fresh id per rendering: Slack would keep a duration picked on the card before it changed.
        block_id = ids.fresh(ids.CARD_ACTIONS_BLOCK, blocks, actions)
        blocks.append({"type": "actions", "block_id": block_id, "elements": actions})
    return Card(text=_fallback_text(request), blocks=blocks)


def render_retired(
    state: CardState, *, now: datetime, live_url: str | None = None, show_email: bool = False
) -> Card:
    """A second card of one request (it lost a race to the card the app keeps): what the request
    really is, with no buttons, pointing to the card that stays live. Pure, like `render_card`."""
    card = render_card(state, now=now, show_email=show_email)
    blocks = [b for b in card.blocks if b.get("type") != "actions"]
    live = link(live_url, "the request's card") if safe_url(live_url) else "the request's other card"
    blocks.append(context_block(f":link: A duplicate of {live}, which is kept up to date."))
    return Card(text=card.text, blocks=blocks)


# --- parts ----------------------------------------------------------------------------------------


def status_badge(request: AccessRequest) -> str:
    """Emoji + word for the request status, e.g. `✅ Approved`; plain text (safe in plain_text)."""
    return (
        STATUS_BADGES.get(request.status)
        or f"❔ {clip(request.raw_status, 30, label=True, normalize=one_line) or 'Unknown'}"
    )


def _product(request: AccessRequest, limit: int) -> str:
    """The product name as plain text (not escaped), cut to `limit`."""
    return clip(request.product_name, limit, label=True, normalize=one_line) or "Untitled data product"


def _header(request: AccessRequest) -> str:
    suffix = f" · {KIND_LABELS[request.kind]} · {status_badge(request)}"
    return _product(request, HEADER_TEXT_MAX - measure(suffix)) + suffix


def _summary(request: AccessRequest, *, show_email: bool) -> str:
    verb = "requested access" if request.kind is RequestKind.DATA_ACCESS else "requested a masking exception"
    requester = person(request.requester, with_email=show_email)
    if request.through_app:
        # The app's own account filed it (`requests.file_as_app`): the Marketplace's filer is the app.
        filed = f"Filed through Slack for {requester} · Submitted {date(request.created_at)}"
        return f"{requester} {verb}\n{filed}"
    if request.requested_by.marketplace_id == request.requester.marketplace_id:
        who = f"{requester} {verb}"
    else:
        who = f"{person(request.requested_by, with_email=show_email)} {verb} for {requester}"
    return f"{who}\nSubmitted {date(request.created_at)}"


def _answers(request: AccessRequest) -> list[dict[str, Any]]:
    items = [
        f"*{escape_line(a.question, QUESTION_MAX) or 'Question'}*\n"
        + (escape_lines(a.answer, ANSWER_MAX) or "_No answer_")
        for a in request.answers
    ]
    return _pack("📝 *Answers*", items, total=len(items), max_blocks=ANSWER_BLOCKS_MAX, more=_more("answer"))


def _agreements(request: AccessRequest) -> list[dict[str, Any]]:
    if not request.agreements:
        return []
    names = [escape_line(a, AGREEMENT_MAX) or "Unnamed agreement" for a in request.agreements]
    shown = names[:AGREEMENTS_SHOWN_MAX]
    hidden = len(names) - len(shown)
    text = (
        "📄 *Data use agreements accepted:* " + " · ".join(shown) + (f" · +{hidden} more" if hidden else "")
    )
    return [section_block(text)]


def _columns(request: AccessRequest) -> list[dict[str, Any]]:
    total = max(request.columns_total, len(request.columns))
    if total == 0:
        if request.kind is RequestKind.MASKING_EXCEPTION:
            return [
                section_block("🎭 *Columns to unmask:* not listed here; open the request in the Marketplace.")
            ]
        return []
    lines = []
    for c in request.columns[:COLUMNS_SHOWN_MAX]:
        column = escape_line(c.column, COLUMN_PART_MAX) or "Unnamed column"
        source = escape_line(c.source, COLUMN_PART_MAX)
        line = f"• {source} → {column}" if source else f"• {column}"
        tags = [tag for t in c.tags if (tag := escape_line(t, TAG_MAX))]
        if tags:
            extra = len(tags) - TAGS_SHOWN_MAX
            line += " — tags: " + ", ".join(tags[:TAGS_SHOWN_MAX]) + (f", +{extra} more" if extra > 0 else "")
        lines.append(line)
    return _pack(
        f"🎭 *Columns to unmask* ({total})",
        lines,
        total=total,
        max_blocks=COLUMN_BLOCKS_MAX,
        more=_more("column"),
    )


def _risk(risk: RiskAssessment) -> str:
    lines = []
    if risk.conflict_detected:
        lines.append(
            "⚠️ *Conflict detected:* the Marketplace found conflicting signals for this request. "
            "Review carefully."
        )
    # StrEnum members equal their values, so a level the vendor sent as a plain string still matches.
    raw_level = clip(str(risk.level), 30, label=True, normalize=one_line).upper()
    level = RISK_BADGES.get(raw_level) or f"⚪ {escape(raw_level) or 'UNKNOWN'}"
    headline = f"*Risk:* {level}"
    if raw_level == RiskLevel.PENDING:
        headline += " (the assessment is not ready yet)"
    recommendation = escape_line(risk.recommendation, 50)
    if recommendation:
        shown = _RECOMMENDATIONS.get(recommendation.upper()) or recommendation.lower()
        headline += f" · *Recommendation:* {shown}"
    lines.append(headline)
    stats = []
    if risk.n_allowed is not None or risk.n_denied is not None:
        stats.append(f"{int(risk.n_allowed or 0)} similar allowed, {int(risk.n_denied or 0)} denied")
    days = risk.median_days_to_approve
    if days is not None and math.isfinite(days) and days >= 0:
        shown_days = f"{days:.1f}".rstrip("0").rstrip(".")
        stats.append(f"median {shown_days} {'day' if shown_days == '1' else 'days'} to approve")
    if stats:
        lines.append(" · ".join(stats))
    explanation = escape_lines(risk.explanation, EXPLANATION_MAX)
    if explanation:
        lines.append(explanation)
    for title, reasons in (
        ("Reasons to approve", risk.approval_reasons),
        ("Reasons to deny", risk.denial_reasons),
    ):
        shown_reasons = [shown for r in reasons if (shown := escape_line(r, RISK_REASON_MAX))]
        if shown_reasons:
            top = shown_reasons[:RISK_REASONS_SHOWN_MAX]
            more = len(shown_reasons) - len(top)
            lines.append(
                f"*{title}*\n" + "\n".join(f"• {r}" for r in top) + (f"\n+{more} more" if more else "")
            )
    return "\n".join(lines)


def _recent(recent: RecentDeterminations) -> str:
    text = f"🗂 Recent decisions on this product: {recent.approved} approved, {recent.denied} denied"
    status, actor = escape_line(recent.last_status, 30).lower(), escape_line(recent.last_actor, 100)
    last = [status] if status else []
    if actor:
        last.append(f"by {actor}")
    if recent.last_at is not None:
        last.append(f"({date(recent.last_at, '{date_short_pretty}')})")
    return text + (" · last " + " ".join(last) if last else "")


def _steps(request: AccessRequest) -> list[dict[str, Any]]:
    """The review flow as it runs: an "all stewards" stage as parallel records ("2 of 3 stewards have
    approved"), stages one after the other ("Stage 2 of 3: …, after stage 1")."""
    if not request.steps:
        return [section_block("*Approval*\nThe Marketplace reported no approval steps for this request.")]
    stages = review_stages(request.steps)
    lines: list[str] = []
    is_record: list[bool] = []  # which lines stand for one record, for the "+N more" count
    for stage in stages:
        label = f"*Stage {stage.number} of {len(stages)}:* " if len(stages) > 1 else ""
        if stage.is_parallel:
            lines.append(label + stage_progress(stage))
            is_record.append(False)
            lines += [f"• {_step_line(step, stage, parallel=True)}" for step in stage.steps]
            is_record += [True] * len(stage.steps)
        else:
            lines.append(label + _step_line(stage.steps[0], stage, parallel=False))
            is_record.append(True)

    def more(hidden: int) -> str:
        return _more("approval record")(sum(is_record[len(lines) - hidden :]))

    return _pack("*Approval*", lines, total=len(lines), max_blocks=STEP_BLOCKS_MAX, more=more)


def stage_progress(stage: ReviewStage) -> str:
    """How far an "all stewards" stage is, e.g. `2 of 3 stewards have approved; waiting for Jane Doe`."""
    n = len(stage.steps)
    pending = [s for s in stage.steps if s.status is RecordStatus.PENDING]
    blocked = any(s.status is RecordStatus.BLOCKED for s in stage.steps)
    if blocked and not pending and stage.approved == 0:
        return f"🔒 {'both' if n == 2 else f'all {n}'} stewards must approve, {after_words(stage)}"
    text = approved_words(stage)
    denied = sum(1 for s in stage.steps if s.status is RecordStatus.DENIED)
    if denied:
        text += f", {denied} denied"
    if pending:
        shown = [_approvers(s.approvers) for s in pending[:WAITING_SHOWN_MAX]]
        hidden = len(pending) - len(shown)
        text += "; waiting for " + " and ".join(shown) + (f" and {hidden} more" if hidden else "")
    elif blocked:
        text += f"; the rest {after_words(stage)}"
    return text


def approved_words(stage: ReviewStage) -> str:
    """`2 of 3 stewards have approved`: the card's progress line and the thread reply say it alike."""
    verb = "has" if stage.approved == 1 else "have"
    return f"{stage.approved} of {len(stage.steps)} stewards {verb} approved"


def after_words(stage: ReviewStage) -> str:
    """What a stage waits on: `after stage 1`, `after stages 1 and 2`, or `after an earlier stage`."""
    if not stage.after:
        return "after an earlier stage"
    if len(stage.after) == 1:
        return f"after stage {stage.after[0]}"
    return "after stages " + ", ".join(map(str, stage.after[:-1])) + f" and {stage.after[-1]}"


def _step_line(step: ApprovalStep, stage: ReviewStage, *, parallel: bool) -> str:
    """One record: in a parallel stage a bullet under its progress line, so "waiting" is said once."""
    who = _approvers(step.approvers)
    if step.status in (RecordStatus.APPROVED, RecordStatus.DENIED):
        actor = "an approver"
        if step.decided_by is not None:
            actor = person(step.decided_by, with_email=False)
        # describe_step_outcome inserts the reason verbatim, so hand it an escaped copy.
        reason = escape_line(step.reason, STEP_REASON_MAX) or None
        outcome = describe_step_outcome(replace(step, reason=reason), actor)
        icon = "✅" if step.status is RecordStatus.APPROVED else "⛔"
        return f"{icon} {outcome}"
    if step.status is RecordStatus.PENDING:
        return f"⏳ {who}" if parallel else f"⏳ Waiting for {who}"
    if step.status is RecordStatus.BLOCKED:
        return f"🔒 {who}" if parallel else f"🔒 {who}, {after_words(stage)}"
    if step.status is RecordStatus.CANCELED:
        return f"🚫 Canceled · {who}"
    return f"❔ {escape(step.status.value.lower())} · {who}"


def approver_label(approver: Approver) -> str:
    """Who an approver criterion means, for mrkdwn: `Jane Doe`, `group Stewards`, `anyone with GOVERNANCE`."""
    label = escape_line(approver.label, APPROVER_MAX) or escape_line(approver.ref, APPROVER_MAX) or "unknown"
    kind = clip(approver.kind, 40, label=True, normalize=one_line).upper()
    if kind == "USER":
        return label
    if kind == "GROUP":
        return f"group {label}"
    if kind == "PERMISSION":
        return f"anyone with {label}"
    if kind == "DOMAIN PERMISSION":
        return f"anyone with {label} in this domain"
    if kind == "CATALOG PERMISSION":
        return f"anyone with catalog permission {label}"
    if kind == "ATTRIBUTE":
        return f"anyone with attribute {label}"
    return f"{escape(kind.lower()) or 'approver'} {label}"


def _approvers(approvers: Sequence[Approver]) -> str:
    if not approvers:
        return "no approver listed"
    shown = [approver_label(a) for a in approvers[:APPROVERS_SHOWN_MAX]]
    hidden = len(approvers) - len(shown)
    return " or ".join(shown) + (f" or {hidden} more" if hidden else "")


def _final_status(request: AccessRequest, now: datetime) -> str:
    status = request.status
    if status is RequestStatus.APPROVED:
        if request.expiration is None:
            return "✅ *Approved* with no expiration"
        passed = " (that time has passed)" if request.expiration <= now else ""
        return f"✅ *Approved* until {date(request.expiration)}{passed}"
    if status is RequestStatus.EXPIRED and request.expiration is not None:
        return f"⌛ *Expired* {date(request.expiration)}"
    if status in STATUS_BADGES:
        icon, word = STATUS_BADGES[status].split(" ", 1)
        return f"{icon} *{word}*"
    return f"❔ *Status:* {escape_line(request.raw_status, 50) or 'unknown'}"


def _actions(request: AccessRequest, *, decide: bool, review: bool = False) -> list[dict[str, Any]]:
    """The buttons; `review` (a notify-only route) offers the Marketplace as the place to decide."""
    elements: list[dict[str, Any]] = []
    if decide:
        elements += [
            button("Approve", ids.APPROVE, value=request.id, style="primary"),
            duration_select(
                ids.DURATION,
                initial=initial_duration_value(request.requested_duration),
                requested=request.requested_duration,
            ),
            button("Deny", ids.DENY, value=request.id, style="danger"),
        ]
    url = safe_url(request.marketplace_url)
    if url is not None:
        label, style = ("Review in Marketplace", "primary") if review else ("Open in Marketplace", None)
        elements.append(button(label, ids.OPEN_IN_MARKETPLACE, value=request.id, url=url, style=style))
    return elements


def _fallback_text(request: AccessRequest) -> str:
    # Names, not mentions: the fallback is what notifications show, and it should not ping anyone.
    product = _product(request, PRODUCT_IN_TEXT_MAX)
    requester = person_name(request.requester, with_email=False)
    raw = f"{KIND_LABELS[request.kind]} request: {product} for {requester}"
    return escape_clip(f"{raw} ({status_badge(request)})", FALLBACK_TEXT_MAX)


# --- packing --------------------------------------------------------------------------------------


def _more(noun: str) -> Callable[[int], str]:
    return lambda n: f"_+{plural(n, 'more ' + noun)} — open in Marketplace_"


def _pack(
    title: str, items: Sequence[str], *, total: int, max_blocks: int, more: Callable[[int], str]
) -> list[dict[str, Any]]:
    """Lay `title` and `items` (safe mrkdwn) out in at most `max_blocks` sections.

    Items that do not fit become one "+N more" line; `total` may exceed `len(items)` when the
    caller showed (or fetched) only some. Each item must be well under a section's 3000.
    """
    if not items and total == 0:
        return []
    texts: list[str] = []
    current, shown = title, 0
    for item in items:
        left_after = total - shown - 1
        reserve = measure("\n" + more(left_after)) if left_after > 0 else 0
        candidate = f"{current}\n{item}" if current else item
        if measure(candidate) + reserve <= SECTION_TEXT_MAX:
            current, shown = candidate, shown + 1
        elif len(texts) + 1 < max_blocks:
            texts.append(current)
            current, shown = item, shown + 1
        else:
            break
    if total > shown:
        current += "\n" + more(total - shown)
    texts.append(current)
    return [section_block(t) for t in texts]
