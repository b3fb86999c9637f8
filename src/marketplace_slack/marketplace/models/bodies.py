"""Request bodies: what the client sends (strict, except the two large create/update families)."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from marketplace_slack.marketplace.models.base import RequestBody, WireModel
from marketplace_slack.marketplace.models.enums import ApprovalRecordStatus, DurationUnit
from marketplace_slack.marketplace.models.forms import FormField
from marketplace_slack.marketplace.models.policies import Policy
from marketplace_slack.marketplace.models.products import DataProductMetadata


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
