"""Webhook registrations, tests and delivery history: ``/api/notification/webhook``."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from marketplace_slack_standins.sandbox.errors import forbidden, not_found
from marketplace_slack_standins.sandbox.ids import iso
from marketplace_slack_standins.sandbox.paging import offset_page
from marketplace_slack_standins.sandbox.routes.bodies import CreateWebhook, UpdateWebhook
from marketplace_slack_standins.sandbox.routes.common import API, WEBHOOKS, Query, body, caller, empty, ok
from marketplace_slack_standins.sandbox.webhooks import Delivery, Webhook, WebhookHub

CONFIGURE = frozenset({"GOVERNANCE", "APPLICATION_ADMIN"})


def _hub(request: web.Request) -> WebhookHub:
    """The hub, after checking the caller may configure webhooks (an administrator's job)."""
    if not CONFIGURE & caller(request).permissions:
        raise forbidden("Configuring webhooks needs GOVERNANCE or APPLICATION_ADMIN")
    return request.app[WEBHOOKS]


def _hook(request: web.Request) -> Webhook:
    hook = _hub(request).webhooks.get(request.match_info["id"])
    if hook is None:
        raise not_found(f"Webhook {request.match_info['id']} not found")
    return hook


def _wire(hook: Webhook) -> dict[str, Any]:
    # The signing key is write-only: only whether one is set comes back.
    return {
        "id": hook.id,
        "url": hook.url,
        "verifyTls": hook.verify_tls,
        "signingKey": hook.signing_key is not None,
        "suppressed": hook.suppressed,
    }


def _result(delivery: Delivery) -> dict[str, Any]:
    out: dict[str, Any] = {"status": delivery.status, "httpStatusCode": delivery.http_status}
    if delivery.status != "SUCCESS":
        out["errorMessage"] = delivery.message
    return out


async def list_hooks(request: web.Request) -> web.Response:
    return ok([_wire(h) for h in _hub(request).webhooks.values()])


async def create(request: web.Request) -> web.Response:
    payload = await body(request, CreateWebhook)
    hook = _hub(request).add(
        payload.url, verify_tls=payload.verifyTls is not False, signing_key=payload.signingKey
    )
    return ok(_wire(hook))


async def get_one(request: web.Request) -> web.Response:
    return ok(_wire(_hook(request)))


async def update(request: web.Request) -> web.Response:
    payload = await body(request, UpdateWebhook)
    hook = _hook(request)
    hook.url = payload.url or hook.url
    if payload.verifyTls is not None:
        hook.verify_tls = payload.verifyTls
    if "signingKey" in payload.model_fields_set:
        hook.signing_key = payload.signingKey or None
    return ok(_wire(hook))


async def delete(request: web.Request) -> web.Response:
    _hub(request).remove(_hook(request).id)
    return empty()


async def test_one(request: web.Request) -> web.Response:
    return ok(_result(await _hub(request).test(_hook(request))))


async def test_config(request: web.Request) -> web.Response:
    payload = await body(request, CreateWebhook)
    delivery = await _hub(request).test_config(
        payload.url, verify_tls=payload.verifyTls is not False, signing_key=payload.signingKey
    )
    return ok(_result(delivery))


async def history(request: web.Request) -> web.Response:
    hook = _hook(request)
    q = Query(request)
    deliveries = _hub(request).history.get(hook.id, [])
    page, meta = offset_page(deliveries, q.number("offset", 0, minimum=0), q.number("limit", 10, minimum=1))
    return ok(
        {
            "data": [
                {
                    "webhookId": hook.id,
                    "deliveryId": d.delivery_id,
                    "eventType": d.event_type,
                    "status": d.status,
                    "httpStatusCode": d.http_status,
                    "createdAt": iso(d.created_at),
                    "message": d.message,
                }
                for d in page
            ],
            "meta": meta,
        }
    )


def register(app: web.Application) -> None:
    r = app.router
    base = f"{API}/notification/webhook"
    r.add_post(f"{base}/test", test_config)
    r.add_get(base, list_hooks)
    r.add_post(base, create)
    r.add_get(f"{base}/{{id}}", get_one)
    r.add_put(f"{base}/{{id}}", update)
    r.add_delete(f"{base}/{{id}}", delete)
    r.add_get(f"{base}/{{id}}/history", history)
    r.add_post(f"{base}/{{id}}/test", test_one)
