"""The sandbox's own controls, outside the vendor's paths: faults, request counts, the clock tick."""

from __future__ import annotations

import json

from aiohttp import web
from pydantic import ValidationError

from marketplace_slack_standins.sandbox.errors import bad_request
from marketplace_slack_standins.sandbox.faults import CONTROL_PREFIX
from marketplace_slack_standins.sandbox.ids import iso
from marketplace_slack_standins.sandbox.routes.common import FAULTS, STATE, STATS, ok, validation_message


async def set_faults(request: web.Request) -> web.Response:
    raw = await request.read()
    try:
        settings = json.loads(raw) if raw else {}
    except json.JSONDecodeError:
        raise bad_request("Request body is not valid JSON") from None
    if not isinstance(settings, dict):
        raise bad_request("fault settings must be a JSON object")
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
