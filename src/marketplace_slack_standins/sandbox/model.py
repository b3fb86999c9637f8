"""The sandbox's in-memory entities. Plain mutable records; the rules that change them live elsewhere."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from marketplace_slack_standins.sandbox.policy import Approver, FormField, Policy

RequestType = Literal["DATA_ACCESS", "MASKING_EXCEPTION"]
RequestStatus = Literal["APPROVED", "CANCELED", "DENIED", "PENDING", "REVOKED", "EXPIRED"]
RecordStatus = Literal["APPROVED", "BLOCKED", "CANCELED", "DENIED", "PENDING"]

GOVERNANCE = "GOVERNANCE"
MANAGE_DATA_PRODUCTS = "Manage Data Products"


@dataclass(eq=False)
class User:
    id: int
    username: str
    name: str
    email: str
    global_user_id: str
    created_at: datetime
    permissions: frozenset[str] = frozenset()
    # domain id -> domain-scoped permissions such as "Manage Data Products"
    domain_permissions: dict[str, frozenset[str]] = field(default_factory=dict)
    # Immuta attributes ("authorizations"): key -> values
    attributes: dict[str, list[str]] = field(default_factory=dict)
    group_ids: set[int] = field(default_factory=set)
    iam_id: str = "bim"


@dataclass(eq=False)
class Group:
    id: int
    name: str
    email: str | None
    iam_id: str = "bim"


@dataclass(eq=False)
class Domain:
    id: str
    name: str
    description: str


@dataclass(eq=False)
class Tag:
    id: int
    name: str
    color: str
    created_at: datetime
    created_by: int  # the id of the user who created (and added) it
    description: str
    source: str = "curated"
    data_product: str | None = None  # the data product the Marketplace made this tag for


@dataclass(eq=False)
class Column:
    name: str
    data_type: str
    tags: list[str] = field(default_factory=list)
    masking: str | None = None  # the masking type a global policy applies, None when unmasked
    matching_tag: str | None = None


@dataclass(eq=False)
class DataSource:
    source_id: int  # Immuta's numeric data source id; the API writes it as a string in most places
    link_id: str  # the cuid the data product API uses for the source
    name: str
    platform: str
    domain_id: str
    created_at: datetime
    hostname: str | None
    database: str | None
    schema: str | None
    table: str | None
    prefix: str | None = None  # where an object store (S3) keeps the source's files
    columns: list[Column] = field(default_factory=list)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(eq=False)
class DataUseAgreement:
    id: str
    name: str
    body: str
    created_by: User
    created_at: datetime
    updated_by: User
    updated_at: datetime


@dataclass(frozen=True, eq=False)
class FormVersion:
    """A request form as it was at one version; requests keep the version they were made under."""

    version: str
    form_id: str
    name: str
    fields: tuple[FormField, ...]
    policy: Policy
    agreements: tuple[tuple[str, str, str], ...]  # (id, name, body) as they read at the time
    created_by: User
    created_at: datetime
    updated_by: User
    updated_at: datetime


@dataclass(eq=False)
class RequestForm:
    id: str
    name: str
    fields: list[FormField]
    policy: Policy
    agreement_ids: list[str]
    created_by: User
    created_at: datetime
    updated_by: User
    updated_at: datetime
    version: str = ""


@dataclass(eq=False)
class DataProduct:
    id: str
    name: str
    description: str | None
    domain_ids: list[str]
    source_ids: list[int]
    created_by: User
    created_at: datetime
    updated_at: datetime
    data_access_form_id: str
    masking_form_id: str
    data_access_policy: Policy
    masking_policy: Policy
    expert: User | None = None
    suspended: bool = False

    def form_id_for(self, kind: RequestType) -> str:
        return self.data_access_form_id if kind == "DATA_ACCESS" else self.masking_form_id

    def policy_for(self, kind: RequestType) -> Policy:
        return self.data_access_policy if kind == "DATA_ACCESS" else self.masking_policy


@dataclass(eq=False)
class ApprovalRecord:
    id: str
    request_id: str
    approvers: list[Approver]
    prerequisites: list[str]
    status: RecordStatus
    created_at: datetime
    updated_at: datetime
    action_by: User | None = None
    reason: str | None = None
    criteria_met: list[Approver] | None = None
    duration: int | None = None
    duration_unit: str | None = None


@dataclass(eq=False)
class AccessRequest:
    id: str
    product_id: str
    type: RequestType
    requesting_user: User
    user: User
    form_version: str
    form: Any
    status: RequestStatus
    created_at: datetime
    updated_at: datetime
    metadata: Any = None
    expiration: datetime | None = None
    columns: list[tuple[int, str]] = field(default_factory=list)  # (source id, column name)
    records: list[ApprovalRecord] = field(default_factory=list)
    settled_at: datetime | None = None
    canceled_by: User | None = None
    expiring_notified: bool = False

    def involves(self, user: User) -> bool:
        return user is self.user or user is self.requesting_user


@dataclass(frozen=True)
class Event:
    """Something webhooks are told about."""

    type: str
    data_product_id: str
    access_request_id: str | None = None


REQUEST_CREATED = "marketplace.data_product.access_requests.created"
REQUEST_UPDATED = "marketplace.data_product.access_requests.consumer.updated"
REQUEST_CANCELED = "marketplace.data_product.access_requests.canceled"
REQUEST_REVOKED = "marketplace.data_product.access_requests.revoked"
REQUEST_EXPIRING = "marketplace.data_product.access_requests.expiring"
REQUEST_EXPIRED = "marketplace.data_product.access_requests.expired"
REQUEST_DELETED = "marketplace.data_product.access_requests.deleted"
PRODUCT_CREATED = "marketplace.data_product.state.created"
PRODUCT_DELETED = "marketplace.data_product.state.deleted"
PRODUCT_SOURCES_UPDATED = "marketplace.data_product.data_sources.updated"
