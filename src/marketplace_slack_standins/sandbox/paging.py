"""The API's two pagination styles: offset/limit with a ``meta`` block, and an opaque ``nextToken``."""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Sequence
from typing import Any, TypeVar

from marketplace_slack_standins.sandbox.errors import bad_request

T = TypeVar("T")


def offset_page(items: Sequence[T], offset: int, limit: int) -> tuple[list[T], dict[str, Any]]:
    """One page and its ``meta``; ``pageCount`` is the number of items on this page."""
    page = list(items[offset : offset + limit])
    meta = {
        "offset": offset,
        "limit": limit,
        "totalCount": len(items),
        "pageCount": len(page),
        "currentPage": offset // limit + 1,
        "totalPages": math.ceil(len(items) / limit),
    }
    return page, meta


def token_page(items: Sequence[T], token: str | None, limit: int) -> tuple[list[T], dict[str, Any]]:
    """One page and its ``meta``; ``nextToken`` is null on the last page."""
    offset = decode_token(token) if token else 0
    page = list(items[offset : offset + limit])
    following = offset + limit
    return page, {"nextToken": encode_token(following) if following < len(items) else None, "limit": limit}


def encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def decode_token(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise bad_request("Invalid nextToken") from None
    prefix, _, number = text.partition(":")
    if prefix != "offset" or not number.isdigit():
        raise bad_request("Invalid nextToken")
    return int(number)
