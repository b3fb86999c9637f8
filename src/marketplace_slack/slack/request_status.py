"""What the request modal turns into when there is nothing to fill in: loading, submitting, one sentence
(an error, "you already have access"), and the confirmation of a filed request. Pure."""

from __future__ import annotations

from typing import Any, Final

from marketplace_slack.domain import AccessRequest, RequestStatus
from marketplace_slack.slack import ids
from marketplace_slack.slack.cards import approver_label
from marketplace_slack.slack.mrkdwn import date, escape_line, person, section_block, sentence_text
from marketplace_slack.slack.request_views import SENTENCE_MAX, link_button, modal_view, sentence_line
from marketplace_slack.workflow import sentences
from marketplace_slack.workflow.consumer_ports import Filed


def request_loading_modal() -> dict[str, Any]:
    """What the click opens at once, while the form is read: nothing to fill in, Close only."""
    blocks = [section_block(sentence_line(sentences.REQUEST_FORM_LOADING))]
    return modal_view(ids.REQUEST_STATUS_MODAL, None, blocks, "", close="Close")


def request_submitting_modal() -> dict[str, Any]:
    """What a submitted form turns into at once (in the ack), while the request is filed."""
    blocks = [section_block(sentence_line(sentences.REQUEST_SUBMITTING))]
    return modal_view(ids.REQUEST_STATUS_MODAL, None, blocks, "", close="Close")


def request_notice_modal(text: str, *, url: str | None = None, mention: str | None = None) -> dict[str, Any]:
    """One sentence (plain words, escaped here; `mention` where it says MENTION) and an optional link."""
    blocks = [section_block(sentence_text(text, mention, SENTENCE_MAX), accessory=link_button(url))]
    return modal_view(ids.REQUEST_STATUS_MODAL, None, blocks, "", close="Close")


def request_filed_modal(filed: Filed) -> dict[str, Any]:
    """The confirmation: the request, its status, who reviews it, for whom, and where to follow it."""
    request = filed.request
    approved = request.status is RequestStatus.APPROVED
    lead = sentences.REQUEST_APPROVED_AT_ONCE if approved else sentences.REQUEST_FILED
    lines = [
        f"*Data product:* {escape_line(request.product_name, 300) or 'unknown'}",
        f"*Request:* {escape_line(request.id, 300) or 'unknown'}",
        f"*Status:* {_status(request)}",
    ]
    reviewers = _reviewers(request)
    if reviewers and not approved:
        lines.append(f"*Reviewed by:* {reviewers}")
    if filed.for_person is not None:
        lines.append(f"*For:* {person(filed.for_person)}")
    blocks = [section_block(sentence_line(lead)), section_block("\n".join(lines))]
    marketplace = link_button(filed.url)
    if marketplace is not None:
        blocks.append(section_block("Follow it in the Marketplace.", accessory=marketplace))
    card = link_button(filed.card_url, "View the card")
    if card is not None:
        blocks.append(section_block("Stewards review it in Slack.", accessory=card))
    return modal_view(ids.REQUEST_STATUS_MODAL, None, blocks, "", close="Close")


def _status(request: AccessRequest) -> str:
    if request.status is RequestStatus.APPROVED:
        if request.expiration is None:
            return "approved, with no expiration"
        return f"approved until {date(request.expiration)}"
    if request.status is RequestStatus.PENDING:
        return "waiting for review"
    return escape_line(request.raw_status.lower(), 50) or "unknown"


_STEPS_SHOWN: Final = 5


_APPROVERS_SHOWN: Final = 5


def _reviewers(request: AccessRequest) -> str:
    """Who reviews the open steps: `a or b` within a step (any one of them), `and` between steps."""
    steps = request.open_steps
    shown = []
    for step in steps[:_STEPS_SHOWN]:
        labels = [approver_label(a) for a in step.approvers[:_APPROVERS_SHOWN]]
        hidden = len(step.approvers) - len(labels)
        if labels:
            shown.append(" or ".join(labels) + (f" or {hidden} more" if hidden else ""))
    hidden_steps = len(steps) - min(len(steps), _STEPS_SHOWN)
    return " and ".join(shown) + (f" and {hidden_steps} more steps" if hidden_steps and shown else "")
