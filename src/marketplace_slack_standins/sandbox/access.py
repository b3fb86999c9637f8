"""Access requests and their determinations: create, decide, cancel, revoke.

Each operation checks who is asking, changes the model through the rules in ``flows`` and emits the
webhook event the vendor names for it. ``now`` can be given so the seeded world can replay history.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from marketplace_slack_standins.sandbox import flows
from marketplace_slack_standins.sandbox.errors import bad_request, conflict, forbidden, not_found
from marketplace_slack_standins.sandbox.ids import iso
from marketplace_slack_standins.sandbox.model import (
    REQUEST_CANCELED,
    REQUEST_CREATED,
    REQUEST_REVOKED,
    REQUEST_UPDATED,
    AccessRequest,
    ApprovalRecord,
    DataProduct,
    Event,
    FormVersion,
    RecordStatus,
    RequestType,
    User,
)
from marketplace_slack_standins.sandbox.policy import (
    AccessDurationField,
    ApproveEvent,
    Approver,
    DenyEvent,
    SelectionField,
    ShortAnswerField,
)
from marketplace_slack_standins.sandbox.state import SandboxState

DURATION_UNITS = ("HOURS", "DAYS", "WEEKS", "MONTHS", "YEARS")


def request_access(
    state: SandboxState,
    caller: User,
    product_id: str,
    *,
    user_id: str,
    form: Any = None,
    kind: RequestType = "DATA_ACCESS",
    columns: Sequence[tuple[str, str]] = (),
    now: datetime | None = None,
) -> AccessRequest:
    """Request access (or a masking exception on ``columns``: (source id, column name)) for a user.

    The caller may request for someone else; they are then the ``requestingUser``.
    """
    now = now or state.now()
    product = state.product(product_id)
    user = state.find_user(user_id)
    if user is None:
        raise bad_request(f"User {user_id} not found")
    version = state.current_form(product, kind)
    check_answers(version, form)
    picked = _masked_columns(state, product, columns) if kind == "MASKING_EXCEPTION" else []
    if kind == "DATA_ACCESS":
        for other in state.product_requests(product):
            if other.user is user and other.type == "DATA_ACCESS" and other.status in ("PENDING", "APPROVED"):
                raise conflict(
                    f"{user.username} already has a {other.status} access request ({other.id}) "
                    f"for {product.name}"
                )
    request = open_request(state, caller, product, user, version, form, kind=kind, columns=picked, now=now)
    state.emit(Event(REQUEST_CREATED, product.id, request.id))
    return request


def open_request(
    state: SandboxState,
    caller: User,
    product: DataProduct,
    user: User,
    version: FormVersion,
    form: Any,
    *,
    kind: RequestType,
    columns: list[tuple[int, str]],
    now: datetime,
) -> AccessRequest:
    """The request made and its review flow started, answers and conflicts checked already (by
    `request_access`, or by a bulk seeder that knows its requesters are new): no event emitted."""
    request = AccessRequest(
        id=state.ids.cuid(),
        product_id=product.id,
        type=kind,
        requesting_user=caller,
        user=user,
        form_version=version.version,
        form=form,
        status="PENDING",
        created_at=now,
        updated_at=now,
        metadata={"columns": [{"columnName": c, "sourceId": str(s)} for s, c in columns]}
        if columns
        else None,
        columns=columns,
    )
    event = flows.choose_event(version.policy, product.policy_for(kind), _facts(state, kind, user, form))
    if isinstance(event, ApproveEvent):
        request.status = "APPROVED"
        request.settled_at = now
        if event.params.duration and event.params.durationUnit:
            request.expiration = flows.add_duration(now, event.params.duration, event.params.durationUnit)
    elif isinstance(event, DenyEvent):
        request.status = "DENIED"
        request.settled_at = now
    else:
        _open_records(state, request, flows.stage_plans(event), now)
    state.requests[request.id] = request
    return request


def _open_records(
    state: SandboxState, request: AccessRequest, plans: list[list[list[Approver]]], now: datetime
) -> None:
    """One record per planned approver list; each stage waits on all records of the stage before it."""
    previous: list[str] = []
    for plan in plans:
        current: list[str] = []
        for approvers in plan:
            record = ApprovalRecord(
                id=state.ids.cuid(),
                request_id=request.id,
                approvers=approvers,
                prerequisites=list(previous),
                status="BLOCKED" if previous else "PENDING",
                created_at=now,
                updated_at=now,
            )
            request.records.append(record)
            state.records[record.id] = record
            current.append(record.id)
        previous = current


def _facts(state: SandboxState, kind: RequestType, user: User, form: Any) -> dict[str, Any]:
    """What review-flow rule conditions can test: the answers by field id, and the requester."""
    facts: dict[str, Any] = dict(form) if isinstance(form, dict) else {}
    facts.update(
        requestType=kind,
        username=user.username,
        attributes=user.attributes,
        groups=sorted(state.groups[g].name for g in user.group_ids),
    )
    return facts


def check_answers(version: FormVersion, form: Any) -> None:
    """Answers are keyed by field id. The API's ``form`` is optional; when given it must be complete."""
    if form is None:
        return
    if not isinstance(form, dict):
        raise bad_request("form must be an object of answers keyed by form field id")
    fields = {f.id: f for f in version.fields}
    unknown = sorted(set(form) - set(fields))
    if unknown:
        raise bad_request(f"form has no field(s) {', '.join(unknown)}")
    for field_id, field in fields.items():
        answer = form.get(field_id)
        if answer is None or answer in ("", []):
            if field.required:
                raise bad_request(f"form field {field.label!r} is required")
            continue
        allowed = {o.value for o in field.options} if isinstance(field, SelectionField) else set()
        if isinstance(field, SelectionField) and field.type == "DROPDOWN":
            if answer not in allowed:
                raise bad_request(f"form field {field.label!r} must be one of {sorted(allowed)}")
        elif isinstance(field, SelectionField):
            if not isinstance(answer, list) or not set(answer) <= allowed:
                raise bad_request(f"form field {field.label!r} takes a list drawn from {sorted(allowed)}")
        elif isinstance(field, ShortAnswerField):
            if not isinstance(answer, str):
                raise bad_request(f"form field {field.label!r} takes text")
        elif isinstance(field, AccessDurationField) and not (
            isinstance(answer, dict)
            and isinstance(answer.get("duration"), int)
            and answer["duration"] >= 1
            and answer.get("durationUnit") in DURATION_UNITS
        ):
            raise bad_request(
                f"form field {field.label!r} takes {{'duration': n >= 1, 'durationUnit': u}} "
                f"with u one of {DURATION_UNITS}"
            )


def _masked_columns(
    state: SandboxState, product: DataProduct, columns: Sequence[tuple[str, str]]
) -> list[tuple[int, str]]:
    if not columns:
        raise bad_request("a masking exception request needs at least one column")
    picked: list[tuple[int, str]] = []
    for source_ref, name in columns:
        source_id = int(source_ref) if source_ref.isdigit() else -1
        if source_id not in product.source_ids:
            raise bad_request(f"Data source {source_ref} is not part of {product.name}")
        column = state.sources[source_id].column(name)
        if column is None:
            raise bad_request(f"Data source {source_ref} has no column {name}")
        if column.masking is None:
            raise bad_request(f"Column {name} of data source {source_ref} is not masked")
        picked.append((source_id, name))
    return picked


def decide(
    state: SandboxState,
    caller: User,
    record_id: str,
    *,
    status: str,
    reason: str | None = None,
    duration: int | None = None,
    duration_unit: str | None = None,
    now: datetime | None = None,
) -> ApprovalRecord:
    """A steward's determination on one approval record (``PUT /api/approval-record/{id}``)."""
    now = now or state.now()
    record = state.record(record_id)
    request = state.request(record.request_id)
    product = state.product(request.product_id)
    if status not in ("APPROVED", "DENIED"):
        raise bad_request(f"status must be APPROVED or DENIED, not {status}")
    if (duration is None) != (duration_unit is None):
        raise bad_request("duration and durationUnit go together")
    if duration is not None and status != "APPROVED":
        raise bad_request("a duration only applies to an approval")
    if not flows.criteria_met(record.approvers, caller, product.domain_ids):
        raise forbidden(
            f"{caller.username} does not meet the approver criteria of approval record {record.id} "
            f"({describe_approvers(record)})"
        )
    if record.status != "PENDING":
        raise conflict(describe_closed(state, record))
    decided_status: RecordStatus = "APPROVED" if status == "APPROVED" else "DENIED"
    flows.decide(
        request,
        record,
        actor=caller,
        status=decided_status,
        reason=reason,
        duration=duration,
        duration_unit=duration_unit,
        now=now,
        domain_ids=product.domain_ids,
    )
    state.emit(Event(REQUEST_UPDATED, product.id, request.id))
    return record


def describe_approvers(record: ApprovalRecord) -> str:
    names: list[str] = []
    for a in record.approvers:
        wire = a.wire()
        label = wire.get("displayName") or wire.get("name") or wire.get("permission") or wire.get("id")
        if a.type == "ATTRIBUTE":
            label = f"{wire['key']}={wire['value']}"
        names.append(f"{a.type} {label}" if label else a.type)
    return "approvers: " + ", ".join(names)


def describe_closed(state: SandboxState, record: ApprovalRecord) -> str:
    """Why a record can no longer be decided: its status and who settled it."""
    if record.status == "BLOCKED":
        waiting = ", ".join(record.prerequisites)
        return f"Approval record {record.id} is BLOCKED until approval record(s) {waiting} are approved"
    if record.action_by is not None:
        return (
            f"Approval record {record.id} is already {record.status}: decided by {record.action_by.name} "
            f"({record.action_by.username}) at {iso(record.updated_at)}"
        )
    return f"Approval record {record.id} is already {record.status}: {record.reason or 'closed'}"


def cancel(
    state: SandboxState, caller: User, request_id: str, *, now: datetime | None = None
) -> AccessRequest:
    """The requester (or a governor) withdraws a pending request; open records are canceled too."""
    now = now or state.now()
    request = state.request(request_id)
    if not (request.involves(caller) or state.is_governor(caller)):
        raise forbidden(f"Only the requester or an administrator can cancel access request {request.id}")
    if request.status != "PENDING":
        raise conflict(
            f"Access request {request.id} is {request.status}; only PENDING requests can be canceled"
        )
    for record in request.records:
        if record.status in flows.OPEN_RECORD_STATUSES:
            record.status = "CANCELED"
            record.reason = f"Request canceled by {caller.name}"
            record.updated_at = now
    request.status = "CANCELED"
    request.canceled_by = caller
    request.settled_at = now
    request.updated_at = now
    state.emit(Event(REQUEST_CANCELED, request.product_id, request.id))
    return request


def revoke(
    state: SandboxState, caller: User, product_id: str, request_id: str, *, now: datetime | None = None
) -> AccessRequest:
    """Remove a member: an approved request becomes REVOKED (managers and the product's stewards)."""
    now = now or state.now()
    product = state.product(product_id)
    request = state.request(request_id)
    if request.product_id != product.id:
        raise not_found(f"Access request {request_id} not found in data product {product.id}")
    if not (state.manages(caller, product) or state.stewards(caller, product)):
        raise forbidden(f"{caller.username} may not revoke access to {product.name}")
    if request.status != "APPROVED":
        raise conflict(
            f"Access request {request.id} is {request.status}; only APPROVED access can be revoked"
        )
    request.status = "REVOKED"
    request.updated_at = now
    state.emit(Event(REQUEST_REVOKED, product.id, request.id))
    return request
