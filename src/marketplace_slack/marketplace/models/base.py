"""Building blocks of the wire models: the base classes, timestamps, numbers and pages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, PlainSerializer, model_validator
from pydantic.alias_generators import to_camel


def _format_datetime(value: datetime) -> str:
    # The API (JavaScript) writes millisecond UTC timestamps with a "Z"; write them back the same way
    # so a parsed body dumps to the bytes it came from.
    if value.tzinfo is not None and value.utcoffset() == UTC.utcoffset(None):
        spec = "milliseconds" if value.microsecond % 1000 == 0 else "microseconds"
        return value.replace(tzinfo=None).isoformat(timespec=spec) + "Z"
    return value.isoformat()


ApiDateTime = Annotated[datetime, PlainSerializer(_format_datetime, return_type=str, when_used="json")]
"""A timestamp: parsed to ``datetime``, written back as ``2025-10-29T15:35:14.436Z``."""

Number = int | float
"""The spec's ``number``: integers stay ``int`` (``7`` days, not ``7.0``)."""


class WireModel(BaseModel):
    """Base of every wire model: camelCase on the wire, snake_case in Python, dumps by alias."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        serialize_by_alias=True,
    )


class ResponseModel(WireModel):
    """A body the server sends: fields added by the vendor later are kept, not rejected."""

    model_config = ConfigDict(extra="allow")


class RequestBody(WireModel):
    """A body we send: strict, so a typo'd field fails here rather than being ignored upstream.

    Passing ``None`` is the same as not passing the field: none of these bodies has a nullable
    field, and the client sends only the fields that were set.
    """

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _none_means_absent(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value is not None}
        return data


class TaggedModel(ResponseModel):
    """A variant of a union tagged by ``type``.

    The tag counts as set even when it came from the default, so dumping with ``exclude_unset``
    (as the client does for request bodies) still writes it.
    """

    def model_post_init(self, context: Any, /) -> None:
        self.model_fields_set.add("type")


UNKNOWN_TAG = "unknown"
"""The tag a tagged union gives a variant it does not know (approvers, policy events, form fields)."""


def tag_of(value: Any, known: frozenset[str]) -> str:
    """The ``type`` of a raw or parsed variant if it is one of ``known``, else :data:`UNKNOWN_TAG`."""
    tag = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return str(tag) if tag in known else UNKNOWN_TAG


T = TypeVar("T")


class PageMeta(ResponseModel):
    """Offset/limit pagination metadata (``meta`` of most search responses)."""

    offset: int = 0
    limit: int = 10
    total_count: int
    page_count: int
    current_page: int
    total_pages: int


class OffsetPage(ResponseModel, Generic[T]):
    """One page of an offset/limit search."""

    data: list[T]
    meta: PageMeta


class TokenPageMeta(ResponseModel):
    """Token pagination metadata: ``next_token`` is ``None`` on the last page."""

    next_token: str | None = None
    limit: int = 10


class TokenPage(ResponseModel, Generic[T]):
    """One page of a ``nextToken`` search (data products, a product's data sources)."""

    data: list[T]
    meta: TokenPageMeta
