"""A loopback reverse proxy that puts real network faults between the app and one stand-in.

The faults that matter for "nothing lost, nothing doubled" are the ambiguous ones: the other side did
the work and the answer never arrived, or arrived too late. They cannot be faked inside one process
without lying about where they happen, so the proxy makes them on the wire:

- `DROP_AFTER`: the request is forwarded and answered upstream, then the client's connection is
  closed without a byte of the answer (a load balancer restart, a dropped connection);
- `DELAY_AFTER`: forwarded and answered upstream; the answer is held `delay` seconds, past the
  client's timeout;
- `STATUS_AFTER`: forwarded and answered upstream; the client gets `status` (a 5xx from a gateway
  that lost the answer);
- `STALL_BEFORE`: the request is received and never forwarded; the connection is held `delay`
  seconds, then reset (the moment to SIGKILL a process "between its claim and its call");
- `RESET_BEFORE` / `STATUS_BEFORE`: the clean failures, for contrast: nothing reaches upstream.

Tests await `Rule.wait()` (it returns once the rule fired `times` times, upstream having answered)
instead of sleeping.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

import aiohttp
from aiohttp import web

# Headers that describe one hop of the connection, not the message; aiohttp sets its own.
_HOP: Final = frozenset(
    {
        "connection",
        "keep-alive",
        "transfer-encoding",
        "content-length",
        "content-encoding",
        "host",
        "upgrade",
        "proxy-connection",
    }
)
_GATEWAY_PAGE: Final = "<html><body><h1>{status}</h1>upstream answer lost</body></html>"


class Fault(StrEnum):
    DROP_AFTER = "drop_after"
    DELAY_AFTER = "delay_after"
    STATUS_AFTER = "status_after"
    RESET_BEFORE = "reset_before"
    STATUS_BEFORE = "status_before"
    STALL_BEFORE = "stall_before"

    @property
    def forwards(self) -> bool:
        return self in (Fault.DROP_AFTER, Fault.DELAY_AFTER, Fault.STATUS_AFTER)


@dataclass
class Rule:
    kind: Fault
    path: re.Pattern[str]
    method: str | None = None
    times: int = 1
    status: int = 503
    delay: float = 30.0
    when: Callable[[bytes], bool] | None = None
    fired: int = 0
    matched: int = 0
    _done: asyncio.Event = field(default_factory=asyncio.Event)

    def takes(self, method: str, path: str, body: bytes) -> bool:
        """Whether this rule applies to the request; counts it as taken if so."""
        if self.matched >= self.times:
            return False
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if not self.path.search(path):
            return False
        if self.when is not None and not self.when(body):
            return False
        self.matched += 1
        return True

    def _fire(self) -> None:
        self.fired += 1
        if self.fired >= self.times:
            self._done.set()

    async def wait(self) -> None:
        """Return once the rule has fired `times` times (for the *_AFTER kinds, upstream answered)."""
        await self._done.wait()


@dataclass(frozen=True, slots=True)
class Passed:
    method: str
    path: str
    fault: Fault | None


class FaultProxy:
    """Forwards everything to `upstream` (scheme://host:port), applying the first rule that takes it."""

    def __init__(self, upstream: str) -> None:
        self._upstream = upstream.rstrip("/")
        self._rules: list[Rule] = []
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._held: set[asyncio.Task[Any]] = set()
        self.passed: list[Passed] = []
        self.url: str | None = None

    def fault(
        self,
        kind: Fault,
        *,
        path: str,
        method: str | None = None,
        times: int = 1,
        status: int = 503,
        delay: float = 30.0,
        when: Callable[[bytes], bool] | None = None,
    ) -> Rule:
        if times < 1:
            raise ValueError("a fault applies at least once")
        rule = Rule(kind, re.compile(path), method, times, status, delay, when)
        self._rules.append(rule)
        return rule

    def clear(self) -> None:
        self._rules.clear()

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._session = aiohttp.ClientSession(auto_decompress=True)
        app = web.Application(client_max_size=16 << 20)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0]
        self.url = f"http://{bound[0]}:{bound[1]}"
        return self.url

    async def stop(self) -> None:
        for task in list(self._held):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        rule = next((r for r in self._rules if r.takes(request.method, request.path, body)), None)
        self.passed.append(Passed(request.method, request.path, rule.kind if rule else None))
        if rule is not None and not rule.kind.forwards:
            rule._fire()
            if rule.kind is Fault.STALL_BEFORE:
                await self._hold(rule.delay)
            if rule.kind in (Fault.RESET_BEFORE, Fault.STALL_BEFORE):
                return _abort(request)
            return _gateway_error(rule.status)
        status, headers, answer = await self._forward(request, body)
        if rule is None:
            return web.Response(status=status, headers=headers, body=answer)
        rule._fire()
        if rule.kind is Fault.DROP_AFTER:
            return _abort(request)
        if rule.kind is Fault.STATUS_AFTER:
            return _gateway_error(rule.status)
        # DELAY_AFTER: hold the answer; the client has usually given up by the time it goes.
        await self._hold(rule.delay)
        return web.Response(status=status, headers=headers, body=answer)

    async def _hold(self, seconds: float) -> None:
        held = asyncio.current_task()
        assert held is not None
        self._held.add(held)
        try:
            await asyncio.sleep(seconds)
        finally:
            self._held.discard(held)

    async def _forward(self, request: web.Request, body: bytes) -> tuple[int, dict[str, str], bytes]:
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
        async with self._session.request(
            request.method,
            f"{self._upstream}{request.path_qs}",
            headers=headers,
            data=body,
            allow_redirects=False,
        ) as upstream:
            answer = await upstream.read()
            kept = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP}
            return upstream.status, kept, answer


def _abort(request: web.Request) -> web.Response:
    # Closing the transport here means the client reads end-of-stream before any status line, the
    # way a connection dropped by a load balancer looks. The response below is never written.
    if request.transport is not None:
        request.transport.abort()
    return web.Response(status=500)


def _gateway_error(status: int) -> web.Response:
    return web.Response(status=status, text=_GATEWAY_PAGE.format(status=status), content_type="text/html")
