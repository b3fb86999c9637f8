"""The client over real loopback HTTP: requests on the wire, retries, backoff and error mapping."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from marketplace_slack.marketplace.client import MarketplaceClient
from marketplace_slack.marketplace.errors import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    RateLimitError,
    ServerError,
)
from marketplace_slack.marketplace.models import (
    AccessRequestStatus,
    ApprovalRecordStatus,
    CreateAccessRequest,
    DurationUnit,
    UpdateApprovalRecordRequest,
)

from .loopback import Reply, ScriptedServer, SleepRecorder, closed_port_url

MakeClient = Callable[..., MarketplaceClient]

USER = {"id": 7, "iamId": "bim", "globalUserId": "u-rick", "username": "rick", "name": "Rick"}
REQUEST = {
    "id": "req1",
    "requestingUser": USER,
    "user": USER,
    "formVersion": "v1",
    "type": "DATA_ACCESS",
    "status": "PENDING",
    "createdAt": "2026-11-23T09:00:00.000Z",
    "updatedAt": "2026-11-23T09:00:00.000Z",
    "dataProduct": {"id": "dp1", "name": "Sales Pipeline"},
}
RECORD = {
    "id": "rec1",
    "dataAccessRequestId": "req1",
    "approvers": [{"type": "USER", "id": "u-sara"}],
    "prerequisites": [],
    "status": "APPROVED",
    "createdAt": "2026-11-23T09:00:00.000Z",
    "updatedAt": "2026-11-23T09:05:00.000Z",
    "approverCriteriaMet": None,
    "duration": 7,
    "durationUnit": "DAYS",
}


async def test_request_carries_token_path_query_and_body(
    server: ScriptedServer, make_client: MakeClient
) -> None:
    server.script(Reply(json=RECORD))
    client = make_client(server.base_url, "sbx_sara")
    body = UpdateApprovalRecordRequest(
        status=ApprovalRecordStatus.APPROVED, reason="ok", duration=7, duration_unit=DurationUnit.DAYS
    )
    record = await client.update_approval_record("rec/1", body)

    assert record.status is ApprovalRecordStatus.APPROVED
    assert record.duration == 7
    (seen,) = server.seen
    assert seen.method == "PUT"
    assert seen.path == "/marketplace/api/approval-record/rec%2F1"  # ids are quoted, never path-joined
    assert seen.headers["Authorization"] == "Bearer sbx_sara"
    assert seen.body == {"status": "APPROVED", "reason": "ok", "duration": 7, "durationUnit": "DAYS"}


async def test_query_arrays_repeat_and_none_is_left_out(
    server: ScriptedServer, make_client: MakeClient
) -> None:
    page = {"data": [REQUEST], "meta": {"totalCount": 1, "pageCount": 1, "currentPage": 1, "totalPages": 1}}
    server.script(Reply(json=page))
    client = make_client(server.base_url)
    result = await client.search_access_requests(
        status=[AccessRequestStatus.PENDING, "APPROVED"], include_temporary=False, search_text=None, limit=5
    )
    assert result.data[0].status is AccessRequestStatus.PENDING
    assert server.seen[0].query == [
        ("status", "PENDING"),
        ("status", "APPROVED"),
        ("includeTemporary", "false"),
        ("offset", "0"),
        ("limit", "5"),
    ]


async def test_product_names_with_spaces_are_path_quoted(
    server: ScriptedServer, make_client: MakeClient
) -> None:
    server.script(Reply(status=404, json={"message": "no such product"}))
    with pytest.raises(NotFoundError, match="no such product"):
        await make_client(server.base_url).get_data_product_by_name("Sales Pipeline/EU")
    assert server.seen[0].path == "/marketplace/api/data-product/Sales%20Pipeline%2FEU/byName"


async def test_get_is_retried_through_503s(
    server: ScriptedServer, make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    server.script(Reply(status=503, text="busy"), Reply(status=503, text="busy"), Reply(json=REQUEST))
    request = await make_client(server.base_url).get_access_request_by_id("req1")
    assert request.id == "req1"
    assert len(server.seen) == 3
    assert sleeps.delays == [0.25, 0.5]  # base * 2**n at the top of the jitter range


async def test_put_and_delete_are_retried_on_gateway_errors(
    server: ScriptedServer, make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    server.script(Reply(status=502), Reply(json=RECORD), Reply(status=504), Reply(status=204))
    client = make_client(server.base_url)
    await client.update_approval_record(
        "rec1", UpdateApprovalRecordRequest(status=ApprovalRecordStatus.DENIED)
    )
    await client.cancel_access_request("req1")
    assert [s.method for s in server.seen] == ["PUT", "PUT", "DELETE", "DELETE"]
    assert len(sleeps.delays) == 2


async def test_retries_give_up_with_the_last_error(
    server: ScriptedServer, make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    server.default = Reply(status=503, json={"message": "maintenance"})
    with pytest.raises(ServerError, match="maintenance") as caught:
        await make_client(server.base_url, max_retries=3).get_access_request_by_id("req1")
    assert caught.value.status_code == 503
    assert len(server.seen) == 4  # the first try and three retries
    assert sleeps.delays == [0.25, 0.5, 1.0]


async def test_429_honours_retry_after_seconds(
    server: ScriptedServer, make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    server.script(Reply(status=429, headers={"Retry-After": "2"}), Reply(json=REQUEST))
    await make_client(server.base_url).get_access_request_by_id("req1")
    assert sleeps.delays == [2.0]


async def test_429_honours_retry_after_http_date(
    server: ScriptedServer, make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    # aiohttp sets its own Date header; an explicit one keeps the arithmetic deterministic.
    date = "Mon, 23 Nov 2026 09:00:00 GMT"
    server.script(
        Reply(status=429, headers={"Retry-After": "Mon, 23 Nov 2026 09:00:03 GMT", "Date": date}),
        Reply(json=REQUEST),
    )
    await make_client(server.base_url).get_access_request_by_id("req1")
    assert sleeps.delays == [3.0]


async def test_retry_after_is_capped(
    server: ScriptedServer, make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    server.script(Reply(status=429, headers={"Retry-After": "3600"}), Reply(json=REQUEST))
    await make_client(server.base_url, backoff_max=8.0).get_access_request_by_id("req1")
    assert sleeps.delays == [8.0]


async def test_rate_limit_error_after_retries_carries_retry_after(
    server: ScriptedServer, make_client: MakeClient
) -> None:
    server.default = Reply(status=429, json={"message": "slow down"}, headers={"Retry-After": "1"})
    with pytest.raises(RateLimitError) as caught:
        await make_client(server.base_url, max_retries=1).get_access_request_by_id("req1")
    assert caught.value.retry_after == 1.0
    assert caught.value.message == "slow down"


async def test_post_that_gets_503_is_not_retried(
    server: ScriptedServer, make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    server.script(Reply(status=503, json={"message": "try later"}), Reply(status=201, json=REQUEST))
    with pytest.raises(ServerError):
        await make_client(server.base_url).request_access("dp1", CreateAccessRequest(user="u-rick"))
    assert len(server.seen) == 1  # the second, successful reply was never asked for
    assert sleeps.delays == []


async def test_post_that_gets_429_is_retried(
    server: ScriptedServer, make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    server.script(Reply(status=429, headers={"Retry-After": "1"}), Reply(status=201, json=REQUEST))
    created = await make_client(server.base_url).request_access("dp1", CreateAccessRequest(user="u-rick"))
    assert created.id == "req1"
    assert [s.method for s in server.seen] == ["POST", "POST"]
    assert server.seen[1].body == {"user": "u-rick"}
    assert sleeps.delays == [1.0]


async def test_connection_refused_is_retried_then_raised(
    make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    client = make_client(closed_port_url(), max_retries=2)
    with pytest.raises(APIConnectionError) as caught:
        await client.get_access_request_by_id("req1")
    assert not isinstance(caught.value, APITimeoutError)
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert sleeps.delays == [0.25, 0.5]


async def test_a_post_that_never_connected_is_retried(make_client: MakeClient, sleeps: SleepRecorder) -> None:
    client = make_client(closed_port_url(), max_retries=1)
    with pytest.raises(APIConnectionError):
        await client.request_access("dp1", CreateAccessRequest(user="u-rick"))
    assert sleeps.delays == [0.25]  # safe: the request provably never reached a server


async def test_read_timeout_retries_get_but_not_post(
    server: ScriptedServer, make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    server.default = Reply(hang=True)
    client = make_client(server.base_url, timeout=0.1, max_retries=1)
    with pytest.raises(APITimeoutError):
        await client.get_access_request_by_id("req1")
    assert len(server.seen) == 2

    with pytest.raises(APITimeoutError):
        await client.request_access("dp1", CreateAccessRequest(user="u-rick"))
    assert len(server.seen) == 3  # one POST: it may have been processed
    assert len(sleeps.delays) == 1


@pytest.mark.parametrize(
    ("status", "cls"), [(403, ForbiddenError), (404, NotFoundError), (409, ConflictError)]
)
async def test_client_errors_are_raised_at_once_with_the_server_message(
    server: ScriptedServer, make_client: MakeClient, sleeps: SleepRecorder, status: int, cls: type[Exception]
) -> None:
    server.script(Reply(status=status, json={"statusCode": status, "message": "nope: because"}))
    with pytest.raises(cls, match="nope: because"):
        await make_client(server.base_url).get_access_request_by_id("req1")
    assert len(server.seen) == 1
    assert sleeps.delays == []


async def test_a_body_that_does_not_match_the_model_is_reported(
    server: ScriptedServer, make_client: MakeClient
) -> None:
    server.script(Reply(json={"id": "req1"}))
    with pytest.raises(APIResponseValidationError) as caught:
        await make_client(server.base_url).get_access_request_by_id("req1")
    assert caught.value.status_code == 200
    assert "/api/access-request/{id}" in str(caught.value)


async def test_with_token_shares_the_pool_and_changes_only_the_token(
    server: ScriptedServer, make_client: MakeClient
) -> None:
    server.default = Reply(json=REQUEST)
    admin = make_client(server.base_url, "sbx_admin")
    sara = admin.with_token("sbx_sara")
    await sara.get_access_request_by_id("req1")
    await admin.get_access_request_by_id("req1")
    assert [s.headers["Authorization"] for s in server.seen] == ["Bearer sbx_sara", "Bearer sbx_admin"]
    assert sara._http is admin._http

    await sara.aclose()  # must not close the shared pool
    await admin.get_access_request_by_id("req1")
    assert len(server.seen) == 3


async def test_aclose_leaves_a_caller_supplied_http_client_open(server: ScriptedServer) -> None:
    server.default = Reply(json=REQUEST)
    async with httpx.AsyncClient() as http:
        async with MarketplaceClient(server.base_url, "sbx_x", http=http) as client:
            await client.get_access_request_by_id("req1")
        assert not http.is_closed
    async with MarketplaceClient(server.base_url, "sbx_x") as owned:
        await owned.get_access_request_by_id("req1")
    assert owned._http.is_closed


async def test_no_token_sends_no_authorization(server: ScriptedServer, make_client: MakeClient) -> None:
    server.default = Reply(json=REQUEST)
    await make_client(server.base_url, None).get_access_request_by_id("req1")
    assert "Authorization" not in server.seen[0].headers
