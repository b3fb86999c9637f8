"""Access requests, their approval records, risk assessments and recent determinations."""

from __future__ import annotations

from typing import Any

from marketplace_slack.marketplace.models.base import ApiDateTime, Number, ResponseModel
from marketplace_slack.marketplace.models.enums import (
    OpenAccessRequestStatus,
    OpenApprovalRecordStatus,
    OpenAssetType,
    OpenDurationUnit,
    OpenRequestType,
    OpenRiskLevel,
    OpenRiskRecommendation,
)
from marketplace_slack.marketplace.models.people import ImmutaUser
from marketplace_slack.marketplace.models.policies import Approver
from marketplace_slack.marketplace.models.products import DataObjectMetadata, MaskingPolicyInfo


class DataProductRef(ResponseModel):
    id: str
    name: str
    description: str | None = None


class AssetRef(ResponseModel):
    """The asset a request is for, when it is a data object rather than a data product."""

    id: str
    type: OpenAssetType
    name: str
    metadata: DataObjectMetadata


class AccessRequest(ResponseModel):
    """An access or masking-exception request (spec ``HydratedAccessRequest``).

    ``form`` holds the requester's answers keyed by form-field id; ``metadata`` carries, for masking
    exceptions, the requested columns. Both are free-form in the spec.
    """

    id: str
    requesting_user: ImmutaUser
    user: ImmutaUser
    form_version: str
    form: Any = None
    type: OpenRequestType
    metadata: Any = None
    status: OpenAccessRequestStatus
    expiration: ApiDateTime | None = None
    created_at: ApiDateTime
    updated_at: ApiDateTime
    data_product: DataProductRef | None = None
    asset: AssetRef | None = None


class ApprovalRecord(ResponseModel):
    """One review stage of a request and its determination.

    ``prerequisites`` are ids of records that must be approved before this one can be acted on
    (status BLOCKED until then); ``approver_criteria_met`` says which approver entry the deciding
    user matched.
    """

    id: str
    data_access_request_id: str
    approvers: list[Approver]
    prerequisites: list[str]
    action_by: ImmutaUser | None = None
    status: OpenApprovalRecordStatus
    reason: str | None = None
    created_at: ApiDateTime
    updated_at: ApiDateTime
    approver_criteria_met: list[Approver] | None = None
    duration: Number | None = None
    duration_unit: OpenDurationUnit | None = None


class ApprovalRecords(ResponseModel):
    approval_records: list[ApprovalRecord]


class CohortLiteral(ResponseModel):
    """One term of the cohort the risk model compared the requester with (any of three shapes)."""

    name: str | None = None
    value: str | None = None
    label: str | None = None
    similar_requests: dict[str, str] | None = None
    negation: bool | None = None


class Cohort(ResponseModel):
    literals: list[CohortLiteral]


class RiskAssessment(ResponseModel):
    """Risk of approving a request (spec ``RiskAssessmentResponse``).

    The spec's two shapes share one model: while the assessment is still running the server sends
    only ``approval_risk`` (usually PENDING) and every other field is ``None``.
    """

    approval_risk: OpenRiskLevel
    conflict_detected: bool | None = None
    recommendation: OpenRiskRecommendation | None = None
    n_allowed: int | None = None
    n_denied: int | None = None
    risk_value: Number | None = None
    cohort: Cohort | None = None
    median_approval_time_window_in_days: Number | None = None
    explanation: str | None = None
    approval_reasons: list[str] | None = None
    denial_reasons: list[str] | None = None


class RecentDetermination(ResponseModel):
    """A recent manual decision on one of a product's requests."""

    id: str
    requesting_user: ImmutaUser
    user: ImmutaUser
    action_by: ImmutaUser | None = None
    reason: str | None = None
    status: OpenApprovalRecordStatus
    created_at: ApiDateTime
    updated_at: ApiDateTime
    expiration: ApiDateTime | None = None


class RecentDeterminations(ResponseModel):
    determinations: list[RecentDetermination]


class RequestedColumn(ResponseModel):
    """A column named by a masking exception (``columnName`` in data source ``sourceId``)."""

    column_name: str
    source_id: str


class MaskingExceptionColumn(ResponseModel):
    """A column of a masking-exception request, with the masking that applies to it."""

    name: str
    source_id: str
    source_name: str
    tags: list[str]
    type: str | None = None
    global_policy_info: MaskingPolicyInfo | None = None
