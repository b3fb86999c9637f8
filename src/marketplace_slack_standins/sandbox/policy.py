"""The review-flow language of request forms and data products, and the form fields, as the spec has them.

A policy is json-rules-engine shaped: ``rules`` (conditions plus an event) and a ``defaultEvent``.
Events approve (optionally for a duration), deny, send the request to review in ``stages``, or
delegate to the data product's own policy. Each stage is ``{"any": [...]}`` (one record any listed
approver may decide) or ``{"all": [...]}`` (one record per approver source); later stages are
prerequisite-blocked until the earlier ones are approved.
"""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from marketplace_slack_standins.sandbox.ids import is_uuid

DurationUnit = Literal["HOURS", "DAYS", "WEEKS", "MONTHS", "YEARS"]
ACCESS_DURATION_LABEL: Literal["How long do you need access to this data?"] = (
    "How long do you need access to this data?"
)


def _uuid(value: str) -> str:
    if not is_uuid(value):
        raise ValueError("must be a UUID")
    return value


UuidStr = Annotated[str, AfterValidator(_uuid)]


class Wire(BaseModel):
    """Frozen so a snapshot of a form or policy cannot change under a request that used it."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    def wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class UserApprover(Wire):
    type: Literal["USER"]
    id: str
    displayName: str | None = None


class GroupApprover(Wire):
    type: Literal["GROUP"]
    id: int | None = None
    iamId: str | None = None
    name: str


class PermissionApprover(Wire):
    type: Literal["PERMISSION"]
    permission: Literal["GOVERNANCE", "USER_ADMIN", "AUDIT"]


class DomainPermissionApprover(Wire):
    type: Literal["DOMAIN PERMISSION"]
    permission: Literal["Manage Policies", "Audit Activity", "Manage Data Products", "Manage Identifiers"]
    domainId: str | None = None


class AttributeApprover(Wire):
    type: Literal["ATTRIBUTE"]
    key: str
    value: str


class CatalogPermissionApprover(Wire):
    type: Literal["CATALOG PERMISSION"]


Approver = Annotated[
    UserApprover
    | GroupApprover
    | PermissionApprover
    | DomainPermissionApprover
    | AttributeApprover
    | CatalogPermissionApprover,
    Field(discriminator="type"),
]


class AnyStage(Wire):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="forbid")
    any_: list[Approver] = Field(alias="any", min_length=1)


class AllStage(Wire):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="forbid")
    all_: list[Approver] = Field(alias="all", min_length=1)


Stage = AnyStage | AllStage


class ApproveParams(Wire):
    model_config = ConfigDict(frozen=True, extra="forbid")
    comment: str | None = None
    duration: int | None = Field(default=None, ge=1)
    durationUnit: DurationUnit | None = None

    @model_validator(mode="after")
    def _paired(self) -> ApproveParams:
        if (self.duration is None) != (self.durationUnit is None):
            raise ValueError("duration and durationUnit go together")
        return self


class ApproveEvent(Wire):
    type: Literal["approve"]
    params: ApproveParams = ApproveParams()

    def wire(self) -> dict[str, Any]:
        # Every parameter is sent, null when unset, as the reference shows them.
        return {"type": self.type, "params": self.params.model_dump(mode="json")}


class DenyParams(Wire):
    comment: str | None = None


class DenyEvent(Wire):
    type: Literal["deny"]
    params: DenyParams = DenyParams()

    def wire(self) -> dict[str, Any]:
        return {"type": self.type, "params": self.params.model_dump(mode="json")}


class ReviewParams(Wire):
    stages: list[Stage] = Field(min_length=1)


class ReviewEvent(Wire):
    type: Literal["review"]
    params: ReviewParams


class DelegateEvent(Wire):
    """``dataProductPolicy``: the form leaves the review flow to each data product using it."""

    type: Literal["dataProductPolicy"]


Event = Annotated[ApproveEvent | DenyEvent | ReviewEvent | DelegateEvent, Field(discriminator="type")]


class Rule(Wire):
    conditions: dict[str, Any]
    event: Event

    @model_validator(mode="after")
    def _one_combinator(self) -> Rule:
        if len(self.conditions) != 1 or next(iter(self.conditions)) not in ("all", "any", "not"):
            raise ValueError("conditions must have exactly one of all, any, not")
        return self


_POLICY_VERSIONS = uuid.UUID("5b0f6c2e-2f4b-4d7e-9a51-3c1f0e8d7a42")


class Policy(Wire):
    version: str | None = None
    rules: list[Rule] = []
    defaultEvent: Event

    def wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rules": [{"conditions": r.conditions, "event": r.event.wire()} for r in self.rules],
            "defaultEvent": self.defaultEvent.wire(),
        }
        # A policy given without a version is versioned by its content: the same flow, the same version.
        content = json.dumps(out, sort_keys=True)
        return {"version": self.version or str(uuid.uuid5(_POLICY_VERSIONS, content)), **out}

    def approvers(self) -> list[Approver]:
        """Every approver source named anywhere in the policy."""
        found: list[Approver] = []
        for event in [r.event for r in self.rules] + [self.defaultEvent]:
            if isinstance(event, ReviewEvent):
                for stage in event.params.stages:
                    found.extend(stage.any_ if isinstance(stage, AnyStage) else stage.all_)
        return found

    def delegates(self) -> bool:
        return any(isinstance(e, DelegateEvent) for e in [r.event for r in self.rules] + [self.defaultEvent])


def default_product_policy() -> Policy:
    """The spec's default for a data product's own policy: any governor or domain product manager."""
    return Policy.model_validate(
        {
            "rules": [],
            "defaultEvent": {
                "type": "review",
                "params": {
                    "stages": [
                        {
                            "any": [
                                {"type": "PERMISSION", "permission": "GOVERNANCE"},
                                {"type": "DOMAIN PERMISSION", "permission": "Manage Data Products"},
                            ]
                        }
                    ]
                },
            },
        }
    )


class Option(Wire):
    value: str


class SelectionField(Wire):
    id: UuidStr | None = None
    type: Literal["DROPDOWN", "CHECKBOXES"]
    label: str
    required: bool = True
    options: list[Option] = Field(min_length=1)


class ShortAnswerField(Wire):
    id: UuidStr | None = None
    type: Literal["SHORT_ANSWER"]
    label: str
    required: bool = True


class AccessDurationField(Wire):
    id: UuidStr | None = None
    type: Literal["ACCESS_DURATION"]
    label: Literal["How long do you need access to this data?"] = ACCESS_DURATION_LABEL
    required: Literal[True] = True


FormField = Annotated[SelectionField | ShortAnswerField | AccessDurationField, Field(discriminator="type")]
