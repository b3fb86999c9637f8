"""What every handler shares: the app's objects, the caller, bodies, query parameters, errors, auth."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any, TypeVar

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler
from pydantic import BaseModel, ValidationError

from marketplace_slack_standins.sandbox.errors import SandboxError, bad_request, error_body
from marketplace_slack_standins.sandbox.faults import API_PREFIX, Faults, Stats
from marketplace_slack_standins.sandbox.model import User
from marketplace_slack_standins.sandbox.state import SandboxState
from marketplace_slack_standins.sandbox.webhooks import WebhookHub

STATE = web.AppKey("state", SandboxState)
WEBHOOKS = web.AppKey("webhooks", WebhookHub)
FAULTS = web.AppKey("faults", Faults)
STATS = web.AppKey("stats", Stats)
USER = web.RequestKey("user", User)
API = API_PREFIX + "/api"
# What the vendor serves without a token (the app reads its branding before anyone signs in).
PUBLIC = frozenset({("GET", f"{API}/settings/frontend")})

M = TypeVar("M", bound=BaseModel)
log = structlog.get_logger(__name__)


def state_of(request: web.Request) -> SandboxState:
    return request.app[STATE]


def caller(request: web.Request) -> User:
    try:
        return request[USER]
    except KeyError:
        raise SandboxError(401, "Unauthorized") from None


def ok(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


def empty(status: int = 204) -> web.Response:
    return web.Response(status=status)


async def body(request: web.Request, model: type[M]) -> M:
    raw = await request.read()
    try:
        data = json.loads(raw) if raw else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise bad_request("Request body is not valid JSON") from None
    if data is None:
        raise bad_request("Request body is required")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise bad_request(validation_message(exc)) from None


def validation_message(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "body"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


class Query:
    """Typed access to query parameters; bad values are 400s naming the parameter."""

    def __init__(self, request: web.Request) -> None:
        self._q = request.rel_url.query

    def text(self, name: str) -> str | None:
        value = self._q.get(name)
        return value if value else None

    def number(
        self, name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
    ) -> int:
        raw = self._q.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = float(raw)
        except ValueError:
            raise bad_request(f"{name} must be a number") from None
        if not value.is_integer():
            raise bad_request(f"{name} must be a whole number")
        if minimum is not None and value < minimum:
            raise bad_request(f"{name} must not be less than {minimum}")
        if maximum is not None and value > maximum:
            raise bad_request(f"{name} must not be greater than {maximum}")
        return int(value)

    def flag(self, name: str, default: bool | None = None) -> bool | None:
        raw = self._q.get(name)
        if raw is None or raw == "":
            return default
        if raw.lower() in ("true", "1"):
            return True
        if raw.lower() in ("false", "0"):
            return False
        raise bad_request(f"{name} must be a boolean")

    def choice(self, name: str, allowed: Sequence[str], default: str) -> str:
        value = self._q.get(name) or default
        if value not in allowed:
            raise bad_request(f"{name} must be one of: {', '.join(allowed)}")
        return value

    def many(self, name: str, allowed: Sequence[str] | None = None) -> list[str]:
        """Arrays as repeated parameters (the spec's form/explode style) or comma-separated."""
        values = [
            v
            for raw in self._q.getall(name, []) + self._q.getall(f"{name}[]", [])
            for v in raw.split(",")
            if v
        ]
        if allowed is not None:
            bad = [v for v in values if v not in allowed]
            if bad:
                raise bad_request(f"{name} values must be among: {', '.join(allowed)}")
        return values


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error leaves as the Marketplace's JSON error shape, including unknown routes."""
    try:
        return await handler(request)
    except SandboxError as exc:
        return ok(error_body(exc.status, exc.message), exc.status)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        message = f"Cannot {request.method} {request.path}" if exc.status in (404, 405) else exc.reason
        status = 404 if exc.status == 405 else exc.status
        return ok(error_body(status, message), status)
    except Exception:
        # A bug in the sandbox still answers in the API's error shape, so clients see a 500, not HTML.
        log.exception("sandbox handler failed", method=request.method, path=request.path)
        return ok(error_body(500, "Internal server error"), 500)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Bearer ``sbx_<username>`` tokens on the vendor paths; expiry is applied before each call."""
    if not request.path.startswith(API_PREFIX) or (request.method, request.path) in PUBLIC:
        return await handler(request)
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    state = request.app[STATE]
    user = state.user_for_token(token.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        raise SandboxError(401, "Unauthorized")
    # A tenant behind a load balancer or with a web session sets a cookie on every answer. A client that
    # sends one identity's cookie with another's token is mixing identities: refused, so no test can
    # pass while a cookie jar is shared between stewards.
    sent = request.cookies.get(SESSION_COOKIE)
    if sent is not None and sent != session_id(user.username):
        raise SandboxError(401, "Session cookie belongs to another user")
    request[USER] = user
    # A real tenant expires grants in the background; doing it per call keeps reads truthful.
    state.sweep()
    response = await handler(request)
    response.set_cookie(SESSION_COOKIE, session_id(user.username), path="/", httponly=True)
    return response


SESSION_COOKIE = "immuta_session"


def session_id(username: str) -> str:
    """The session a tenant would open for `username`: opaque, stable, different per user."""
    return hashlib.sha256(f"sandbox-session:{username}".encode()).hexdigest()[:24]
