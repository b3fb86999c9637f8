"""Request forms (their questions, a union tagged by ``type``) and data use agreements."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag

from marketplace_slack.marketplace.models.base import UNKNOWN_TAG, ApiDateTime, ResponseModel, TaggedModel
from marketplace_slack.marketplace.models.enums import FormFieldType, OpenRequestType
from marketplace_slack.marketplace.models.people import ActorRef
from marketplace_slack.marketplace.models.policies import Policy
from marketplace_slack.marketplace.models.products import DataObjectAsset


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
    return UNKNOWN_TAG


FormField = Annotated[
    Annotated[SelectionFormField, Tag(_SELECTION)]
    | Annotated[ShortAnswerFormField, Tag(FormFieldType.SHORT_ANSWER)]
    | Annotated[AccessDurationFormField, Tag(FormFieldType.ACCESS_DURATION)]
    | Annotated[UnknownFormField, Tag(UNKNOWN_TAG)],
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
