"""The sandbox as a running server: the app, its lifecycle, and the ``marketplace-slack sandbox`` command."""

from __future__ import annotations

import asyncio
import ipaddress
import sys
from types import TracebackType

from aiohttp import web

from marketplace_slack.infra.clock import Clock, SystemClock
from marketplace_slack_standins.sandbox import world
from marketplace_slack_standins.sandbox.faults import API_PREFIX, Faults, Stats
from marketplace_slack_standins.sandbox.faults import middleware as faults_middleware
from marketplace_slack_standins.sandbox.routes import catalog, control, products, requests
from marketplace_slack_standins.sandbox.routes import webhooks as webhook_routes
from marketplace_slack_standins.sandbox.routes.common import (
    FAULTS,
    STATE,
    STATS,
    WEBHOOKS,
    auth_middleware,
    errors_middleware,
)
from marketplace_slack_standins.sandbox.state import TOKEN_PREFIX, SandboxState
from marketplace_slack_standins.sandbox.webhooks import WebhookHub

TICK_SECONDS = 30.0
INSECURE_ENV = "MARKETPLACE_SANDBOX_INSECURE"


class InsecureBind(ValueError):
    """The sandbox was asked to listen where others can reach it, without being told that is fine."""


def is_loopback(host: str) -> bool:
    """Whether `host` is only reachable from this machine: localhost, 127.0.0.0/8 or ::1."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost, or "" (every interface)


def check_bind(host: str, *, insecure: bool) -> None:
    """Refuse a non-loopback address unless `insecure`: every sandbox token is printed on start and
    guessable (sbx_<username>), and it delivers webhooks to whatever URL a caller registers."""
    if not insecure and not is_loopback(host):
        raise InsecureBind(
            f"the sandbox will not listen on {host or 'every interface'}: its tokens are well known and it "
            f"sends webhooks to any URL; use 127.0.0.1, or pass --insecure ({INSECURE_ENV}=1) to do it anyway"
        )


def create_app(
    state: SandboxState,
    *,
    clock: Clock,
    webhooks: WebhookHub | None = None,
    faults: Faults | None = None,
    stats: Stats | None = None,
) -> web.Application:
    """The aiohttp application serving ``state``; what is not given is made fresh (and wired up)."""
    if webhooks is None:
        webhooks = WebhookHub(clock=clock, seed=state.seed)
        state.subscribe(webhooks.publish)
    fault_control = faults or Faults(seed=state.seed)
    counter = stats or Stats()
    # Faults sit outermost so an injected failure costs no work; auth is innermost so that even
    # its 401s leave in the error shape.
    app = web.Application(
        middlewares=[faults_middleware(fault_control, counter), errors_middleware, auth_middleware]
    )
    app[STATE] = state
    app[WEBHOOKS] = webhooks
    app[FAULTS] = fault_control
    app[STATS] = counter
    for area in (requests, products, catalog, webhook_routes, control):
        area.register(app)
    return app


class SandboxServer:
    """A running sandbox on loopback: ``async with SandboxServer(clock=clock) as server: ...``."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 7,
        insecure: bool = False,
    ) -> None:
        check_bind(host, insecure=insecure)
        self.clock: Clock = clock or SystemClock()
        self.host = host
        self.port = port
        self.state = world.build(clock=self.clock, seed=seed)
        self.webhooks = WebhookHub(clock=self.clock, seed=seed)
        self.faults = Faults(seed=seed)
        self.stats = Stats()
        self.state.subscribe(self.webhooks.publish)
        self.base_url = ""
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> SandboxServer:
        app = create_app(
            self.state, clock=self.clock, webhooks=self.webhooks, faults=self.faults, stats=self.stats
        )
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        self.base_url = f"http://{self.host}:{self.port}{API_PREFIX}"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.webhooks.close()

    async def tick(self) -> None:
        """Apply expiring/expired transitions at the clock's now; their webhooks start in the background."""
        self.state.sweep()

    def token_for(self, username: str) -> str:
        if username not in self.state.users:
            raise KeyError(f"no seeded user {username!r}")
        return TOKEN_PREFIX + username


async def run(host: str, port: int, *, insecure: bool = False) -> None:
    """Serve until cancelled, printing the base URL and who can log in with which token."""
    async with SandboxServer(host=host, port=port, insecure=insecure) as server:
        out = sys.stdout
        out.write(f"Marketplace sandbox serving at {server.base_url}\n\n")
        out.write(world.users_table(server.state))
        out.write("\nPress Ctrl+C to stop.\n")
        out.flush()
        while True:
            # With a real clock, grants expire as time passes; no test is here to call tick().
            await asyncio.sleep(TICK_SECONDS)
            await server.tick()
