"""Immuta catalogue look-ups: domains, data sources, users, groups, attributes and tags."""

from __future__ import annotations

from pydantic import Field

from marketplace_slack.marketplace.models.base import ApiDateTime, ResponseModel
from marketplace_slack.marketplace.models.people import ImmutaUser


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
