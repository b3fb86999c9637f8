"""The gateway's concurrent load: one failing call cancels the calls still in flight, and the caller sees
the client's own error, not an ExceptionGroup; and what a card loads, over the loopback sandbox."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import pytest

from marketplace_slack.domain import RequestKind
from marketplace_slack.marketplace import models as wire
from marketplace_slack.marketplace.client import MarketplaceClient
from marketplace_slack.marketplace.errors import ForbiddenError, MarketplaceError, NotFoundError
from marketplace_slack.marketplace.gateway import MarketplaceGateway
from marketplace_slack_standins.sandbox.world import ADMIN, CUSTOMER_360

USER = {"id": 1, "iamId": "bim", "globalUserId": "u1", "username": "rick", "name": "Rick"}
REQUEST = wire.AccessRequest.model_validate(
    {
        "id": "q1",
        "requestingUser": USER,
        "user": USER,
        "formVersion": "v1",
        "type": "DATA_ACCESS",
        "status": "PENDING",
        "createdAt": "2026-11-23T09:00:00.000Z",
        "updatedAt": "2026-11-23T09:00:00.000Z",
        "dataProduct": {"id": "p1", "name": "Sales"},
    }
)
ENRICHMENT = {"risk", "form", "recent", "product"}


class ScriptedClient(MarketplaceClient):
    """Answers the calls `load` makes without HTTP: each call succeeds, fails once the calls it waits
    for are in flight, or hangs until cancelled (recording that it was)."""

    def __init__(self, failing: str, error: MarketplaceError, waits_for: set[str]) -> None:
        super().__init__("http://marketplace.invalid/marketplace", "sbx_test")
        self.failing, self.error, self.waits_for = failing, error, waits_for
        self.in_flight: set[str] = set()
        self.cancelled: set[str] = set()
        self._started = asyncio.Event()

    async def _answer(self, name: str, value: Any = None) -> Any:
        self.in_flight.add(name)
        self._started.set()
        if name == self.failing:
            while not self.waits_for <= self.in_flight:
                self._started.clear()
                await self._started.wait()
            raise self.error
        if value is not None:
            return value
        try:
            await asyncio.Event().wait()  # never set: only cancellation ends it
        except asyncio.CancelledError:
            self.cancelled.add(name)
            raise

    async def get_access_request_by_id(self, id: str) -> wire.AccessRequest:
        return await self._answer("request", REQUEST)

    async def get_access_request_records(self, id: str) -> wire.ApprovalRecords:
        return await self._answer("records")

    async def get_risk_assessment(self, id: str) -> wire.RiskAssessment:
        return await self._answer("risk")

    async def get_request_form_by_version(self, version: str) -> wire.RequestForm:
        return await self._answer("form")

    async def recent_determinations(self, id: str, *, type: Any = None) -> wire.RecentDeterminations:
        return await self._answer("recent")

    async def get_data_product_by_id(self, id: str) -> wire.DataProduct:
        return await self._answer("product")


@pytest.mark.parametrize(
    ("failing", "error", "waits_for", "cancelled"),
    [
        # The request itself fails while its records and risk assessment are being fetched.
        ("request", ForbiddenError(403, "not yours"), {"records", "risk"}, {"records", "risk"}),
        # The records fail after the request came back, while every enrichment call is in flight.
        ("records", NotFoundError(404, "gone"), ENRICHMENT, ENRICHMENT),
    ],
    ids=["request fails", "records fail"],
)
async def test_a_failing_call_cancels_its_siblings_and_surfaces_as_itself(
    failing: str, error: MarketplaceError, waits_for: set[str], cancelled: set[str]
) -> None:
    async with ScriptedClient(failing, error, waits_for) as client:
        gateway = MarketplaceGateway(client, app_url="https://app.example.com")
        with pytest.raises(type(error)) as raised:
            await asyncio.wait_for(gateway.load("q1"), timeout=5)

    assert raised.value is error  # the client's error itself, not an ExceptionGroup around it
    assert client.cancelled == cancelled
    assert not [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]


# --------------------------------------------------------------------------------------------------
# Over the loopback sandbox.
# --------------------------------------------------------------------------------------------------


def _summary(found: wire.RecentDeterminations) -> tuple[int, int, datetime | None]:
    statuses = [str(d.status) for d in found.determinations]
    last = max((d.updated_at for d in found.determinations), default=None)
    return statuses.count("APPROVED"), statuses.count("DENIED"), last


@pytest.mark.parametrize("kind", list(RequestKind), ids=str)
async def test_a_card_shows_the_products_recent_determinations_of_its_own_kind(
    sandbox: Any, kind: RequestKind
) -> None:
    state = sandbox.state
    product = state.product_named(CUSTOMER_360)  # it has a history of both kinds
    pending = next(r for r in state.product_requests(product) if r.type == kind and r.status == "PENDING")
    async with MarketplaceClient(sandbox.base_url, sandbox.token_for(ADMIN)) as client:
        loaded = await MarketplaceGateway(client, app_url="https://app.example.com").load(pending.id)
        by_kind = {
            k: _summary(await client.recent_determinations(product.id, type=wire.RequestType(k.value)))
            for k in RequestKind
        }

    assert loaded.kind is kind
    other = next(k for k in RequestKind if k is not kind)
    assert by_kind[kind] != by_kind[other]  # otherwise this test could not tell them apart
    assert loaded.recent is not None
    assert (loaded.recent.approved, loaded.recent.denied, loaded.recent.last_at) == by_kind[kind]


def _pending(state: Any, product_name: str) -> tuple[Any, Any]:
    product = state.product_named(product_name)
    request = next(r for r in state.product_requests(product) if r.status == "PENDING")
    return product, request


async def test_a_request_whose_deciders_depend_on_the_domains_is_loaded_with_every_domain(
    sandbox: Any,
) -> None:
    """Quarterly Forecast's review names DOMAIN PERMISSION Manage Data Products, without a domain:
    even an unenriched load (a click, a reminder) reads the product for its domains."""
    product, pending = _pending(sandbox.state, "Quarterly Forecast")
    product.domain_ids = [
        *product.domain_ids,
        *(d for d in sandbox.state.domains if d not in product.domain_ids),
    ]
    async with MarketplaceClient(sandbox.base_url, sandbox.token_for(ADMIN)) as client:
        gateway = MarketplaceGateway(client, app_url="https://app.example.com")
        loaded = await gateway.load(pending.id, enrich=False)
        sandbox.faults.set(
            fail_next=1, fail_status=403, path_prefix=f"/marketplace/api/data-product/{product.id}"
        )
        with pytest.raises(ForbiddenError):  # not loaded without them: a steward is not "no approver"
            await gateway.load(pending.id, enrich=False)

    assert loaded.domain_ids == tuple(product.domain_ids) and len(loaded.domain_ids) > 1
    assert loaded.domain_id == product.domain_ids[0]


async def test_a_request_of_named_approvers_is_loaded_unenriched_without_its_product(sandbox: Any) -> None:
    _, pending = _pending(sandbox.state, "Sales Pipeline")  # USER sara or USER omar
    sandbox.faults.set(fail_next=1, fail_status=403, path_prefix="/marketplace/api/data-product/")
    async with MarketplaceClient(sandbox.base_url, sandbox.token_for(ADMIN)) as client:
        loaded = await MarketplaceGateway(client, app_url="https://app.example.com").load(
            pending.id, enrich=False
        )

    assert loaded.domain_ids == () and sandbox.faults.remaining_failures == 1  # no call was made
