"""Wire models for the Immuta Marketplace API, written by hand from the vendor's OpenAPI 3.0 spec.

Conventions (tests/marketplace/test_models_spec.py holds them against the spec):

* Python names are snake_case; the wire uses camelCase (``alias_generator=to_camel``). Models accept
  either spelling and dump by alias, so ``model_dump(mode="json")`` is a wire body.
* Response models (:class:`ResponseModel`) keep fields the vendor adds later (``extra="allow"``), and
  fields the spec marks *nullable* default to ``None`` even when the spec lists them as required, so a
  server that omits a null still parses.
* Request bodies (:class:`RequestBody`) are strict (``extra="forbid"``) and require what the spec
  requires. ``None`` means "leave it out" (the client sends only fields that were set). The two huge,
  rarely used bodies (data-product and request-form create/update) model the important fields and
  let the rest through (``extra="allow"``).
* **Unknown enum values never break a response.** Every enum-valued response field is typed
  ``Open[...]``-style as ``SomeEnum | str``: a known value arrives as the enum member, a value the spec
  does not list yet arrives as the raw ``str`` (and is dumped back unchanged). Compare with members
  (``StrEnum`` members equal their value) or ``isinstance(x, SomeEnum)`` to tell known from new.
  Tagged unions (approvers, policy events, form fields) fall back to an ``Unknown*`` variant that keeps
  the tag and every field. Request bodies use the closed enums: we only ever send known values.
* No domain logic here: these mirror the wire; the app's domain layer interprets them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Discriminator, Field, PlainSerializer, Tag, model_validator
from pydantic.alias_generators import to_camel

# --------------------------------------------------------------------------------------------------
# Enums: values exactly as the spec lists them.
# --------------------------------------------------------------------------------------------------


class AccessRequestStatus(StrEnum):
    """Status of an access request (and the caller's status on a data product)."""

    APPROVED = "APPROVED"
    CANCELED = "CANCELED"
    DENIED = "DENIED"
    PENDING = "PENDING"
    NONE = "NONE"
    PUBLISHER = "PUBLISHER"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"


class ApprovalRecordStatus(StrEnum):
    """Status of one approval record (one review stage of a request)."""

    APPROVED = "APPROVED"
    BLOCKED = "BLOCKED"
    CANCELED = "CANCELED"
    DENIED = "DENIED"
    PENDING = "PENDING"


class RiskRecommendation(StrEnum):
    """The risk model's recommendation: an approval-record status, or NONE."""

    APPROVED = "APPROVED"
    BLOCKED = "BLOCKED"
    CANCELED = "CANCELED"
    DENIED = "DENIED"
    PENDING = "PENDING"
    NONE = "NONE"


class DurationUnit(StrEnum):
    HOURS = "HOURS"
    DAYS = "DAYS"
    WEEKS = "WEEKS"
    MONTHS = "MONTHS"
    YEARS = "YEARS"


class ApproverType(StrEnum):
    """The ``type`` tag of an approver (who may act on an approval record)."""

    USER = "USER"
    GROUP = "GROUP"
    PERMISSION = "PERMISSION"
    DOMAIN_PERMISSION = "DOMAIN PERMISSION"
    ATTRIBUTE = "ATTRIBUTE"
    CATALOG_PERMISSION = "CATALOG PERMISSION"


class GlobalPermission(StrEnum):
    """Immuta global permissions that can make someone an approver."""

    GOVERNANCE = "GOVERNANCE"
    USER_ADMIN = "USER_ADMIN"
    AUDIT = "AUDIT"


class DomainPermission(StrEnum):
    """Domain-scoped permissions that can make someone an approver."""

    MANAGE_POLICIES = "Manage Policies"
    AUDIT_ACTIVITY = "Audit Activity"
    MANAGE_DATA_PRODUCTS = "Manage Data Products"
    MANAGE_IDENTIFIERS = "Manage Identifiers"


class RiskLevel(StrEnum):
    HIGH = "HIGH"
    MODERATE = "MODERATE"
    LOW = "LOW"
    INDETERMINATE = "INDETERMINATE"
    PENDING = "PENDING"


class RequestType(StrEnum):
    DATA_ACCESS = "DATA_ACCESS"
    MASKING_EXCEPTION = "MASKING_EXCEPTION"


class FormFieldType(StrEnum):
    DROPDOWN = "DROPDOWN"
    CHECKBOXES = "CHECKBOXES"
    SHORT_ANSWER = "SHORT_ANSWER"
    ACCESS_DURATION = "ACCESS_DURATION"


class PolicyEventType(StrEnum):
    """What a review-flow rule does when its conditions match."""

    APPROVE = "approve"
    DENY = "deny"
    REVIEW = "review"
    DATA_PRODUCT_POLICY = "dataProductPolicy"


class WebhookTestStatus(StrEnum):
    """Outcome of a webhook test.

    The spec's enum also lists the protobuf ordinals ``0, 1, 2``; those arrive as ``int`` and
    :data:`WEBHOOK_TEST_STATUS_BY_CODE` names them (proto order: UNSPECIFIED=0, SUCCESS=1, FAILED=2).
    """

    UNSPECIFIED = "UNSPECIFIED"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"


WEBHOOK_TEST_STATUS_BY_CODE: dict[int, WebhookTestStatus] = {
    0: WebhookTestStatus.UNSPECIFIED,
    1: WebhookTestStatus.SUCCESS,
    2: WebhookTestStatus.FAILED,
}


class DataSourceSubscriptionStatus(StrEnum):
    """The caller's access to one data source of a data product."""

    NONE = "NONE"
    RESTRICTED = "RESTRICTED"
    SUBSCRIBED = "SUBSCRIBED"


class AssetType(StrEnum):
    DATA_PRODUCT = "DATA_PRODUCT"
    DATA_OBJECT = "DATA_OBJECT"


class Technology(StrEnum):
    """Platform of a registered data object."""

    SNOWFLAKE = "Snowflake"
    POSTGRESQL = "PostgreSQL"
    DATABRICKS = "Databricks"
    GLUE = "Glue"
    MYSQL = "MySQL"
    TERADATA = "Teradata"
    MARIADB = "MariaDB"
    ORACLE = "Oracle"
    SQLSERVER = "SQLServer"
    TRINO = "Trino"
    REDSHIFT = "Redshift"
    BIGQUERY = "BigQuery"


# Query-parameter enums.


class SortOrder(StrEnum):
    ASC = "asc"
    DESC = "desc"


class ColumnSortDirection(StrEnum):
    ASC = "ASC"
    DESC = "DESC"


class AccessRequestSortBy(StrEnum):
    STATUS = "status"
    DATA_PRODUCT = "dataProduct"
    CREATED_AT = "createdAt"
    UPDATED_AT = "updatedAt"
    EXPIRATION = "expiration"


class DataProductSortBy(StrEnum):
    NAME = "name"


class CatalogSortBy(StrEnum):
    """Sort keys of request-form and data-use-agreement searches."""

    NAME = "name"
    CREATED_AT = "createdAt"
    UPDATED_AT = "updatedAt"


class ReviewStatusFilter(StrEnum):
    NO_REVIEWS = "noReviews"
    REVIEWED_BY_YOU = "reviewedByYou"
    AWAITING_REVIEW_FROM_YOU = "awaitingReviewFromYou"


class AccessRequestRole(StrEnum):
    """The caller's role on the requests to search (``role`` of ``GET /api/access-request``)."""

    REQUESTOR = "requestor"
    MANAGER = "manager"
    STEWARD = "steward"


class DataProductRole(StrEnum):
    """The caller's role on the products to search (``roleFilter`` of ``GET /api/data-product``)."""

    MANAGER = "manager"
    MEMBER = "member"
    NO_ROLE = "noRole"
    STEWARD = "steward"


# --------------------------------------------------------------------------------------------------
# Building blocks.
# --------------------------------------------------------------------------------------------------


# ``Enum | str`` tried left to right: a known value becomes the member, a new one stays ``str``.
OpenAccessRequestStatus = Annotated[AccessRequestStatus | str, Field(union_mode="left_to_right")]
OpenApprovalRecordStatus = Annotated[ApprovalRecordStatus | str, Field(union_mode="left_to_right")]
OpenRiskRecommendation = Annotated[RiskRecommendation | str, Field(union_mode="left_to_right")]
OpenDurationUnit = Annotated[DurationUnit | str, Field(union_mode="left_to_right")]
OpenGlobalPermission = Annotated[GlobalPermission | str, Field(union_mode="left_to_right")]
OpenDomainPermission = Annotated[DomainPermission | str, Field(union_mode="left_to_right")]
OpenRiskLevel = Annotated[RiskLevel | str, Field(union_mode="left_to_right")]
OpenRequestType = Annotated[RequestType | str, Field(union_mode="left_to_right")]
OpenSubscriptionStatus = Annotated[DataSourceSubscriptionStatus | str, Field(union_mode="left_to_right")]
OpenAssetType = Annotated[AssetType | str, Field(union_mode="left_to_right")]
OpenTechnology = Annotated[Technology | str, Field(union_mode="left_to_right")]
# Integer ordinals first so 1 stays 1 rather than becoming "1".
OpenWebhookTestStatus = Annotated[int | WebhookTestStatus | str, Field(union_mode="left_to_right")]


def _format_datetime(value: datetime) -> str:
    # The API (JavaScript) writes millisecond UTC timestamps with a "Z"; write them back the same way
    # so a parsed body dumps to the bytes it came from.
    if value.tzinfo is not None and value.utcoffset() == UTC.utcoffset(None):
        spec = "milliseconds" if value.microsecond % 1000 == 0 else "microseconds"
        return value.replace(tzinfo=None).isoformat(timespec=spec) + "Z"
    return value.isoformat()


ApiDateTime = Annotated[datetime, PlainSerializer(_format_datetime, return_type=str, when_used="json")]
"""A timestamp: parsed to ``datetime``, written back as ``2025-10-29T15:35:14.436Z``."""

Number = int | float
"""The spec's ``number``: integers stay ``int`` (``7`` days, not ``7.0``)."""


class WireModel(BaseModel):
    """Base of every wire model: camelCase on the wire, snake_case in Python, dumps by alias."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        serialize_by_alias=True,
    )


class ResponseModel(WireModel):
    """A body the server sends: fields added by the vendor later are kept, not rejected."""

    model_config = ConfigDict(extra="allow")


class RequestBody(WireModel):
    """A body we send: strict, so a typo'd field fails here rather than being ignored upstream.

    Passing ``None`` is the same as not passing the field: none of these bodies has a nullable
    field, and the client sends only the fields that were set.
    """

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _none_means_absent(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value is not None}
        return data


class TaggedModel(ResponseModel):
    """A variant of a union tagged by ``type``.

    The tag counts as set even when it came from the default, so dumping with ``exclude_unset``
    (as the client does for request bodies) still writes it.
    """

    def model_post_init(self, context: Any, /) -> None:
        self.model_fields_set.add("type")


T = TypeVar("T")


class PageMeta(ResponseModel):
    """Offset/limit pagination metadata (``meta`` of most search responses)."""

    offset: int = 0
    limit: int = 10
    total_count: int
    page_count: int
    current_page: int
    total_pages: int


class OffsetPage(ResponseModel, Generic[T]):
    """One page of an offset/limit search."""

    data: list[T]
    meta: PageMeta


class TokenPageMeta(ResponseModel):
    """Token pagination metadata: ``next_token`` is ``None`` on the last page."""

    next_token: str | None = None
    limit: int = 10


class TokenPage(ResponseModel, Generic[T]):
    """One page of a ``nextToken`` search (data products, a product's data sources)."""

    data: list[T]
    meta: TokenPageMeta


# --------------------------------------------------------------------------------------------------
# People.
# --------------------------------------------------------------------------------------------------


class ImmutaUser(ResponseModel):
    """An Immuta user as embedded in requests and records (spec title "Immuta User")."""

    id: int
    iam_id: str
    global_user_id: str
    username: str
    name: str
    email: str | None = None
    authorizations: dict[str, list[str]] | None = None


class ActorRef(ResponseModel):
    """Who created or last updated a request form or data use agreement."""

    global_user_id: str
    name: str


class SubjectMatterExpert(ResponseModel):
    id: str
    username: str | None = None
    name: str | None = None


class TenantInfo(ResponseModel):
    id: str
    fqdn: str | None = None
    organization_id: str | None = None
    organization_name: str | None = None
    global_segment: str | None = None


class CollectionPermission(ResponseModel):
    """A permission the user holds on a collection (e.g. a domain)."""

    id: str
    created_at: ApiDateTime
    collection_id: str
    permission: str
    profile_id: Any = None
    group_id: Any = None


class CurrentUser(ResponseModel):
    """The caller, with permissions (``GET /api/auth/user``; spec ``UserWithPermissionsAndEntitlements``).

    ``global_permissions`` is free text in the spec; values we know come back as
    :class:`GlobalPermission` members.
    """

    display_name: str
    username: str
    expiration: Number
    global_user_id: str
    tracking_id: str
    tenant_info: TenantInfo
    email: str | None = None
    global_permissions: list[OpenGlobalPermission] = Field(default_factory=list)
    collection_permissions: dict[str, list[CollectionPermission]] = Field(default_factory=dict)
    authorizations: dict[str, list[str]]
    groups: list[str]
    chameleon_uid: str | None = Field(default=None, alias="chameleonUID")


# --------------------------------------------------------------------------------------------------
# Approvers: a union tagged by ``type``, with a fallback for tags the spec does not list yet.
# --------------------------------------------------------------------------------------------------


class UserApprover(TaggedModel):
    type: Literal[ApproverType.USER] = ApproverType.USER
    id: str
    display_name: str | None = None


class GroupApprover(TaggedModel):
    type: Literal[ApproverType.GROUP] = ApproverType.GROUP
    id: int | None = None
    iam_id: str | None = None
    name: str


class PermissionApprover(TaggedModel):
    """Anyone holding a global permission, e.g. GOVERNANCE."""

    type: Literal[ApproverType.PERMISSION] = ApproverType.PERMISSION
    permission: OpenGlobalPermission


class DomainPermissionApprover(TaggedModel):
    """Anyone holding a permission on the product's domain (``domain_id`` narrows it to one)."""

    type: Literal[ApproverType.DOMAIN_PERMISSION] = ApproverType.DOMAIN_PERMISSION
    permission: OpenDomainPermission
    domain_id: str | None = None


class AttributeApprover(TaggedModel):
    """Anyone with the user attribute ``key`` = ``value``."""

    type: Literal[ApproverType.ATTRIBUTE] = ApproverType.ATTRIBUTE
    key: str
    value: str


class CatalogPermissionApprover(TaggedModel):
    type: Literal[ApproverType.CATALOG_PERMISSION] = ApproverType.CATALOG_PERMISSION


class UnknownApprover(ResponseModel):
    """An approver type this client does not know; its fields are kept as extras."""

    type: str


_UNKNOWN = "unknown"


def _tag_of(value: Any, known: frozenset[str]) -> str:
    tag = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return str(tag) if tag in known else _UNKNOWN


_APPROVER_TAGS = frozenset(ApproverType)


def _approver_tag(value: Any) -> str:
    return _tag_of(value, _APPROVER_TAGS)


Approver = Annotated[
    Annotated[UserApprover, Tag(ApproverType.USER)]
    | Annotated[GroupApprover, Tag(ApproverType.GROUP)]
    | Annotated[PermissionApprover, Tag(ApproverType.PERMISSION)]
    | Annotated[DomainPermissionApprover, Tag(ApproverType.DOMAIN_PERMISSION)]
    | Annotated[AttributeApprover, Tag(ApproverType.ATTRIBUTE)]
    | Annotated[CatalogPermissionApprover, Tag(ApproverType.CATALOG_PERMISSION)]
    | Annotated[UnknownApprover, Tag(_UNKNOWN)],
    Discriminator(_approver_tag),
]
"""One approver; an unlisted ``type`` parses as :class:`UnknownApprover`."""


# --------------------------------------------------------------------------------------------------
# Review flows / policies (data products and request forms).
# --------------------------------------------------------------------------------------------------


class ApproveParams(ResponseModel):
    comment: str | None = None
    duration: Number | None = None
    duration_unit: OpenDurationUnit | None = None


class ApproveEvent(TaggedModel):
    """Approve automatically, optionally for a limited time."""

    type: Literal[PolicyEventType.APPROVE] = PolicyEventType.APPROVE
    params: ApproveParams


class DenyParams(ResponseModel):
    comment: str | None = None


class DenyEvent(TaggedModel):
    type: Literal[PolicyEventType.DENY] = PolicyEventType.DENY
    params: DenyParams


class ReviewStage(ResponseModel):
    """One stage of a review: every approver (``all``) or any one of them (``any``) must decide."""

    all_of: list[Approver] | None = Field(default=None, alias="all")
    any_of: list[Approver] | None = Field(default=None, alias="any")


class ReviewParams(ResponseModel):
    stages: list[ReviewStage]


class ReviewEvent(TaggedModel):
    """Send the request to people for review, stage after stage."""

    type: Literal[PolicyEventType.REVIEW] = PolicyEventType.REVIEW
    params: ReviewParams


class DataProductPolicyEvent(TaggedModel):
    """Defer to the data product's own policy (request forms only)."""

    type: Literal[PolicyEventType.DATA_PRODUCT_POLICY] = PolicyEventType.DATA_PRODUCT_POLICY


class UnknownPolicyEvent(ResponseModel):
    type: str


_EVENT_TAGS = frozenset(PolicyEventType)


def _event_tag(value: Any) -> str:
    return _tag_of(value, _EVENT_TAGS)


PolicyEvent = Annotated[
    Annotated[ApproveEvent, Tag(PolicyEventType.APPROVE)]
    | Annotated[DenyEvent, Tag(PolicyEventType.DENY)]
    | Annotated[ReviewEvent, Tag(PolicyEventType.REVIEW)]
    | Annotated[DataProductPolicyEvent, Tag(PolicyEventType.DATA_PRODUCT_POLICY)]
    | Annotated[UnknownPolicyEvent, Tag(_UNKNOWN)],
    Discriminator(_event_tag),
]


class PolicyRule(ResponseModel):
    """``conditions`` is the rules engine's ``all``/``any``/``not`` expression, kept as JSON."""

    conditions: dict[str, Any]
    event: PolicyEvent


class Policy(ResponseModel):
    """A review flow: the first rule whose conditions match decides, else ``default_event``.

    One model serves data-product policies (approve/review defaults) and request-form policies
    (which may also deny or defer to the product's policy).
    """

    version: str | None = None
    rules: list[PolicyRule]
    default_event: PolicyEvent


# --------------------------------------------------------------------------------------------------
# Data products.
# --------------------------------------------------------------------------------------------------


class DataProductStats(ResponseModel):
    data_source_count: int
    pending_request_count: int
    approved_request_count: int
    revoked_request_count: int
    canceled_request_count: int
    denied_request_count: int
    total_request_count: int


class DataProductMetadata(ResponseModel):
    subject_matter_expert: SubjectMatterExpert


class DataProduct(ResponseModel):
    """A data product. ``status``/``expiration``/``request_id`` describe the caller's own access."""

    id: str
    name: str
    description: str | None = None
    domains: list[str]
    suspended: bool
    created_by: str
    created_at: ApiDateTime
    updated_at: ApiDateTime
    status: OpenAccessRequestStatus | None = None
    expiration: ApiDateTime | None = None
    stats: DataProductStats | None = None
    request_id: str | None = None
    source_types: list[str] | None = None
    metadata: DataProductMetadata | None = None
    data_access_policy: Policy | None = None
    masking_exception_policy: Policy | None = None


class DataSourceRef(ResponseModel):
    source_id: str


class DataSourceWithStatus(ResponseModel):
    """A data source of a product, with the caller's subscription status."""

    id: str
    name: str
    type: str
    source_id: str
    hostname: str | None = None
    database: str | None = None
    schema_: str | None = Field(default=None, alias="schema")
    table: str | None = None
    prefix: str | None = None
    status: OpenSubscriptionStatus


class AllDataSources(ResponseModel):
    data_sources: list[DataSourceRef]


class MaskingPolicyInfo(ResponseModel):
    masking_type: str
    matching_tag: str | None = None
    matching_regex: str | None = None


class DataProductColumn(ResponseModel):
    """A column of one of the product's data sources (``GET /api/data-product/{id}/columns``)."""

    name: str
    source_id: str
    source_name: str
    tags: list[str]
    type: str | None = None
    global_policy_info: MaskingPolicyInfo | None = None
    local_policy_info: MaskingPolicyInfo | None = None


class DataObjectMetadata(ResponseModel):
    subject_matter_experts: list[SubjectMatterExpert] = Field(default_factory=list)
    object_path: list[str]
    technology: OpenTechnology | None = None
    host: str | None = None
    port: int | None = None
    legacy_type: str | None = None
    data_source_id: int | None = None
    external_link: str | None = None
    description: str | None = None


class DataObjectStats(ResponseModel):
    data_source_count: int


class DataObjectAsset(ResponseModel):
    """A data-object asset a request form is inherited from."""

    id: str
    name: str
    type: OpenAssetType
    created_at: ApiDateTime | None = None
    updated_at: ApiDateTime | None = None
    dag_tag_id: int | None = None
    request_id: str | None = None
    status: OpenAccessRequestStatus | None = None
    metadata: DataObjectMetadata
    registered: bool = True
    stats: DataObjectStats | None = None


# --------------------------------------------------------------------------------------------------
# Access requests, approval records, risk.
# --------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------
# Request forms and data use agreements.
# --------------------------------------------------------------------------------------------------


class FormFieldOption(ResponseModel):
    value: str


class SelectionFormField(TaggedModel):
    """A DROPDOWN (one answer) or CHECKBOXES (several) question."""

    id: str
    type: Literal[FormFieldType.DROPDOWN, FormFieldType.CHECKBOXES]
    label: str
    required: bool = True
    options: list[FormFieldOption]


class ShortAnswerFormField(TaggedModel):
    id: str
    type: Literal[FormFieldType.SHORT_ANSWER] = FormFieldType.SHORT_ANSWER
    label: str
    required: bool = True


class AccessDurationFormField(TaggedModel):
    """The fixed "How long do you need access to this data?" question (always required)."""

    id: str
    type: Literal[FormFieldType.ACCESS_DURATION] = FormFieldType.ACCESS_DURATION
    label: str
    required: bool


class UnknownFormField(ResponseModel):
    id: str | None = None
    type: str
    label: str | None = None


_SELECTION = "selection"


def _form_field_tag(value: Any) -> str:
    tag = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    if tag in (FormFieldType.DROPDOWN, FormFieldType.CHECKBOXES):
        return _SELECTION
    if tag in (FormFieldType.SHORT_ANSWER, FormFieldType.ACCESS_DURATION):
        return str(tag)
    return _UNKNOWN


FormField = Annotated[
    Annotated[SelectionFormField, Tag(_SELECTION)]
    | Annotated[ShortAnswerFormField, Tag(FormFieldType.SHORT_ANSWER)]
    | Annotated[AccessDurationFormField, Tag(FormFieldType.ACCESS_DURATION)]
    | Annotated[UnknownFormField, Tag(_UNKNOWN)],
    Discriminator(_form_field_tag),
]


class DataUseAgreementText(ResponseModel):
    """A data use agreement as embedded in a request form."""

    id: str
    name: str
    body: str


class RequestForm(ResponseModel):
    """A request form: the questions requesters answer, and the review policy it applies.

    ``version`` changes on every edit; an access request records the ``form_version`` it was made
    with (``GET /api/request-form/version/{version}``).
    """

    id: str
    name: str
    fields: list[FormField]
    policy: Policy
    data_use_agreements: list[DataUseAgreementText] = Field(default_factory=list)
    created_by: ActorRef
    created_at: ApiDateTime
    updated_by: ActorRef
    updated_at: ApiDateTime
    version: str


class RequestFormSummary(RequestForm):
    """A request form in search results, with the domains it is used in."""

    associated_domains: list[str]


class DataProductRequestForm(RequestForm):
    """A request form as attached to a data product, for one request type."""

    inherited_from: DataObjectAsset | None = None
    # Required by the spec, yet missing from the vendor's own reference example: tolerate its absence.
    request_type: OpenRequestType | None = None


class LinkedDataProduct(ResponseModel):
    """A data product using a request form, and for which request types."""

    id: str
    name: str
    # Required by the spec, yet missing from the vendor's own reference example: tolerate its absence.
    request_types: list[OpenRequestType] = Field(default_factory=list)


class DataUseAgreement(ResponseModel):
    id: str
    name: str
    body: str
    created_by: ActorRef
    created_at: ApiDateTime
    updated_by: ActorRef
    updated_at: ApiDateTime


class AssociatedRequestForm(ResponseModel):
    id: str
    name: str


# --------------------------------------------------------------------------------------------------
# Metadata (Immuta catalogue look-ups).
# --------------------------------------------------------------------------------------------------


class Domain(ResponseModel):
    id: str
    name: str
    description: str | None = None


class DomainList(ResponseModel):
    domains: list[Domain]


class ImmutaDataSource(ResponseModel):
    data_source_id: int
    name: str
    platform: str
    created_at: ApiDateTime
    prefix: str | None = None
    hostname: str | None = None
    database: str | None = None
    schema_: str | None = Field(default=None, alias="schema")
    table: str | None = None


class ImmutaUserList(ResponseModel):
    users: list[ImmutaUser]


class ImmutaGroup(ResponseModel):
    id: int
    iam_id: str | None = None
    name: str
    email: str | None = None


class ImmutaGroupList(ResponseModel):
    groups: list[ImmutaGroup]


class ImmutaAttribute(ResponseModel):
    type: str
    value: str


class ImmutaAttributeList(ResponseModel):
    attributes: list[ImmutaAttribute]


class ImmutaTag(ResponseModel):
    added_by: int | None = None
    color: str | None = None
    context: str | None = None
    created_at: str | None = None
    created_by: int | None = None
    data_product_name: str | None = None
    deleted: bool | None = None
    description: str | None = None
    display_name: str | None = None
    has_leaf_nodes: bool | None = None
    id: int | None = None
    name: str
    protected: bool | None = None
    source: str | None = None
    system_created: bool | None = None
    updated_at: str | None = None


# --------------------------------------------------------------------------------------------------
# Notifications and webhooks.
# --------------------------------------------------------------------------------------------------


class NotificationTypePreference(ResponseModel):
    notification_type: str
    enabled: bool


class ProviderMetadata(ResponseModel):
    auth_verified: bool | None = None
    teams_store_url: str | None = None


class UserPreference(ResponseModel):
    """The caller's notification settings for one provider (email, Slack, Teams...)."""

    provider: str
    enabled: bool
    type_preferences: list[NotificationTypePreference]
    metadata: ProviderMetadata | None = None


class ProviderPreferences(ResponseModel):
    provider: str
    type_preferences: list[NotificationTypePreference]


class UpdateUserPreferencesResponse(ResponseModel):
    recipient_id: str
    preferences: list[ProviderPreferences]


class Webhook(ResponseModel):
    """A registered webhook. ``signing_key`` only says whether one is set; the key is never returned."""

    id: str
    url: str
    verify_tls: bool = True
    signing_key: bool = False
    suppressed: bool = False


class WebhookTestResult(ResponseModel):
    """``status`` is a :class:`WebhookTestStatus` or, from some servers, its ordinal ``0``-``2``."""

    status: OpenWebhookTestStatus
    http_status_code: int
    error_message: str | None = None


class WebhookDelivery(ResponseModel):
    """One delivery attempt in a webhook's history."""

    webhook_id: str
    delivery_id: str
    status: str
    http_status_code: int
    created_at: ApiDateTime
    message: str


# --------------------------------------------------------------------------------------------------
# Settings.
# --------------------------------------------------------------------------------------------------


class Theme(ResponseModel):
    primary_color: str | None = None
    accent_color: str | None = None
    light_mode_image: str | None = None
    dark_mode_image: str | None = None


class FeatureFlags(ResponseModel):
    statsig_client_key: str | None = None
    statsig_environment: str | None = None


class FrontendSettings(ResponseModel):
    theme: Theme | None = None
    feature_flags: FeatureFlags | None = None


# --------------------------------------------------------------------------------------------------
# Request bodies.
# --------------------------------------------------------------------------------------------------


class UpdateApprovalRecordRequest(RequestBody):
    """Decide an approval record (``PUT /api/approval-record/{id}``).

    ``duration``/``duration_unit`` make an approval temporary; leave them out for a permanent one.
    """

    status: ApprovalRecordStatus
    reason: str | None = None
    duration: int | None = Field(default=None, ge=1)
    duration_unit: DurationUnit | None = None


class CreateAccessRequest(RequestBody):
    """Request access to a data product for ``user`` (a global user id).

    ``form`` holds the answers to the product's request form, keyed by field id.
    """

    user: str
    form: Any = None


class ColumnRef(RequestBody):
    column_name: str
    source_id: str


class CreateMaskingExceptionRequest(RequestBody):
    """Request that masking be lifted on ``columns`` for ``user``."""

    user: str
    form: Any = None
    columns: list[ColumnRef]


class CreateWebhookRequest(RequestBody):
    """Register (or test) a webhook; ``signing_key`` makes the Marketplace sign its deliveries."""

    url: str
    verify_tls: bool | None = None
    signing_key: str | None = None


class UpdateWebhookRequest(RequestBody):
    url: str | None = None
    verify_tls: bool | None = None
    signing_key: str | None = None


class CreateDataUseAgreementRequest(RequestBody):
    id: str | None = None
    name: str
    body: str


class UpdateDataUseAgreementRequest(RequestBody):
    name: str | None = None
    body: str | None = None


class SourceIdRef(RequestBody):
    source_id: str


class UpdateDataSourcesRequest(RequestBody):
    """Replace the data sources of a data product."""

    data_sources: list[SourceIdRef]


class NotificationTypePreferenceUpdate(RequestBody):
    notification_type: str
    enabled: bool


class ProviderPreferencesUpdate(RequestBody):
    provider: str
    type_preferences: list[NotificationTypePreferenceUpdate]


class UpdateUserPreferencesRequest(RequestBody):
    preferences: list[ProviderPreferencesUpdate]


class _LargeRequestBody(WireModel):
    # The create/update bodies of data products and request forms are big (and their review flows
    # deeply nested); we model what the app touches and pass anything else through unchecked.
    model_config = ConfigDict(extra="allow")


class CreateDataProductRequest(_LargeRequestBody):
    name: str
    description: str | None = None
    metadata: DataProductMetadata | None
    domains: list[str]
    id: str | None = None
    data_sources: list[SourceIdRef]
    data_access_policy: Policy | None = None
    masking_exception_policy: Policy | None = None
    request_form_id: str | None = None
    data_access_request_form_id: str | None = None
    masking_exception_request_form_id: str | None = None
    data_access_review_flow: Policy | None = None
    masking_exception_review_flow: Policy | None = None


class UpdateDataProductRequest(_LargeRequestBody):
    name: str | None = None
    description: str | None = None
    metadata: DataProductMetadata | None = None
    domains: list[str] | None = None
    id: str | None = None
    data_access_policy: Policy | None = None
    masking_exception_policy: Policy | None = None
    request_form_id: str | None = None
    data_access_request_form_id: str | None = None
    masking_exception_request_form_id: str | None = None
    data_access_review_flow: Policy | None = None
    masking_exception_review_flow: Policy | None = None
    suspended: bool | None = None


class CreateRequestFormRequest(_LargeRequestBody):
    name: str
    fields: list[FormField]
    policy: Policy
    id: str | None = None
    data_use_agreement_ids: list[str] | None = None


class UpdateRequestFormRequest(_LargeRequestBody):
    name: str | None = None
    fields: list[FormField] | None = None
    policy: Policy | None = None
    id: str | None = None
    data_use_agreement_ids: list[str] | None = None
