"""The sandbox's own controls, outside the vendor's paths: faults, request counts, the clock tick, and
webhook deliveries lost on the way."""

from __future__ import annotations

import json

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from marketplace_slack_standins.sandbox.errors import bad_request
from marketplace_slack_standins.sandbox.faults import CONTROL_PREFIX
from marketplace_slack_standins.sandbox.ids import iso
from marketplace_slack_standins.sandbox.routes.common import (
    FAULTS,
    STATE,
    STATS,
    WEBHOOKS,
    ok,
    validation_message,
)


class LossSettings(BaseModel):
    """The body of ``POST /_sandbox/webhooks/losses``: which deliveries to lose (all keys optional)."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid", frozen=True)

    event_type: str | None = Field(None, alias="eventType")
    access_request_id: str | None = Field(None, alias="accessRequestId")
    times: int | None = Field(1, ge=1)  # null: every matching one until DELETE


async def _json_object(request: web.Request, what: str) -> dict[str, object]:
    raw = await request.read()
    try:
        settings = json.loads(raw) if raw else {}
    except json.JSONDecodeError:
        raise bad_request("Request body is not valid JSON") from None
    if not isinstance(settings, dict):
        raise bad_request(f"{what} must be a JSON object")
    return settings


def _losses(request: web.Request) -> web.Response:
    hub = request.app[WEBHOOKS]
    losses = [
        {"eventType": loss.event_type, "accessRequestId": loss.access_request_id, "times": loss.times}
        for loss in hub.losses
    ]
    return ok({"losses": losses, "lost": len(hub.lost)})


async def lose_deliveries(request: web.Request) -> web.Response:
    try:
        loss = LossSettings.model_validate(await _json_object(request, "loss settings"))
    except ValidationError as exc:
        raise bad_request(validation_message(exc)) from None
    request.app[WEBHOOKS].lose_deliveries(
        event_type=loss.event_type, access_request_id=loss.access_request_id, times=loss.times
    )
    return _losses(request)


async def get_losses(request: web.Request) -> web.Response:
    return _losses(request)


async def keep_deliveries(request: web.Request) -> web.Response:
    request.app[WEBHOOKS].keep_deliveries()
    return _losses(request)


async def set_faults(request: web.Request) -> web.Response:
    settings = await _json_object(request, "fault settings")
    try:
        request.app[FAULTS].set(**settings)
    except ValidationError as exc:
        raise bad_request(validation_message(exc)) from None
    return ok(request.app[FAULTS].wire())


async def get_faults(request: web.Request) -> web.Response:
    return ok(request.app[FAULTS].wire())


async def clear_faults(request: web.Request) -> web.Response:
    request.app[FAULTS].clear()
    return ok(request.app[FAULTS].wire())


async def get_stats(request: web.Request) -> web.Response:
    return ok(request.app[STATS].wire())


async def reset_stats(request: web.Request) -> web.Response:
    request.app[STATS].reset()
    return ok(request.app[STATS].wire())


async def tick(request: web.Request) -> web.Response:
    state = request.app[STATE]
    state.sweep()
    return ok({"now": iso(state.now())})


def register(app: web.Application) -> None:
    r = app.router
    r.add_get(f"{CONTROL_PREFIX}/faults", get_faults)
    r.add_put(f"{CONTROL_PREFIX}/faults", set_faults)
    r.add_delete(f"{CONTROL_PREFIX}/faults", clear_faults)
    r.add_get(f"{CONTROL_PREFIX}/stats", get_stats)
    r.add_delete(f"{CONTROL_PREFIX}/stats", reset_stats)
    r.add_post(f"{CONTROL_PREFIX}/tick", tick)
    r.add_get(f"{CONTROL_PREFIX}/webhooks/losses", get_losses)
    r.add_post(f"{CONTROL_PREFIX}/webhooks/losses", lose_deliveries)
    r.add_delete(f"{CONTROL_PREFIX}/webhooks/losses", keep_deliveries)
