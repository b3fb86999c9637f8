"""Both pagination styles, as generic helpers and through the client's iterators."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from marketplace_slack.marketplace.client import MarketplaceClient
from marketplace_slack.marketplace.errors import MarketplaceError
from marketplace_slack.marketplace.models import OffsetPage, PageMeta, TokenPage, TokenPageMeta
from marketplace_slack.marketplace.pagination import iter_offset_pages, iter_token_pages

from .loopback import Reply, ScriptedServer

MakeClient = Callable[..., MarketplaceClient]


def _offset_source(items: list[int], total: int | None = None) -> tuple[list[tuple[int, int]], Callable]:  # type: ignore[type-arg]
    calls: list[tuple[int, int]] = []

    async def fetch(offset: int, limit: int) -> OffsetPage[int]:
        calls.append((offset, limit))
        data = items[offset : offset + limit]
        count = len(items) if total is None else total
        meta = PageMeta(
            total_count=count, page_count=len(data), current_page=offset // limit + 1, total_pages=0
        )
        return OffsetPage[int](data=data, meta=meta)

    return calls, fetch


async def test_offset_pages_are_walked_in_order() -> None:
    calls, fetch = _offset_source(list(range(23)))
    assert [item async for item in iter_offset_pages(fetch, page_size=10)] == list(range(23))
    assert calls == [(0, 10), (10, 10), (20, 10)]


async def test_an_exact_multiple_does_not_fetch_an_empty_page() -> None:
    calls, fetch = _offset_source(list(range(20)))
    assert len([item async for item in iter_offset_pages(fetch, page_size=10)]) == 20
    assert calls == [(0, 10), (10, 10)]


async def test_an_empty_page_ends_the_walk_even_if_the_total_is_stale() -> None:
    calls, fetch = _offset_source(list(range(5)), total=100)
    assert len([item async for item in iter_offset_pages(fetch, page_size=3)]) == 5
    assert calls == [(0, 3), (3, 3), (5, 3)]  # the offset advances by what actually came back


async def test_pages_are_fetched_lazily() -> None:
    calls, fetch = _offset_source(list(range(50)))
    async for _ in iter_offset_pages(fetch, page_size=10):
        break
    assert calls == [(0, 10)]


async def test_page_size_must_be_positive() -> None:
    _, fetch = _offset_source([])
    with pytest.raises(ValueError, match="page_size"):
        async for _ in iter_offset_pages(fetch, page_size=0):
            pass


def _token_source(pages: dict[str | None, tuple[list[str], str | None]]) -> tuple[list[str | None], Callable]:  # type: ignore[type-arg]
    calls: list[str | None] = []

    async def fetch(token: str | None) -> TokenPage[str]:
        calls.append(token)
        data, next_token = pages[token]
        return TokenPage[str](data=data, meta=TokenPageMeta(next_token=next_token))

    return calls, fetch


async def test_token_pages_follow_next_token_until_it_is_null() -> None:
    calls, fetch = _token_source({None: (["a", "b"], "t1"), "t1": (["c"], "t2"), "t2": (["d"], None)})
    assert [item async for item in iter_token_pages(fetch)] == ["a", "b", "c", "d"]
    assert calls == [None, "t1", "t2"]


async def test_a_repeated_token_is_an_error_not_an_endless_loop() -> None:
    _, fetch = _token_source({None: (["a"], "t1"), "t1": (["b"], "t1")})
    with pytest.raises(MarketplaceError, match="nextToken"):
        async for _ in iter_token_pages(fetch):
            pass


USER = {"id": 1, "iamId": "bim", "globalUserId": "u1", "username": "rick", "name": "Rick"}


def _request(n: int) -> dict[str, object]:
    return {
        "id": f"req{n}",
        "requestingUser": USER,
        "user": USER,
        "formVersion": "v1",
        "type": "DATA_ACCESS",
        "status": "PENDING",
        "createdAt": "2026-11-23T09:00:00.000Z",
        "updatedAt": "2026-11-23T09:00:00.000Z",
    }


def _product(n: int) -> dict[str, object]:
    return {
        "id": f"dp{n}",
        "name": f"Product {n}",
        "domains": ["d1"],
        "suspended": False,
        "createdBy": "u1",
        "createdAt": "2026-11-23T09:00:00.000Z",
        "updatedAt": "2026-11-23T09:00:00.000Z",
        "metadata": None,
    }


def _meta(total: int) -> dict[str, int]:
    return {"totalCount": total, "pageCount": 2, "currentPage": 1, "totalPages": 2}


async def test_client_walks_offset_pages_with_filters(
    server: ScriptedServer, make_client: MakeClient
) -> None:
    server.script(
        Reply(json={"data": [_request(1), _request(2)], "meta": _meta(3)}),
        Reply(json={"data": [_request(3)], "meta": _meta(3)}),
    )
    client = make_client(server.base_url)
    ids = [r.id async for r in client.iter_access_requests(page_size=2, status=["PENDING"])]
    assert ids == ["req1", "req2", "req3"]
    assert [dict(s.query) for s in server.seen] == [
        {"status": "PENDING", "offset": "0", "limit": "2"},
        {"status": "PENDING", "offset": "2", "limit": "2"},
    ]


async def test_client_walks_token_pages(server: ScriptedServer, make_client: MakeClient) -> None:
    server.script(
        Reply(json={"data": [_product(1), _product(2)], "meta": {"nextToken": "abc", "limit": 2}}),
        Reply(json={"data": [_product(3)], "meta": {"nextToken": None, "limit": 2}}),
    )
    client = make_client(server.base_url)
    names = [p.name async for p in client.iter_data_products(page_size=2, name_filter="Prod")]
    assert names == ["Product 1", "Product 2", "Product 3"]
    assert [dict(s.query) for s in server.seen] == [
        {"limit": "2", "nameFilter": "Prod"},
        {"nextToken": "abc", "limit": "2", "nameFilter": "Prod"},
    ]
