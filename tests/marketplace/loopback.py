"""A tiny scripted HTTP server on 127.0.0.1 for exercising the client over real loopback HTTP."""

from __future__ import annotations

import asyncio
import json
import socket
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Reply:
    status: int = 200
    json: Any = None
    text: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False  # never answer (until the server stops): provokes a client read timeout


@dataclass(frozen=True)
class Seen:
    method: str
    path: str  # raw, still percent-encoded
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: Any


class ScriptedServer:
    """Answers requests with the queued replies in order (then ``default``), recording each request."""

    def __init__(self, default: Reply | None = None) -> None:
        self.replies: deque[Reply] = deque()
        self.default = default or Reply(status=599, text="no reply scripted")
        self.seen: list[Seen] = []
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    def script(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}/marketplace"

    async def stop(self) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        body = json.loads(raw) if raw else None
        self.seen.append(
            Seen(
                method=request.method,
                path=request.raw_path.split("?", 1)[0],
                query=list(request.query.items()),
                headers=dict(request.headers),
                body=body,
            )
        )
        reply = self.replies.popleft() if self.replies else self.default
        if reply.hang:
            await self._release.wait()
        if reply.json is not None:
            return web.json_response(reply.json, status=reply.status, headers=reply.headers)
        return web.Response(status=reply.status, text=reply.text or "", headers=reply.headers)


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens, so connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/marketplace"


class SleepRecorder:
    """Stands in for ``asyncio.sleep``: records the delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
