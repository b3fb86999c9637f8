"""Faults on demand, request counts, and the sandbox's own error shapes for auth and unknown routes."""

from __future__ import annotations

import time

from marketplace_slack_standins.sandbox.world import RICK, SALES_PIPELINE

from .conftest import Api


async def test_fail_next_fails_exactly_that_many(api: Api) -> None:
    response = await api.control("PUT", "faults", json={"failNext": 2, "failStatus": 503})
    assert response.status_code == 200 and response.json()["failNext"] == 2
    statuses = [(await api.get("/api/data-product")).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    failed = await api.control("GET", "faults")
    assert failed.json()["failNext"] == 0


async def test_injected_failures_use_the_error_shape(api: Api) -> None:
    api.server.faults.set(failNext=1, failStatus=500)
    response = await api.get("/api/auth/user")
    assert response.status_code == 500
    assert response.json() == {
        "statusCode": 500,
        "message": "Fault injected by the Marketplace sandbox",
        "error": "Internal Server Error",
    }


async def test_throttling_carries_retry_after(api: Api) -> None:
    api.server.faults.set(failNext=1, failStatus=429, retryAfter=7)
    throttled = await api.get("/api/data-product")
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "7"
    assert (await api.get("/api/data-product")).status_code == 200


async def test_latency_delays_matching_responses(api: Api) -> None:
    api.server.faults.set(latencyMs=60)
    started = time.perf_counter()
    assert (await api.get("/api/auth/user")).status_code == 200
    assert time.perf_counter() - started >= 0.06


async def test_error_rate_is_seeded(api: Api) -> None:
    async def run() -> list[int]:
        response = await api.control("PUT", "faults", json={"errorRate": 0.5, "errorStatuses": [500, 429]})
        assert response.status_code == 200
        return [(await api.get("/api/auth/user")).status_code for _ in range(30)]

    first, second = await run(), await run()
    assert first == second
    assert {500, 429, 200} == set(first)


async def test_faults_only_hit_their_path_prefix(api: Api) -> None:
    api.server.faults.set(failNext=5, pathPrefix="/marketplace/api/access-request")
    assert (await api.get("/api/data-product")).status_code == 200
    assert (await api.get("/api/access-request")).status_code == 503


async def test_clearing_faults(api: Api) -> None:
    api.server.faults.set(failNext=5)
    cleared = await api.control("DELETE", "faults")
    assert cleared.status_code == 200 and cleared.json()["failNext"] == 0
    assert (await api.get("/api/data-product")).status_code == 200


async def test_bad_fault_settings_are_rejected(api: Api) -> None:
    for body in ({"errorRate": 2}, {"failStatus": 200}, {"surprise": 1}):
        response = await api.control("PUT", "faults", json=body)
        assert response.status_code == 400, body
    assert (await api.control("PUT", "faults", content=b"[1]")).status_code == 400


async def test_stats_count_calls_per_route(api: Api) -> None:
    await api.control("DELETE", "stats")
    await api.request_access(SALES_PIPELINE, RICK)
    await api.get("/api/data-product")
    await api.get("/api/data-product")
    api.server.faults.set(failNext=1)
    await api.get("/api/auth/user")  # failed calls were still made
    stats = (await api.control("GET", "stats")).json()
    assert stats["routes"] == {
        "GET /api/auth/user": 1,
        "GET /api/data-product": 2,
        "POST /api/data-product/{id}/request": 1,
    }
    assert stats["total"] == 4 == api.server.stats.total


async def test_unknown_or_missing_token_is_401(api: Api) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer sbx_nobody"},
        {"Authorization": "Basic c2FyYQ=="},
        {"Authorization": "Bearer sara"},
    ):
        response = await api.client.get("api/data-product", headers=headers)
        assert response.status_code == 401, headers
        assert response.json() == {"statusCode": 401, "message": "Unauthorized", "error": "Unauthorized"}


async def test_unknown_routes_and_ids_are_404s(api: Api) -> None:
    unknown = await api.get("/api/no-such-thing")
    assert (
        unknown.status_code == 404
        and unknown.json()["message"] == "Cannot GET /marketplace/api/no-such-thing"
    )
    wrong_method = await api.call("PATCH", "/api/data-product")
    assert wrong_method.status_code == 404
    for path in (
        "/api/data-product/cnope",
        "/api/access-request/cnope",
        "/api/request-form/nope",
        "/api/metadata/domain/nope",
    ):
        response = await api.get(path)
        assert response.status_code == 404 and response.json()["error"] == "Not Found", path
