"""Who may approve (approvers, a union tagged by ``type``) and review flows (policies)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag

from marketplace_slack.marketplace.models.base import UNKNOWN_TAG, Number, ResponseModel, TaggedModel, tag_of
from marketplace_slack.marketplace.models.enums import (
    ApproverType,
    OpenDomainPermission,
    OpenDurationUnit,
    OpenGlobalPermission,
    PolicyEventType,
)

# Approvers: a union tagged by ``type``, with a fallback for tags the spec does not list yet.


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


_APPROVER_TAGS = frozenset(ApproverType)


def _approver_tag(value: Any) -> str:
    return tag_of(value, _APPROVER_TAGS)


Approver = Annotated[
    Annotated[UserApprover, Tag(ApproverType.USER)]
    | Annotated[GroupApprover, Tag(ApproverType.GROUP)]
    | Annotated[PermissionApprover, Tag(ApproverType.PERMISSION)]
    | Annotated[DomainPermissionApprover, Tag(ApproverType.DOMAIN_PERMISSION)]
    | Annotated[AttributeApprover, Tag(ApproverType.ATTRIBUTE)]
    | Annotated[CatalogPermissionApprover, Tag(ApproverType.CATALOG_PERMISSION)]
    | Annotated[UnknownApprover, Tag(UNKNOWN_TAG)],
    Discriminator(_approver_tag),
]
"""One approver; an unlisted ``type`` parses as :class:`UnknownApprover`."""


# Review flows / policies (data products and request forms).


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
    return tag_of(value, _EVENT_TAGS)


PolicyEvent = Annotated[
    Annotated[ApproveEvent, Tag(PolicyEventType.APPROVE)]
    | Annotated[DenyEvent, Tag(PolicyEventType.DENY)]
    | Annotated[ReviewEvent, Tag(PolicyEventType.REVIEW)]
    | Annotated[DataProductPolicyEvent, Tag(PolicyEventType.DATA_PRODUCT_POLICY)]
    | Annotated[UnknownPolicyEvent, Tag(UNKNOWN_TAG)],
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
