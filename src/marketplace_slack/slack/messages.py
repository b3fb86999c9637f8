"""Messages other than the card: the decision thread reply, the requester's DM, ephemeral replies.

Like the card they are pure functions returning a `Card` (text fallback + blocks), and every
string from a user or the Marketplace is escaped before it reaches mrkdwn.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from marketplace_slack.domain import (
    AccessRequest,
    ApprovalStep,
    RecordStatus,
    RequestKind,
    RequestStatus,
    review_stages,
)
from marketplace_slack.slack import ids
from marketplace_slack.slack.cards import Card, approved_words, status_badge
from marketplace_slack.slack.limits import FALLBACK_TEXT_MAX
from marketplace_slack.slack.mrkdwn import (
    button,
    clip,
    date,
    escape,
    escape_clip,
    escape_line,
    escape_lines,
    one_line,
    person,
    person_name,
    safe_url,
    section_block,
    sentence_text,
)

REASON_SHOWN_MAX: Final = 2000
PRODUCT_SHOWN_MAX: Final = 500


def decision_thread_reply(request: AccessRequest, step: ApprovalStep) -> Card:
    """The reply in a card's thread recording one step's determination: who, what, how long, why.

    Built from the Marketplace's record (the decided step), not from the click, so it states what
    actually happened. The expiration is the request's, once the Marketplace has set it.
    """
    label = _where(request, step)
    who = person(step.decided_by, with_email=False) if step.decided_by else "an approver"
    # The fallback names the decider instead of mentioning them: notifications should not ping.
    who_text = (
        escape_clip(person_name(step.decided_by, with_email=False), 200) if step.decided_by else "an approver"
    )
    reason = escape_lines(step.reason, REASON_SHOWN_MAX)
    if step.status is RecordStatus.APPROVED:
        span = f"for {step.duration.describe()}" if step.duration else "with no expiration"
        line = f"✅ Approved by {who} {span}"
        if request.expiration is not None:
            line += f", until {date(request.expiration)}"
        text = f"Approved by {who_text} {span}"
    elif step.status is RecordStatus.DENIED:
        line, text = f"⛔ Denied by {who}", f"Denied by {who_text}"
    else:
        word = escape(step.status.value.lower())
        line, text = f"Approval step is now {word}", f"Approval step is now {word}"
    line += label
    if reason:
        line += f"\n*Reason:* {reason}"
    return Card(text=text + label, blocks=[section_block(line)])


def _where(request: AccessRequest, step: ApprovalStep) -> str:
    """Where the decided record sits in the review flow, worded as the card words it: ` — 2 of 3
    stewards have approved` in an "all stewards" stage, ` (stage 2 of 3)` when stages follow each other."""
    stages = review_stages(request.steps)
    stage = next((st for st in stages if any(s.id == step.id for s in st.steps)), None)
    if stage is None:
        return ""
    label = ""
    if stage.is_parallel:
        if step.status is RecordStatus.DENIED:
            label = f" — one of {len(stage.steps)} stewards, so the request is denied"
        else:
            label = f" — {approved_words(stage)}"
    if len(stages) > 1:
        label += f" (stage {stage.number} of {len(stages)})"
    return label


# The outcomes after which a requester may want to ask again.
_ASK_AGAIN: Final = frozenset(
    {RequestStatus.DENIED, RequestStatus.CANCELED, RequestStatus.REVOKED, RequestStatus.EXPIRED}
)


def requester_dm(request: AccessRequest, *, now: datetime, as_filer: bool = False) -> Card:
    """The direct message telling the requester how their request ended, with a Marketplace link;
    `as_filer`: the same news for whoever filed it for them.

    The deny reason and the decider come from the request's decided steps; `now` only decides
    whether an approval's expiration has already passed.
    """
    product = clip(request.product_name, PRODUCT_SHOWN_MAX, hint=None, normalize=one_line) or "a data product"
    is_access = request.kind is RequestKind.DATA_ACCESS
    noun = "access to" if is_access else "a masking exception on"
    shown = f"*{escape(product)}*"
    yours = f"Your request for {noun} {shown}"
    grant = f"Your access to {shown}" if is_access else f"Your masking exception on {shown}"
    whose = escape_clip(person_name(request.requester), 300)
    if as_filer:
        yours = f"The request you filed for {whose} for {noun} {shown}"
        grant = f"{whose}'s access to {shown}" if is_access else f"{whose}'s masking exception on {shown}"

    status = request.status
    if status is RequestStatus.APPROVED:
        until = " with no expiration"
        if request.expiration is not None:
            passed = " (that time has passed)" if request.expiration <= now else ""
            until = f" until {date(request.expiration)}{passed}"
        line = f"✅ {yours} was approved{until}."
    elif status is RequestStatus.DENIED:
        denial = next((s for s in request.steps if s.status is RecordStatus.DENIED), None)
        by = f" by {person(denial.decided_by, with_email=False)}" if denial and denial.decided_by else ""
        line = f"⛔ {yours} was denied{by}."
        reason = escape_lines(denial.reason if denial else None, REASON_SHOWN_MAX)
        if reason:
            line += f"\n*Reason:* {reason}"
    elif status is RequestStatus.CANCELED:
        line = f"🚫 {yours} was canceled."
    elif status is RequestStatus.REVOKED:
        line = f"↩️ {grant} was revoked."
    elif status is RequestStatus.EXPIRED:
        line = f"⌛ {grant} has expired."
    elif status is RequestStatus.PENDING:
        line = f"🕓 {yours} is waiting for approval."
    else:
        line = f"❔ {yours} is now *{escape_line(request.raw_status, 50) or 'unknown'}*."
    if request.requested_by.marketplace_id != request.requester.marketplace_id and not as_filer:
        line += f"\n_Requested for you by {escape_clip(person_name(request.requested_by), 300)}._"

    blocks = [section_block(line)]
    elements = []
    if status in _ASK_AGAIN and not as_filer:
        # Opens the request modal here, prefilled with this request's answers.
        elements.append(button("Request again", ids.REQUEST_AGAIN_OPEN, value=request.id))
    url = safe_url(request.marketplace_url)
    if url is not None:
        elements.append(button("Open in Marketplace", ids.OPEN_IN_MARKETPLACE, url=url, value=request.id))
    if elements:
        blocks.append({"type": "actions", "elements": elements})
    text = escape_clip(f"Your request for {noun} {product}: {status_badge(request)}", FALLBACK_TEXT_MAX)
    return Card(text=text, blocks=blocks)


def ephemeral(text: str, *, mentioning: str | None = None) -> Card:
    """A one-line reply only the clicker sees. `text` is escaped (it may quote Marketplace names), so
    the only mention it can carry is `mentioning`'s, put where MENTION stands after escaping."""
    safe = sentence_text(text, mentioning, FALLBACK_TEXT_MAX)
    return Card(text=safe, blocks=[section_block(safe)])


DEFAULT_LINK_PROMPT: Final = "Link your Marketplace account to approve and deny requests from Slack."


def link_account_prompt(text: str | None = None) -> Card:
    """The reply to a steward whose account is not linked yet: one sentence + a "Link account" button.

    `text` replaces the default sentence (escaped, like `ephemeral`).
    """
    sentence = escape_lines(text, FALLBACK_TEXT_MAX) or DEFAULT_LINK_PROMPT
    return Card(
        text=sentence,
        blocks=[section_block(sentence, accessory=button("Link account", ids.LINK_ACCOUNT, style="primary"))],
    )
