"""Receiving Marketplace webhooks: signature check and a tolerant reading of the body.

The vendor does not publish the notification body, so a delivery is only a hint: an event type and
some ids. The workflow reads the truth from the API. Unknown event types and fields are accepted.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any

SIGNATURE_HEADER = "x-immuta-webhook-signature-sha256"

EVENT_REQUEST_CREATED = "marketplace.data_product.access_requests.created"
EVENT_DETERMINATION = "marketplace.data_product.access_requests.consumer.updated"
EVENT_REQUEST_DELETED = "marketplace.data_product.access_requests.deleted"
EVENT_REQUEST_EXPIRED = "marketplace.data_product.access_requests.expired"
EVENT_REQUEST_EXPIRING = "marketplace.data_product.access_requests.expiring"
EVENT_REQUEST_REVOKED = "marketplace.data_product.access_requests.revoked"
EVENT_REQUEST_CANCELED = "marketplace.data_product.access_requests.canceled"
REQUEST_EVENT_PREFIX = "marketplace.data_product.access_requests."


class WebhookRejected(Exception):
    """The delivery cannot be accepted; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def sign(body: bytes, key: str) -> str:
    """HMAC-SHA256 of the raw body, lowercase hex, as the Marketplace sends it."""
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, signature: str | None, key: str) -> None:
    if not signature:
        raise WebhookRejected(401, f"missing {SIGNATURE_HEADER} header")
    expected = sign(body, key)
    # compare_digest keeps the comparison constant-time so the signature cannot be guessed byte by byte
    if not hmac.compare_digest(expected, signature.strip().lower()):
        raise WebhookRejected(401, "webhook signature does not match")


@dataclass(frozen=True, slots=True)
class Notification:
    delivery_id: str | None
    event_type: str
    access_request_id: str | None
    data_product_id: str | None
    timestamp: str | None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_request_event(self) -> bool:
        return self.event_type.startswith(REQUEST_EVENT_PREFIX)


def parse_notification(body: bytes) -> Notification:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WebhookRejected(
            400, f"body is not valid JSON: {exc.msg if hasattr(exc, 'msg') else exc}"
        ) from None
    if not isinstance(data, dict):
        raise WebhookRejected(400, "body must be a JSON object")
    event_type = _first_str(data, "eventType", "event_type", "type", "event")
    if not event_type:
        raise WebhookRejected(400, "body has no eventType")
    nested_raw = data.get("data")
    nested: dict[str, Any] = nested_raw if isinstance(nested_raw, dict) else {}
    known = {"deliveryId", "eventType", "timestamp", "accessRequestId", "dataProductId"}
    return Notification(
        delivery_id=_first_str(data, "deliveryId", "delivery_id", "id"),
        event_type=event_type,
        access_request_id=_first_str(data, "accessRequestId", "requestId")
        or _first_str(nested, "accessRequestId", "requestId"),
        data_product_id=_first_str(data, "dataProductId") or _first_str(nested, "dataProductId"),
        timestamp=_first_str(data, "timestamp", "createdAt"),
        extra={k: v for k, v in data.items() if k not in known},
    )


def _first_str(data: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = data.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
    return None
