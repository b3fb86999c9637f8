"""Both pagination styles, walked to the end over HTTP."""

from __future__ import annotations

import math

from marketplace_slack_standins.sandbox.world import CUSTOMER_360

from .conftest import Api


async def test_offset_pages_cover_everything_once(api: Api) -> None:
    total = len(api.server.state.requests)
    limit, offset, seen = 7, 0, []
    while True:
        page = (await api.get("/api/access-request", params={"offset": offset, "limit": limit})).json()
        meta = page["meta"]
        assert meta["totalCount"] == total and meta["totalPages"] == math.ceil(total / limit)
        assert meta["currentPage"] == offset // limit + 1 and meta["pageCount"] == len(page["data"])
        assert (meta["offset"], meta["limit"]) == (offset, limit)
        seen += [r["id"] for r in page["data"]]
        offset += limit
        if offset >= total:
            break
    assert len(seen) == len(set(seen)) == total
    beyond = (await api.get("/api/access-request", params={"offset": total, "limit": limit})).json()
    assert beyond["data"] == [] and beyond["meta"]["pageCount"] == 0


async def test_next_token_pages_cover_every_product(api: Api) -> None:
    names, token, pages = [], None, 0
    while True:
        params = {"limit": 6, **({"nextToken": token} if token else {})}
        page = (await api.get("/api/data-product", params=params)).json()
        assert page["meta"]["limit"] == 6
        names += [p["name"] for p in page["data"]]
        pages += 1
        token = page["meta"]["nextToken"]
        if token is None:
            break
    assert pages == math.ceil(len(api.server.state.products) / 6)
    assert names == sorted((p.name for p in api.server.state.products.values()), key=str.casefold)
    backwards = (await api.get("/api/data-product", params={"limit": 100, "sortOrder": "desc"})).json()
    assert [p["name"] for p in backwards["data"]] == names[::-1]


async def test_next_token_pages_of_data_sources(api: Api) -> None:
    product_id = api.product_id(CUSTOMER_360)
    first = (await api.get(f"/api/data-product/{product_id}/datasources", params={"limit": 1})).json()
    second = (
        await api.get(
            f"/api/data-product/{product_id}/datasources",
            params={"limit": 1, "nextToken": first["meta"]["nextToken"]},
        )
    ).json()
    assert second["meta"]["nextToken"] is None
    assert {first["data"][0]["name"], second["data"][0]["name"]} == {"Customer Profiles", "Customer Orders"}


async def test_bad_paging_parameters_are_400s(api: Api) -> None:
    for path, params in (
        ("/api/data-product", {"nextToken": "not-a-token"}),
        ("/api/data-product", {"limit": 101}),
        ("/api/data-product", {"limit": 0}),
        ("/api/access-request", {"offset": -1}),
        ("/api/access-request", {"limit": "ten"}),
        ("/api/access-request", {"status": "SOMETIMES"}),
    ):
        response = await api.get(path, params=params)
        assert response.status_code == 400, (path, params)
        assert response.json()["statusCode"] == 400 and response.json()["error"] == "Bad Request"


async def test_filters_narrow_searches(api: Api) -> None:
    pending = (await api.get("/api/access-request", params={"status": "PENDING", "limit": 100})).json()
    assert pending["data"] and {r["status"] for r in pending["data"]} == {"PENDING"}
    both = (await api.get("/api/access-request", params={"status": ["PENDING", "DENIED"], "limit": 1})).json()
    expected = sum(r.status in ("PENDING", "DENIED") for r in api.server.state.requests.values())
    assert both["meta"]["totalCount"] == expected
    masked = (await api.get("/api/access-request", params={"type": "MASKING_EXCEPTION", "limit": 100})).json()
    assert {r["type"] for r in masked["data"]} == {"MASKING_EXCEPTION"}
    named = (await api.get("/api/data-product", params={"nameFilter": "finance"})).json()
    assert [p["name"] for p in named["data"]] == ["Finance Ledger"]
