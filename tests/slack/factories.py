"""Representative card states, shared by the golden and behaviour tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from marketplace_slack.domain import (
    AccessRequest,
    ApprovalStep,
    Approver,
    CardState,
    Duration,
    DurationUnit,
    FormAnswer,
    InProgress,
    MaskedColumn,
    Person,
    RecentDeterminations,
    RecordStatus,
    RequestKind,
    RequestStatus,
    RiskAssessment,
    RiskLevel,
    Verdict,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CREATED = datetime(2026, 11, 20, 14, 5, tzinfo=UTC)

NORA = Person("u-nora", "nquinn", "Nora Quinn", "nora.quinn@example.com", slack_user_id="U0NORA")
RICK = Person("u-rick", "rmoreno", "Rick Moreno", "rick.moreno@example.com")  # not found in Slack
JANE = Person("u-jane", "jdoe", "Jane Doe", "jane.doe@example.com", slack_user_id="U0JANE")
OMAR = Person("u-omar", "ohassan", "Omar Hassan", "omar.hassan@example.com")
STEWARD_SLACK_ID = "U0STEW"
VERIFIED_SLACK_IDS = frozenset({"U0NORA", "U0JANE", STEWARD_SLACK_ID})

STEWARDS = Approver("GROUP", "Data Stewards", "g-stewards")
GOVERNANCE = Approver("PERMISSION", "GOVERNANCE", "GOVERNANCE")
PRIVACY = Approver("GROUP", "Privacy Office", "g-privacy")
JANE_APPROVER = Approver("USER", "Jane Doe", "u-jane")
URL = "https://marketplace.example.com/requests/req-1001"


def risk_low() -> RiskAssessment:
    return RiskAssessment(
        level=RiskLevel.LOW,
        recommendation="APPROVED",
        n_allowed=12,
        n_denied=1,
        median_days_to_approve=2.5,
        explanation="Similar analysts in Finance were routinely granted access to this product.",
        approval_reasons=(
            "Same department as prior approvals",
            "Purpose matches product use",
            "Short duration",
        ),
        denial_reasons=("One prior denial for an external contractor",),
    )


def pending_data_access() -> CardState:
    request = AccessRequest(
        id="req-1001",
        kind=RequestKind.DATA_ACCESS,
        status=RequestStatus.PENDING,
        raw_status="PENDING",
        product_id="dp-42",
        product_name="Customer 360",
        domain_id="dom-finance",
        requester=NORA,
        requested_by=NORA,
        created_at=CREATED,
        expiration=None,
        steps=(ApprovalStep("st-1", RecordStatus.PENDING, (STEWARDS, GOVERNANCE)),),
        answers=(
            FormAnswer("Business purpose", "Quarterly churn analysis for the EMEA finance review."),
            FormAnswer("Project code", "FIN-2026-117"),
            FormAnswer("Will you share the data outside your team?", "No"),
        ),
        agreements=("Customer Data Handling Policy", "EMEA Data Residency Terms"),
        risk=risk_low(),
        recent=RecentDeterminations(
            approved=5, denied=2, last_actor="Jane Doe", last_status="APPROVED", last_at=NOW
        ),
        requested_duration=Duration(30, DurationUnit.DAYS),
        marketplace_url=URL,
    )
    return CardState(request=request)


def masking_exception() -> CardState:
    request = AccessRequest(
        id="req-2002",
        kind=RequestKind.MASKING_EXCEPTION,
        status=RequestStatus.PENDING,
        raw_status="PENDING",
        product_id="dp-7",
        product_name="Payments Ledger",
        domain_id=None,
        requester=NORA,
        requested_by=NORA,
        created_at=CREATED,
        expiration=None,
        steps=(ApprovalStep("st-1", RecordStatus.PENDING, (JANE_APPROVER,)),),
        answers=(FormAnswer("Why do you need unmasked values?", "Reconciling failed card payments."),),
        columns=(
            MaskedColumn("payments.transactions", "card_number", ("PCI", "Sensitive")),
            MaskedColumn("payments.transactions", "cardholder_name", ("PII",)),
            MaskedColumn("payments.customers", "email", ("PII", "Contact")),
        ),
        columns_total=45,
        risk=RiskAssessment(
            level=RiskLevel.HIGH,
            recommendation="DENIED",
            n_allowed=1,
            n_denied=6,
            median_days_to_approve=None,
            explanation="Unmasking PCI columns is rarely approved for this role.",
            denial_reasons=(
                "PCI columns",
                "No prior approvals for this role",
                "Broad column set",
                "Long duration",
            ),
            conflict_detected=True,
        ),
        marketplace_url="https://marketplace.example.com/requests/req-2002",
    )
    return CardState(request=request)


def multi_step_blocked() -> CardState:
    base = pending_data_access().request
    steps = (
        ApprovalStep(
            "st-1",
            RecordStatus.APPROVED,
            (STEWARDS,),
            decided_by=JANE,
            reason="Looks fine for the churn review.",
            duration=Duration(7, DurationUnit.DAYS),
            updated_at=NOW,
        ),
        ApprovalStep(
            "st-2",
            RecordStatus.PENDING,
            (GOVERNANCE, Approver("DOMAIN PERMISSION", "Manage Policies", "d:m")),
        ),
        ApprovalStep("st-3", RecordStatus.BLOCKED, (PRIVACY,), prerequisites=("st-1", "st-2")),
    )
    request = replace(
        base,
        id="req-3003",
        steps=steps,
        risk=None,
        recent=None,
        requested_duration=Duration(14, DurationUnit.DAYS),
    )
    return CardState(request=request)


def all_stewards() -> CardState:
    """An "all stewards" review: one record per approver source, decided side by side."""
    base = pending_data_access().request
    steps = (
        ApprovalStep("st-1", RecordStatus.APPROVED, (STEWARDS,), decided_by=JANE, updated_at=NOW),
        ApprovalStep(
            "st-2",
            RecordStatus.APPROVED,
            (GOVERNANCE,),
            decided_by=OMAR,
            duration=Duration(30, DurationUnit.DAYS),
            reason="Fine for the quarter.",
            updated_at=NOW,
        ),
        ApprovalStep("st-3", RecordStatus.PENDING, (PRIVACY,)),
    )
    return CardState(request=replace(base, id="req-4004", steps=steps, risk=None, recent=None))


def sequential_stages() -> CardState:
    """Three "any steward" stages, each waiting on the one before it."""
    base = pending_data_access().request
    steps = (
        ApprovalStep("st-1", RecordStatus.APPROVED, (STEWARDS,), decided_by=JANE, updated_at=NOW),
        ApprovalStep("st-2", RecordStatus.PENDING, (GOVERNANCE, JANE_APPROVER), prerequisites=("st-1",)),
        ApprovalStep("st-3", RecordStatus.BLOCKED, (PRIVACY,), prerequisites=("st-2",)),
    )
    return CardState(request=replace(base, id="req-5005", steps=steps, risk=None, recent=None))


def in_progress() -> CardState:
    return CardState(
        request=pending_data_access().request,
        in_progress=InProgress(Verdict.APPROVE, STEWARD_SLACK_ID),
        notice="The Marketplace is slow to answer; retrying.",
    )


def notify_only() -> CardState:
    """A pending request whose route decides in the Marketplace (`decisions: marketplace`)."""
    return CardState(request=pending_data_access().request, notify_only=True)


def approved_with_expiration() -> CardState:
    base = pending_data_access().request
    step = ApprovalStep(
        "st-1",
        RecordStatus.APPROVED,
        (STEWARDS, GOVERNANCE),
        decided_by=OMAR,
        reason="Approved for the quarterly review.",
        duration=Duration(30, DurationUnit.DAYS),
        updated_at=NOW,
    )
    request = replace(
        base,
        status=RequestStatus.APPROVED,
        raw_status="APPROVED",
        steps=(step,),
        expiration=datetime(2026, 12, 23, 9, 0, tzinfo=UTC),
    )
    return CardState(request=request)


def denied() -> CardState:
    base = pending_data_access().request
    step = ApprovalStep(
        "st-1",
        RecordStatus.DENIED,
        (STEWARDS, GOVERNANCE),
        decided_by=JANE,
        reason="Use the aggregated churn dataset instead; row-level data is not needed.",
        updated_at=NOW,
    )
    request = replace(base, status=RequestStatus.DENIED, raw_status="DENIED", steps=(step,))
    return CardState(request=request)


def canceled() -> CardState:
    base = pending_data_access().request
    step = ApprovalStep("st-1", RecordStatus.CANCELED, (STEWARDS,))
    request = replace(base, status=RequestStatus.CANCELED, raw_status="CANCELED", steps=(step,), risk=None)
    return CardState(request=request)


def requested_for_someone_else() -> CardState:
    base = pending_data_access().request
    request = replace(
        base,
        id="req-4004",
        requested_by=RICK,
        requester=NORA,
        answers=(FormAnswer("Business purpose", "Nora joins the churn project next week."),),
        agreements=(),
        risk=RiskAssessment(level=RiskLevel.PENDING),
        recent=None,
        requested_duration=None,
        marketplace_url=None,
    )
    return CardState(request=request)


CARD_STATES: dict[str, Any] = {
    "pending_data_access": pending_data_access,
    "masking_exception": masking_exception,
    "multi_step_blocked": multi_step_blocked,
    "all_stewards": all_stewards,
    "sequential_stages": sequential_stages,
    "in_progress": in_progress,
    "notify_only": notify_only,
    "approved_with_expiration": approved_with_expiration,
    "denied": denied,
    "canceled": canceled,
    "requested_for_someone_else": requested_for_someone_else,
}
