"""The client against the Marketplace sandbox over real loopback HTTP: the review flow end to end."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.marketplace.client import MarketplaceClient
from marketplace_slack.marketplace.errors import ConflictError, ForbiddenError, ServerError
from marketplace_slack.marketplace.models import (
    AccessRequest,
    AccessRequestStatus,
    ApprovalRecord,
    ApprovalRecordStatus,
    CreateAccessRequest,
    DurationUnit,
    RiskLevel,
    UpdateApprovalRecordRequest,
)

from .conftest import TopOfRange
from .loopback import SleepRecorder

SALES = "Sales Pipeline"
APPROVE_7_DAYS = UpdateApprovalRecordRequest(
    status=ApprovalRecordStatus.APPROVED,
    reason="Quarterly forecast",
    duration=7,
    duration_unit=DurationUnit.DAYS,
)
DENY = UpdateApprovalRecordRequest(
    status=ApprovalRecordStatus.DENIED, reason="Use the aggregate view instead"
)


@pytest.fixture
async def admin(sandbox: Any, sleeps: SleepRecorder) -> AsyncIterator[MarketplaceClient]:
    async with MarketplaceClient(
        sandbox.base_url, sandbox.token_for("admin"), sleep=sleeps, rng=TopOfRange(), timeout=5.0
    ) as client:
        yield client


def as_user(admin: MarketplaceClient, sandbox: Any, username: str) -> MarketplaceClient:
    return admin.with_token(sandbox.token_for(username))


async def request_as_rick(admin: MarketplaceClient, sandbox: Any, product_name: str = SALES) -> AccessRequest:
    rick = as_user(admin, sandbox, "rick")
    me = await rick.get_current_user()
    product = await rick.get_data_product_by_name(product_name)
    return await rick.request_access(product.id, CreateAccessRequest(user=me.global_user_id))


async def pending_record(client: MarketplaceClient, request_id: str) -> ApprovalRecord:
    records = (await client.get_access_request_records(request_id)).approval_records
    (pending,) = [r for r in records if r.status == ApprovalRecordStatus.PENDING]
    return pending


async def test_products_page_by_token(admin: MarketplaceClient, sandbox: Any) -> None:
    first = await admin.search_data_products(limit=2)
    assert len(first.data) == 2
    assert first.meta.next_token  # more than one page at this size

    names = [product.name async for product in admin.iter_data_products(page_size=2)]
    assert {SALES, "Customer 360", "Finance Ledger", "Marketing Events"} <= set(names)
    assert len(names) == len(set(names))  # no page served twice
    assert names[:2] == [p.name for p in first.data]
    assert sandbox.stats.counts["GET /api/data-product"] >= 1 + -(-len(names) // 2)


async def test_data_sources_page_by_token(admin: MarketplaceClient) -> None:
    product = await admin.get_data_product_by_name("Customer 360")
    everything = (await admin.get_all_data_sources(product.id)).data_sources
    paged = [source async for source in admin.iter_data_sources(product.id, page_size=1)]
    assert sorted(s.source_id for s in paged) == sorted(s.source_id for s in everything)


async def test_requests_page_by_offset(admin: MarketplaceClient, sandbox: Any) -> None:
    for name in (SALES, "Customer 360", "Finance Ledger"):
        await request_as_rick(admin, sandbox, name)
    rick = (await as_user(admin, sandbox, "rick").get_current_user()).global_user_id
    one_page = await admin.search_access_requests(user_ids=[rick], limit=100)
    assert 3 <= one_page.meta.total_count <= 100

    walked = [r.id async for r in admin.iter_access_requests(page_size=2, user_ids=[rick])]
    assert walked == [r.id for r in one_page.data]
    assert len(walked) == one_page.meta.total_count
    assert sandbox.stats.counts["GET /api/access-request"] == 1 + -(-len(walked) // 2)


async def test_request_then_approve_for_seven_days(
    admin: MarketplaceClient, sandbox: Any, clock: FakeClock
) -> None:
    request = await request_as_rick(admin, sandbox)
    assert request.status is AccessRequestStatus.PENDING
    assert request.requesting_user.username == "rick"

    sara = as_user(admin, sandbox, "sara")
    record = await pending_record(sara, request.id)
    risk = await sara.get_risk_assessment(request.id)
    assert isinstance(risk.approval_risk, RiskLevel)

    decided = await sara.update_approval_record(record.id, APPROVE_7_DAYS)
    assert decided.status is ApprovalRecordStatus.APPROVED
    assert decided.action_by is not None and decided.action_by.username == "sara"
    assert decided.duration == 7
    assert decided.duration_unit is DurationUnit.DAYS

    after = await admin.get_access_request(request.id)
    assert after.status is AccessRequestStatus.APPROVED
    assert after.expiration == clock.now() + timedelta(days=7)


async def test_deny(admin: MarketplaceClient, sandbox: Any) -> None:
    request = await request_as_rick(admin, sandbox)
    omar = as_user(admin, sandbox, "omar")
    decided = await omar.update_approval_record((await pending_record(omar, request.id)).id, DENY)
    assert decided.status is ApprovalRecordStatus.DENIED
    assert decided.reason == DENY.reason
    assert (await admin.get_access_request(request.id)).status is AccessRequestStatus.DENIED


async def test_a_non_approver_is_forbidden_with_the_server_message(
    admin: MarketplaceClient, sandbox: Any
) -> None:
    request = await request_as_rick(admin, sandbox)
    record = await pending_record(admin, request.id)
    with pytest.raises(ForbiddenError) as caught:
        await as_user(admin, sandbox, "nora").update_approval_record(record.id, APPROVE_7_DAYS)
    assert caught.value.status_code == 403
    assert caught.value.message and caught.value.message != "HTTP 403"  # the server's own words
    assert caught.value.message in str(caught.value)
    assert (await pending_record(admin, request.id)).id == record.id  # nothing was decided


async def test_a_second_decision_conflicts(admin: MarketplaceClient, sandbox: Any) -> None:
    request = await request_as_rick(admin, sandbox)
    sara, omar = as_user(admin, sandbox, "sara"), as_user(admin, sandbox, "omar")
    record = await pending_record(sara, request.id)
    await sara.update_approval_record(record.id, APPROVE_7_DAYS)
    with pytest.raises(ConflictError) as caught:
        await omar.update_approval_record(record.id, DENY)
    assert caught.value.status_code == 409
    assert (await admin.get_access_request(request.id)).status is AccessRequestStatus.APPROVED


async def test_gets_are_retried_through_injected_503s(
    admin: MarketplaceClient, sandbox: Any, sleeps: SleepRecorder
) -> None:
    sandbox.faults.set(failNext=2, failStatus=503)
    product = await admin.get_data_product_by_name(SALES)
    assert product.name == SALES
    assert sleeps.delays == [0.25, 0.5]
    assert sandbox.stats.counts["GET /api/data-product/{name}/byName"] == 3


async def test_429_is_retried_after_the_servers_retry_after(
    admin: MarketplaceClient, sandbox: Any, sleeps: SleepRecorder
) -> None:
    sandbox.faults.set(failNext=1, failStatus=429, retryAfter=1)
    me = await admin.get_current_user()
    assert me.username == "admin"
    assert sleeps.delays == [1.0]


async def test_a_create_that_gets_503_is_not_repeated(
    admin: MarketplaceClient, sandbox: Any, sleeps: SleepRecorder
) -> None:
    rick = as_user(admin, sandbox, "rick")
    me = await rick.get_current_user()
    product = await rick.get_data_product_by_name(SALES)
    before = await admin.search_data_product_access_requests(
        product.id, user_ids=[me.global_user_id], limit=100
    )

    sandbox.faults.set(failNext=1, failStatus=503)
    with pytest.raises(ServerError):
        await rick.request_access(product.id, CreateAccessRequest(user=me.global_user_id))
    sandbox.faults.clear()

    assert sleeps.delays == []
    assert sandbox.stats.counts["POST /api/data-product/{id}/request"] == 1
    after = await admin.search_data_product_access_requests(
        product.id, user_ids=[me.global_user_id], limit=100
    )
    assert after.meta.total_count == before.meta.total_count  # no request, let alone a duplicate
