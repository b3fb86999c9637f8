"""Webhooks: signed deliveries for every event, history, write-only keys, TLS, and drain()."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import socket
import ssl
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from marketplace_slack.infra.clock import FakeClock
from marketplace_slack_standins.sandbox.ids import iso
from marketplace_slack_standins.sandbox.world import ADMIN, NORA, RICK, SALES_PIPELINE, SARA, WEB_ANALYTICS

from .conftest import Api, Receiver, receiving_app, serve

KEY = "s3cret-signing-key"
PREFIX = "marketplace.data_product."


async def register(api: Api, url: str, **extra: Any) -> dict[str, Any]:
    response = await api.post("/api/notification/webhook", ADMIN, json={"url": url, **extra})
    assert response.status_code == 200, response.text
    hook: dict[str, Any] = response.json()
    return hook


async def settled(api: Api) -> None:
    await api.server.webhooks.drain()


async def test_deliveries_are_signed_over_the_raw_body(
    api: Api, receiver: Receiver, clock: FakeClock
) -> None:
    await register(api, receiver.url, signingKey=KEY)
    created = await api.request_access(SALES_PIPELINE, RICK)
    await settled(api)

    [(headers, body)] = receiver.deliveries
    assert headers["content-type"] == "application/json"
    assert (
        headers["x-immuta-webhook-signature-sha256"]
        == hmac.new(KEY.encode(), body, hashlib.sha256).hexdigest()
    )
    assert headers["x-immuta-webhook-signature"] == hmac.new(KEY.encode(), body, hashlib.sha1).hexdigest()
    [payload] = receiver.bodies()
    assert set(payload) == {"deliveryId", "eventType", "timestamp", "accessRequestId", "dataProductId"}
    assert uuid.UUID(payload["deliveryId"]).version == 4
    assert payload["eventType"] == PREFIX + "access_requests.created"
    assert payload["timestamp"] == iso(clock.now())
    assert (payload["accessRequestId"], payload["dataProductId"]) == (
        created["id"],
        api.product_id(SALES_PIPELINE),
    )


async def test_every_lifecycle_step_is_announced(api: Api, receiver: Receiver) -> None:
    await register(api, receiver.url, signingKey=KEY)
    product_id = api.product_id(SALES_PIPELINE)

    first = await api.request_access(SALES_PIPELINE, RICK)
    [record] = await api.records(first["id"])
    await api.decide(record["id"], SARA, "APPROVED")
    await api.delete(f"/api/data-product/{product_id}/request/{first['id']}", SARA)
    second = await api.request_access(SALES_PIPELINE, NORA)
    await api.delete(f"/api/access-request/{second['id']}", NORA)
    await settled(api)
    assert receiver.events(first["id"]) == [
        PREFIX + "access_requests.created",
        PREFIX + "access_requests.consumer.updated",
        PREFIX + "access_requests.revoked",
    ]
    assert receiver.events(second["id"]) == [
        PREFIX + "access_requests.created",
        PREFIX + "access_requests.canceled",
    ]

    receiver.deliveries.clear()
    await api.delete(f"/api/data-product/{product_id}", ADMIN)
    await settled(api)
    events = receiver.events()
    assert events[-1] == PREFIX + "state.deleted"
    assert events.count(PREFIX + "access_requests.deleted") == len(events) - 1 >= 2
    assert {b["dataProductId"] for b in receiver.bodies()} == {product_id}


async def test_publishing_a_product_is_announced(api: Api, receiver: Receiver) -> None:
    await register(api, receiver.url)
    state = api.server.state
    sales = next(d for d in state.domains.values() if d.name == "Sales")
    price_book = next(s for s in state.sources.values() if s.name == "Price Book")
    body = {
        "name": "Price Book",
        "metadata": None,
        "domains": [sales.id],
        "dataSources": [{"sourceId": str(price_book.source_id)}],
        "requestFormId": state.product_named(SALES_PIPELINE).data_access_form_id,
    }
    created = (await api.post("/api/data-product", ADMIN, json=body)).json()
    await settled(api)
    [payload] = receiver.bodies()
    assert payload["eventType"] == PREFIX + "state.created"
    assert payload["dataProductId"] == created["id"] and "accessRequestId" not in payload


async def test_expiring_is_announced_once_then_expired(
    api: Api, receiver: Receiver, clock: FakeClock
) -> None:
    await register(api, receiver.url)
    created = await api.request_access(WEB_ANALYTICS, NORA)  # 30 days
    clock.advance(timedelta(days=22))
    await api.server.tick()
    clock.advance(timedelta(days=1))  # 7 days left: inside the window
    await api.server.tick()
    await api.server.tick()
    await settled(api)
    assert receiver.events(created["id"]) == [
        PREFIX + "access_requests.created",
        PREFIX + "access_requests.expiring",
    ]

    clock.advance(timedelta(days=7))
    response = await api.control("POST", "tick")  # the same over HTTP
    assert response.status_code == 200 and response.json()["now"] == iso(clock.now())
    await settled(api)
    assert receiver.events(created["id"])[-1] == PREFIX + "access_requests.expired"
    assert (await api.access_request(created["id"]))["status"] == "EXPIRED"


async def test_history_records_outcomes(api: Api, receiver: Receiver) -> None:
    hook = await register(api, receiver.url)
    await api.request_access(SALES_PIPELINE, RICK)
    await settled(api)
    receiver.status = 500
    await api.request_access(SALES_PIPELINE, NORA)
    await settled(api)

    history = (await api.get(f"/api/notification/webhook/{hook['id']}/history")).json()
    assert history["meta"]["totalCount"] == 2
    failed, succeeded = history["data"]  # newest first
    assert (failed["status"], failed["httpStatusCode"]) == ("FAILED", 500)
    assert (succeeded["status"], succeeded["httpStatusCode"]) == ("SUCCESS", 200)
    assert {failed["deliveryId"], succeeded["deliveryId"]} == {b["deliveryId"] for b in receiver.bodies()}
    assert failed["webhookId"] == hook["id"] and "500" in failed["message"]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


async def test_unreachable_endpoints_fail_without_a_status(api: Api) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/hook"
    hook = await register(api, url)
    result = (await api.post(f"/api/notification/webhook/{hook['id']}/test")).json()
    assert result["status"] == "FAILED" and result["httpStatusCode"] == 0 and result["errorMessage"]
    unsaved = (await api.post("/api/notification/webhook/test", json={"url": url})).json()
    assert unsaved["status"] == "FAILED"
    history = (await api.get(f"/api/notification/webhook/{hook['id']}/history")).json()
    assert [d["status"] for d in history["data"]] == ["FAILED"]  # the unsaved test is not recorded


async def test_signing_key_is_write_only(api: Api, receiver: Receiver) -> None:
    hook = await register(api, receiver.url, signingKey=KEY)
    shown = await api.get(f"/api/notification/webhook/{hook['id']}")
    assert shown.json()["signingKey"] is True and KEY not in shown.text
    listed = await api.get("/api/notification/webhook")
    assert KEY not in listed.text
    cleared = await api.put(f"/api/notification/webhook/{hook['id']}", json={"signingKey": ""})
    assert cleared.json()["signingKey"] is False and cleared.json()["url"] == receiver.url
    await api.post(f"/api/notification/webhook/{hook['id']}/test")
    [(headers, _)] = receiver.deliveries
    assert "x-immuta-webhook-signature-sha256" not in headers and "x-immuta-webhook-signature" not in headers


async def test_only_administrators_configure_webhooks(api: Api, receiver: Receiver) -> None:
    assert (await api.post("/api/notification/webhook", SARA, json={"url": receiver.url})).status_code == 403
    assert (await api.get("/api/notification/webhook", SARA)).status_code == 403
    assert (await api.post("/api/notification/webhook", ADMIN, json={"url": "ftp://x"})).status_code == 400
    assert (await api.get(f"/api/notification/webhook/{uuid.uuid4()}", ADMIN)).status_code == 404


async def test_drain_waits_for_deliveries_in_flight(api: Api, receiver: Receiver) -> None:
    hook = await register(api, receiver.url)
    receiver.hold = asyncio.Event()
    await api.request_access(SALES_PIPELINE, RICK)
    await receiver.arrived.wait()
    draining = asyncio.create_task(api.server.webhooks.drain())
    await asyncio.sleep(0)  # one turn of the loop: drain must still be waiting on the held delivery
    assert not draining.done()
    receiver.hold.set()
    await draining
    assert api.server.webhooks.history[hook["id"]][0].status == "SUCCESS"


async def test_a_slow_endpoint_times_out(api: Api, receiver: Receiver) -> None:
    hook = await register(api, receiver.url)
    api.server.webhooks.timeout = 0.05  # the vendor's 10 s, shortened for the test
    receiver.hold = asyncio.Event()
    await api.request_access(SALES_PIPELINE, RICK)
    await settled(api)
    [delivery] = api.server.webhooks.history[hook["id"]]
    assert delivery.status == "FAILED" and delivery.http_status == 0 and "Timeout" in delivery.message


@pytest.fixture
async def tls_receiver(tmp_path: Path) -> AsyncIterator[Receiver]:
    """A receiver behind HTTPS with a self-signed certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    found = Receiver()
    runner, port = await serve(receiving_app(found), context)
    found.url = f"https://127.0.0.1:{port}/hook"
    yield found
    await runner.cleanup()


async def test_deliveries_respect_verify_tls(api: Api, tls_receiver: Receiver) -> None:
    strict = await register(api, tls_receiver.url)
    result = (await api.post(f"/api/notification/webhook/{strict['id']}/test")).json()
    assert result["status"] == "FAILED" and "certificate" in result["errorMessage"].lower()
    assert tls_receiver.deliveries == []
    await api.put(f"/api/notification/webhook/{strict['id']}", json={"verifyTls": False})
    result = (await api.post(f"/api/notification/webhook/{strict['id']}/test")).json()
    assert result["status"] == "SUCCESS" and len(tls_receiver.deliveries) == 1
