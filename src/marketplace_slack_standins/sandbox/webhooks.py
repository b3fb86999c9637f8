"""Webhook registrations, signed deliveries in the background, and their history.

Body (the vendor does not publish one; ours is documented in docs/sandbox-webhooks.md)::

    {"deliveryId": uuid, "eventType": str, "timestamp": ISO-8601 Z,
     "accessRequestId": id (request events only), "dataProductId": id}

Signatures are HMAC of the exact body bytes with the webhook's signing key, lowercase hex:
SHA-256 in ``x-immuta-webhook-signature-sha256`` and the legacy SHA-1 in ``x-immuta-webhook-signature``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp
import structlog

from marketplace_slack.infra.clock import Clock
from marketplace_slack_standins.sandbox.ids import IdFactory, iso
from marketplace_slack_standins.sandbox.model import Event

SIGNATURE_SHA256 = "x-immuta-webhook-signature-sha256"
SIGNATURE_SHA1 = "x-immuta-webhook-signature"
TEST_EVENT = "marketplace.webhook.test"
DELIVERY_TIMEOUT_SECONDS = 10.0

log = structlog.get_logger(__name__)


@dataclass(eq=False)
class Webhook:
    id: str
    url: str
    verify_tls: bool
    signing_key: str | None
    created_at: datetime
    suppressed: bool = False


@dataclass(frozen=True)
class Delivery:
    webhook_id: str | None
    delivery_id: str
    event_type: str
    status: str  # SUCCESS or FAILED
    http_status: int  # 0 when no HTTP answer came back
    created_at: datetime
    message: str


def sign(key: str, body: bytes) -> dict[str, str]:
    return {
        SIGNATURE_SHA256: hmac.new(key.encode(), body, hashlib.sha256).hexdigest(),
        SIGNATURE_SHA1: hmac.new(key.encode(), body, hashlib.sha1).hexdigest(),
    }


@dataclass(eq=False)
class Loss:
    """Deliveries to lose on the way: events of ``event_type`` (None: any) about ``access_request_id``
    (None: any), the next ``times`` of them (None: until ``keep_deliveries``)."""

    event_type: str | None = None
    access_request_id: str | None = None
    times: int | None = 1

    def takes(self, event: Event) -> bool:
        return (self.event_type in (None, event.type)) and (
            self.access_request_id in (None, event.access_request_id)
        )


LOST_MESSAGE = "Connection reset before a response: the delivery was lost (sandbox fault)"


class WebhookHub:
    """The registry plus the deliveries in flight; events come in through ``publish``.

    ``lose_deliveries`` makes the network lose what the Marketplace sends: the event happens, the
    Marketplace tries every webhook and records the failure in its history, and no receiver hears of it.
    """

    def __init__(self, *, clock: Clock, seed: int = 7, timeout: float = DELIVERY_TIMEOUT_SECONDS) -> None:
        self.clock = clock
        # A separate RNG: delivery ids must not shift the ids of the state's objects.
        self.ids = IdFactory(random.Random(f"webhooks-{seed}"))
        self.timeout = timeout
        self.webhooks: dict[str, Webhook] = {}
        self.history: dict[str, list[Delivery]] = {}
        self._tasks: set[asyncio.Task[Delivery]] = set()
        self._session: aiohttp.ClientSession | None = None
        self.losses: list[Loss] = []
        self.lost: list[Event] = []  # the events no receiver heard of, oldest first

    # registry

    def add(self, url: str, *, verify_tls: bool = True, signing_key: str | None = None) -> Webhook:
        hook = Webhook(self.ids.uuid(), url, verify_tls, signing_key or None, self.clock.now())
        self.webhooks[hook.id] = hook
        self.history[hook.id] = []
        return hook

    def remove(self, webhook_id: str) -> None:
        self.webhooks.pop(webhook_id, None)
        self.history.pop(webhook_id, None)

    # deliveries

    def body(
        self, event_type: str, *, data_product_id: str | None, access_request_id: str | None
    ) -> tuple[str, bytes]:
        delivery_id = self.ids.uuid()
        payload: dict[str, Any] = {
            "deliveryId": delivery_id,
            "eventType": event_type,
            "timestamp": iso(self.clock.now()),
        }
        if access_request_id is not None:
            payload["accessRequestId"] = access_request_id
        if data_product_id is not None:
            payload["dataProductId"] = data_product_id
        return delivery_id, json.dumps(payload, separators=(",", ":")).encode()

    def lose_deliveries(
        self, *, event_type: str | None = None, access_request_id: str | None = None, times: int | None = 1
    ) -> Loss:
        """Lose the deliveries of the next ``times`` matching events (None: every one until
        ``keep_deliveries``)."""
        if times is not None and times < 1:
            raise ValueError("times must be at least 1 (or None: until kept)")
        loss = Loss(event_type, access_request_id, times)
        self.losses.append(loss)
        return loss

    def keep_deliveries(self) -> None:
        """Deliver everything again."""
        self.losses.clear()

    def _loses(self, event: Event) -> bool:
        loss = next((entry for entry in self.losses if entry.takes(event)), None)
        if loss is None:
            return False
        if loss.times is not None:
            loss.times -= 1
            if loss.times == 0:
                self.losses.remove(loss)
        self.lost.append(event)
        return True

    def publish(self, event: Event) -> None:
        """Start one background delivery per registered webhook; ``drain`` waits for them."""
        lost = self._loses(event)
        for hook in list(self.webhooks.values()):
            delivery_id, body = self.body(
                event.type, data_product_id=event.data_product_id, access_request_id=event.access_request_id
            )
            if lost:
                self.history[hook.id].insert(
                    0, Delivery(hook.id, delivery_id, event.type, "FAILED", 0, self.clock.now(), LOST_MESSAGE)
                )
                continue
            task = asyncio.get_running_loop().create_task(self._deliver(hook, event.type, delivery_id, body))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def test(self, hook: Webhook) -> Delivery:
        """Deliver a test event to a registered webhook now, recording it in its history."""
        delivery_id, body = self.body(TEST_EVENT, data_product_id=None, access_request_id=None)
        return await self._deliver(hook, TEST_EVENT, delivery_id, body)

    async def test_config(self, url: str, *, verify_tls: bool, signing_key: str | None) -> Delivery:
        """Deliver a test event to an unsaved configuration; nothing is recorded."""
        delivery_id, body = self.body(TEST_EVENT, data_product_id=None, access_request_id=None)
        probe = Webhook("", url, verify_tls, signing_key or None, self.clock.now())
        return await self._send(probe, TEST_EVENT, delivery_id, body)

    @property
    def busy(self) -> bool:
        """Whether any delivery is still in flight."""
        return bool(self._tasks)

    async def drain(self) -> None:
        """Wait until every delivery started so far (and any they lead to) has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _deliver(self, hook: Webhook, event_type: str, delivery_id: str, body: bytes) -> Delivery:
        delivery = await self._send(hook, event_type, delivery_id, body)
        # Deleted while in flight: nothing left to record against.
        if hook.id in self.history:
            self.history[hook.id].insert(0, delivery)
        return delivery

    async def _send(self, hook: Webhook, event_type: str, delivery_id: str, body: bytes) -> Delivery:
        started = self.clock.now()
        headers = {"Content-Type": "application/json", "User-Agent": "immuta-marketplace-sandbox"}
        if hook.signing_key:
            headers.update(sign(hook.signing_key, body))
        if self._session is None:
            self._session = aiohttp.ClientSession()
        try:
            async with self._session.post(
                hook.url,
                data=body,
                headers=headers,
                ssl=hook.verify_tls,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            ) as response:
                await response.read()
                ok = 200 <= response.status < 300
                message = f"HTTP {response.status} {response.reason or ''}".strip()
                return Delivery(
                    hook.id or None,
                    delivery_id,
                    event_type,
                    "SUCCESS" if ok else "FAILED",
                    response.status,
                    started,
                    message,
                )
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            log.info("webhook delivery failed", url=hook.url, event_type=event_type, error=repr(exc))
            return Delivery(
                hook.id or None, delivery_id, event_type, "FAILED", 0, started, f"{type(exc).__name__}: {exc}"
            )
