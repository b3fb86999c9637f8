"""Wire → domain: the Marketplace's answers as the workflow's types, pure functions of what was read.

Statuses and kinds the app does not know become OTHER rather than failing; people carry the Slack id
the caller found for their email, if any; form answers are read against the form version they answer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from marketplace_slack.domain import (
    AccessRequest,
    Actor,
    ApprovalStep,
    Approver,
    Duration,
    DurationUnit,
    FormAnswer,
    Person,
    RecentDeterminations,
    RecordStatus,
    RequestKind,
    RequestStatus,
    RiskAssessment,
)
from marketplace_slack.marketplace import models as wire


def summary_of(raw: wire.AccessRequest) -> AccessRequest:
    """A request as a list shows it: what the request itself says, no records, answers or enrichment."""
    product_id = raw.data_product.id if raw.data_product else (raw.asset.id if raw.asset else "")
    name = raw.data_product.name if raw.data_product else (raw.asset.name if raw.asset else product_id)
    return AccessRequest(
        id=raw.id,
        kind=kind_of(raw.type),
        status=request_status_of(raw.status),
        raw_status=str(raw.status),
        product_id=product_id,
        product_name=name,
        domain_id=None,
        requester=person_of(raw.user),
        requested_by=person_of(raw.requesting_user),
        created_at=raw.created_at,
        expiration=raw.expiration,
        steps=(),
        updated_at=raw.updated_at,
    )


def kind_of(value: Any) -> RequestKind:
    return (
        RequestKind.MASKING_EXCEPTION
        if str(value) == RequestKind.MASKING_EXCEPTION.value
        else RequestKind.DATA_ACCESS
    )


def request_status_of(value: Any) -> RequestStatus:
    try:
        return RequestStatus(str(value))
    except ValueError:
        return RequestStatus.OTHER


def record_status_of(value: Any) -> RecordStatus:
    try:
        return RecordStatus(str(value))
    except ValueError:
        return RecordStatus.OTHER


def person_of(user: wire.ImmutaUser, slack_user_id: str | None = None) -> Person:
    return Person(
        slack_user_id=slack_user_id,
        marketplace_id=user.global_user_id,
        username=user.username,
        name=user.name or user.username,
        email=user.email,
    )


def actor_of(me: wire.CurrentUser) -> Actor:
    """The caller of `GET /api/auth/user` as the approver rules see them.

    Domain permissions are read from each collection permission's own `collectionId` (the spec does
    not say what the map's keys are), as "domainId:permission"."""
    attributes = frozenset(f"{k}={v}" for k, values in (me.authorizations or {}).items() for v in values)
    return Actor(
        marketplace_id=me.global_user_id,
        username=me.username,
        email=me.email,
        groups=frozenset(me.groups),
        permissions=frozenset(str(p) for p in me.global_permissions),
        attributes=attributes,
        domain_permissions=frozenset(
            f"{p.collection_id}:{p.permission}" for held in me.collection_permissions.values() for p in held
        ),
    )


def approver_of(approver: Any) -> Approver:
    """One wire approver as the approver rules and a card see it."""
    kind = str(getattr(approver, "type", "UNKNOWN"))
    if isinstance(approver, wire.UserApprover):
        return Approver(kind, approver.display_name or approver.id, approver.id)
    if isinstance(approver, wire.GroupApprover):
        return Approver(kind, approver.name, str(approver.id) if approver.id is not None else approver.name)
    if isinstance(approver, wire.PermissionApprover):
        return Approver(kind, str(approver.permission), str(approver.permission))
    if isinstance(approver, wire.DomainPermissionApprover):
        ref = (
            f"{approver.domain_id}:{approver.permission}" if approver.domain_id else str(approver.permission)
        )
        return Approver(kind, str(approver.permission), ref)
    if isinstance(approver, wire.AttributeApprover):
        return Approver(kind, f"{approver.key}: {approver.value}", f"{approver.key}={approver.value}")
    return Approver(kind, kind.title())


def duration_of(amount: Any, unit: Any) -> Duration | None:
    try:
        return Duration(int(amount), DurationUnit(str(unit))) if amount and unit else None
    except ValueError:
        return None


def step_of(
    record: wire.ApprovalRecord, person: Callable[[wire.ImmutaUser], Person] = person_of
) -> ApprovalStep:
    return ApprovalStep(
        id=record.id,
        status=record_status_of(record.status),
        approvers=tuple(approver_of(a) for a in record.approvers),
        prerequisites=tuple(record.prerequisites),
        decided_by=person(record.action_by) if record.action_by else None,
        reason=record.reason or None,
        duration=duration_of(record.duration, record.duration_unit),
        updated_at=record.updated_at,
    )


def risk_of(risk: wire.RiskAssessment) -> RiskAssessment:
    return RiskAssessment(
        level=str(risk.approval_risk),
        recommendation=str(risk.recommendation) if risk.recommendation is not None else None,
        n_allowed=risk.n_allowed,
        n_denied=risk.n_denied,
        median_days_to_approve=float(risk.median_approval_time_window_in_days)
        if risk.median_approval_time_window_in_days is not None
        else None,
        explanation=risk.explanation,
        approval_reasons=tuple(risk.approval_reasons or ()),
        denial_reasons=tuple(risk.denial_reasons or ()),
        conflict_detected=bool(risk.conflict_detected),
    )


def recent_of(recent: wire.RecentDeterminations) -> RecentDeterminations:
    items = recent.determinations
    approved = sum(1 for d in items if str(d.status) == "APPROVED")
    denied = sum(1 for d in items if str(d.status) == "DENIED")
    last = max(items, key=lambda d: d.updated_at, default=None)
    return RecentDeterminations(
        approved=approved,
        denied=denied,
        last_actor=(last.action_by.name if last and last.action_by else None),
        last_status=str(last.status) if last else None,
        last_at=last.updated_at if last else None,
    )


def answers_of(
    submission: Any, form: wire.RequestForm | None
) -> tuple[tuple[FormAnswer, ...], Duration | None]:
    """Pair a submission's values with their questions. The vendor does not publish the submission's
    shape, so this accepts the plausible ones: `{fieldId: value}`, `{"answers": [...]}` or a list of
    `{"fieldId"|"id", "value"}`; values may be text, lists, numbers or `{duration, durationUnit}`."""
    values = _submission_values(submission)
    fields = {f.id: f for f in (form.fields if form else []) if getattr(f, "id", None)}
    answers: list[FormAnswer] = []
    duration: Duration | None = None
    for field_id, value in values:
        field = fields.get(field_id)
        label = getattr(field, "label", None) or field_id
        if isinstance(field, wire.AccessDurationFormField) or _looks_like_duration(value):
            duration = _duration_value(value) or duration
        answers.append(FormAnswer(question=str(label), answer=_answer_text(value)))
    return tuple(answers), duration


def _submission_values(submission: Any) -> list[tuple[str, Any]]:
    if isinstance(submission, dict):
        inner = submission.get("answers", submission.get("fields"))
        if isinstance(inner, list | dict):
            return _submission_values(inner)
        return [(str(k), v) for k, v in submission.items()]
    if isinstance(submission, list):
        pairs = []
        for item in submission:
            if isinstance(item, dict):
                key = item.get("fieldId") or item.get("id") or item.get("label") or "answer"
                pairs.append((str(key), item.get("value", item.get("answer"))))
        return pairs
    return []


def _looks_like_duration(value: Any) -> bool:
    return isinstance(value, dict) and "duration" in value and ("durationUnit" in value or "unit" in value)


def _duration_value(value: Any) -> Duration | None:
    if isinstance(value, dict):
        return duration_of(value.get("duration"), value.get("durationUnit", value.get("unit")))
    return None


def _answer_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(_answer_text(v) for v in value)
    if _looks_like_duration(value):
        parsed = _duration_value(value)
        return parsed.describe() if parsed else str(value.get("duration"))
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_answer_text(v)}" for k, v in value.items())
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
