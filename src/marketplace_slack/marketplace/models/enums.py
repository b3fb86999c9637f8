"""The API's enums, with values exactly as the spec lists them, and their open forms for responses."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field


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
