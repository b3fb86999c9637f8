"""Data products, their data sources and columns, and the data-object assets forms inherit from."""

from __future__ import annotations

from pydantic import Field

from marketplace_slack.marketplace.models.base import ApiDateTime, ResponseModel
from marketplace_slack.marketplace.models.enums import (
    OpenAccessRequestStatus,
    OpenAssetType,
    OpenSubscriptionStatus,
    OpenTechnology,
)
from marketplace_slack.marketplace.models.people import SubjectMatterExpert
from marketplace_slack.marketplace.models.policies import Policy


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


class ColumnMasking(ResponseModel):
    """One masking policy on a column, as the API reference shows it: its type, and whether it is global."""

    type: str
    global_: bool = Field(alias="global")


class DataProductColumn(ResponseModel):
    """A column of one of the product's data sources (``GET /api/data-product/{id}/columns``).

    Its masking comes in two shapes: the reference's ``masking`` list and the spec's
    ``global_policy_info``/``local_policy_info``; a tenant may send either or both.
    """

    name: str
    source_id: str
    source_name: str
    tags: list[str]
    type: str | None = None
    masking: list[ColumnMasking] | None = None
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
