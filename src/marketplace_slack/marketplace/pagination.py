"""Walk paginated searches as async iterators.

The API paginates two ways: offset/limit with a ``meta.totalCount`` (most searches), and an opaque
``meta.nextToken`` (data products and a product's data sources). Each helper takes a function that
fetches one page and yields the items of every page in turn, fetching lazily.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from marketplace_slack.marketplace.errors import MarketplaceError
from marketplace_slack.marketplace.models import OffsetPage, TokenPage

T = TypeVar("T")


async def iter_offset_pages(
    fetch: Callable[[int, int], Awaitable[OffsetPage[T]]],
    *,
    page_size: int = 50,
    offset: int = 0,
) -> AsyncIterator[T]:
    """Yield every item of an offset/limit search; ``fetch(offset, limit)`` gets one page."""
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    while True:
        page = await fetch(offset, page_size)
        for item in page.data:
            yield item
        offset += len(page.data)
        # An empty page also ends the walk: items deleted while we page can leave totalCount stale.
        if not page.data or offset >= page.meta.total_count:
            return


async def iter_token_pages(
    fetch: Callable[[str | None], Awaitable[TokenPage[T]]],
) -> AsyncIterator[T]:
    """Yield every item of a token search; ``fetch(next_token)`` gets one page (``None``: the first)."""
    token: str | None = None
    seen: set[str] = set()
    while True:
        page = await fetch(token)
        for item in page.data:
            yield item
        token = page.meta.next_token
        if not token:
            return
        if token in seen:  # a server bug must not turn into an endless loop
            raise MarketplaceError("pagination did not advance: the server repeated a nextToken")
        seen.add(token)
