"""People: Immuta users as embedded in other bodies, and the caller with their permissions."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from marketplace_slack.marketplace.models.base import ApiDateTime, Number, ResponseModel
from marketplace_slack.marketplace.models.enums import OpenGlobalPermission


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
