"""Request bodies as the spec defines them; a body that does not fit is a 400 naming the field."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from marketplace_slack_standins.sandbox.policy import DurationUnit, FormField, Policy, UuidStr


class Body(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class CreateAccessRequest(Body):
    user: UuidStr
    form: Any = None


class ColumnRef(Body):
    columnName: str
    sourceId: str


class CreateMaskingExceptionRequest(CreateAccessRequest):
    columns: list[ColumnRef] = Field(min_length=1)


class UpdateApprovalRecord(Body):
    model_config = ConfigDict(extra="forbid")  # the spec closes this body

    status: Literal["APPROVED", "BLOCKED", "CANCELED", "DENIED", "PENDING"]
    reason: str | None = None
    duration: int | None = Field(default=None, ge=1)
    durationUnit: DurationUnit | None = None


class SubjectMatterExpert(Body):
    id: UuidStr
    username: str | None = None
    name: str | None = None


class ProductMetadata(Body):
    subjectMatterExpert: SubjectMatterExpert


class SourceRef(Body):
    sourceId: str


class UpdateDataProduct(Body):
    name: str | None = None
    description: str | None = None
    metadata: ProductMetadata | None = None
    domains: list[str] | None = Field(default=None, min_length=1)
    id: UuidStr | None = None
    dataAccessPolicy: Policy | None = None
    maskingExceptionPolicy: Policy | None = None
    requestFormId: str | None = None
    dataAccessRequestFormId: str | None = None
    maskingExceptionRequestFormId: str | None = None
    dataAccessReviewFlow: Policy | None = None
    maskingExceptionReviewFlow: Policy | None = None
    suspended: bool | None = None


class CreateDataProduct(UpdateDataProduct):
    name: str
    metadata: ProductMetadata | None
    domains: list[str] = Field(min_length=1)
    dataSources: list[SourceRef]


class UpdateDataSources(Body):
    dataSources: list[SourceRef]


class UpdateRequestForm(Body):
    name: str | None = Field(default=None, min_length=1)
    fields: list[FormField] | None = None
    policy: Policy | None = None
    id: UuidStr | None = None
    dataUseAgreementIds: list[UuidStr] | None = None


class CreateRequestForm(UpdateRequestForm):
    name: str = Field(min_length=1)
    fields: list[FormField]
    policy: Policy


class UpdateDataUseAgreement(Body):
    name: str | None = Field(default=None, min_length=1)
    body: str | None = None


class CreateDataUseAgreement(Body):
    id: UuidStr | None = None
    name: str = Field(min_length=1)
    body: str


class UpdateWebhook(Body):
    url: str | None = None
    verifyTls: bool | None = None
    signingKey: str | None = None

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("http://", "https://")):
            raise ValueError("url must be an http(s) URL")
        return url


class CreateWebhook(UpdateWebhook):
    url: str
    verifyTls: bool | None = True


class TypePreference(Body):
    notificationType: str
    enabled: bool


class ProviderPreferences(Body):
    provider: str
    typePreferences: list[TypePreference]


class UpdateUserPreferences(Body):
    preferences: list[ProviderPreferences]
