"""Helpers for talking to the running sandbox over loopback HTTP, and a webhook receiver."""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import httpx
import pytest
from aiohttp import web
from openapi_core import OpenAPI
from openapi_core.exceptions import OpenAPIError

from marketplace_slack_standins.sandbox.server import SandboxServer
from marketplace_slack_standins.sandbox.world import ADMIN

from . import spec


class Api:
    """An httpx client on the sandbox that speaks as a seeded user."""

    def __init__(self, server: SandboxServer, client: httpx.AsyncClient) -> None:
        self.server = server
        self.client = client

    def auth(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.server.token_for(username)}"}

    async def call(self, method: str, path: str, as_user: str = "admin", **kwargs: Any) -> httpx.Response:
        headers = {**self.auth(as_user), **kwargs.pop("headers", {})}
        return await self.client.request(method, path.lstrip("/"), headers=headers, **kwargs)

    async def get(self, path: str, as_user: str = "admin", **kwargs: Any) -> httpx.Response:
        return await self.call("GET", path, as_user, **kwargs)

    async def post(self, path: str, as_user: str = "admin", **kwargs: Any) -> httpx.Response:
        return await self.call("POST", path, as_user, **kwargs)

    async def put(self, path: str, as_user: str = "admin", **kwargs: Any) -> httpx.Response:
        return await self.call("PUT", path, as_user, **kwargs)

    async def delete(self, path: str, as_user: str = "admin", **kwargs: Any) -> httpx.Response:
        return await self.call("DELETE", path, as_user, **kwargs)

    async def control(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The sandbox's own controls (``/_sandbox/...``), which sit beside the vendor paths."""
        origin = self.server.base_url.removesuffix("/marketplace")
        return await self.client.request(method, f"{origin}/_sandbox/{path}", **kwargs)

    # look-ups in the seeded world

    def product_id(self, name: str) -> str:
        return self.server.state.product_named(name).id

    def gid(self, username: str) -> str:
        return self.server.state.users[username].global_user_id

    async def request_access(
        self, product: str, requester: str, *, user: str | None = None, **body: Any
    ) -> dict[str, Any]:
        response = await self.post(
            f"/api/data-product/{self.product_id(product)}/request",
            requester,
            json={"user": self.gid(user or requester), **body},
        )
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def records(self, request_id: str, as_user: str = "admin") -> list[dict[str, Any]]:
        response = await self.get(f"/api/access-request/{request_id}/records", as_user)
        assert response.status_code == 200, response.text
        records: list[dict[str, Any]] = response.json()["approvalRecords"]
        return records

    async def access_request(self, request_id: str, as_user: str = "admin") -> dict[str, Any]:
        response = await self.get(f"/api/access-request/{request_id}", as_user)
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    async def decide(self, record_id: str, as_user: str, status: str, **extra: Any) -> httpx.Response:
        return await self.put(f"/api/approval-record/{record_id}", as_user, json={"status": status, **extra})


@pytest.fixture
async def api(sandbox: SandboxServer) -> AsyncIterator[Api]:
    # One client speaks as many users, so it keeps no cookies (the sandbox refuses another user's session).
    no_cookies = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
    async with httpx.AsyncClient(base_url=sandbox.base_url + "/", timeout=10, cookies=no_cookies) as client:
        yield Api(sandbox, client)


@pytest.fixture(scope="session")
def openapi() -> OpenAPI:
    return spec.load()


class Contract:
    """Calls on the sandbox whose requests and responses are validated against the vendor's spec."""

    def __init__(self, api: Api, openapi: OpenAPI) -> None:
        self.api = api
        self.openapi = openapi
        self.exercised: set[str] = set()

    async def call(
        self, method: str, path: str, *, as_user: str = ADMIN, expect: int = 200, **kwargs: Any
    ) -> Any:
        response = await self.api.call(method, path, as_user, **kwargs)
        assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        self.check(response)
        return response.json() if response.content else None

    def check(self, response: httpx.Response) -> None:
        request = response.request
        operation = spec.operation_of(self.openapi, request)
        self.exercised.add(operation)
        try:
            self.openapi.validate_request(spec.SpecRequest(request))
            self.openapi.validate_response(spec.SpecRequest(request), spec.SpecResponse(response))
        except OpenAPIError as exc:
            # The library's own message repeats the whole body; the schema errors say what is wrong.
            errors = [e.message[:300] for e in getattr(exc.__cause__, "schema_errors", None) or []]
            raise AssertionError(f"{operation}: {type(exc).__name__}: {errors or str(exc)[:500]}") from None


@dataclass
class Receiver:
    """A loopback endpoint that records what webhooks deliver and answers with ``status``.

    ``arrived`` is set on every delivery; while ``hold`` is set to an unset event, answers wait for it.
    """

    url: str = ""
    status: int = 200
    deliveries: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    hold: asyncio.Event | None = None

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.deliveries]

    def events(self, request_id: str | None = None) -> list[str]:
        return [
            b["eventType"]
            for b in self.bodies()
            if request_id is None or b.get("accessRequestId") == request_id
        ]


async def serve(app: web.Application, ssl_context: ssl.SSLContext | None = None) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context).start()
    return runner, int(runner.addresses[0][1])


def receiving_app(found: Receiver) -> web.Application:
    async def handle(request: web.Request) -> web.Response:
        found.deliveries.append(({k.lower(): v for k, v in request.headers.items()}, await request.read()))
        found.arrived.set()
        if found.hold is not None:
            await found.hold.wait()
        return web.Response(status=found.status)

    app = web.Application()
    app.router.add_post("/hook", handle)
    return app


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    runner, port = await serve(receiving_app(found))
    found.url = f"http://127.0.0.1:{port}/hook"
    yield found
    if found.hold is not None:
        found.hold.set()
    await runner.cleanup()
