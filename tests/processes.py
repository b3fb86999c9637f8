"""The app in a process of its own, against stand-ins in the test's process: for stop and crash tests.

    async with outside(tmp_path) as world:              # the sandbox and the stand-in Slack on loopback
        app = world.app()                               # `python -m marketplace_slack.cli serve`, not started
        await app.start()                               # returns once it logged "started"
        await app.wait_for_log("reconciled")            # its start-up pass over the seeded world
        await world.register_webhook(app)
        ...
        assert await app.terminate() == 0               # SIGTERM: its exit code
        await app.kill()                                # SIGKILL
        await app.start()                               # again, on the same database, port and instance

Every setting is an environment variable, as in production, and `world.app(**overrides)` changes any.
A `FaultProxy` goes between the app and a stand-in like this:

    proxy = FaultProxy(upstream=origin(world.slack.base_url))
    app = world.app(SLACK_API_URL=via(await proxy.start(), world.slack.base_url))
    # the Marketplace likewise: origin(world.sandbox.base_url), MARKETPLACE_URL=via(...)

The database is a SQLite file in the test's directory unless `outside(database_url=..., schema=...)`
names another (PostgreSQL, for several replicas: `world.app()` twice, each with its own port and
`MPSLACK_INSTANCE`), shared by every start and every replica of the world. An app keeps its port and
instance name across restarts, so the webhook registered for it and Slack's request URL stay right, and
its next start is its own next life, as for a real deployment. Readiness and everything else the tests
wait for are log lines (JSON on stdout) read as they come: no polling, no sleeps. `app.owner` is the
current start's name in the claims it holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from pydantic import SecretStr

from marketplace_slack.infra.vault import TokenVault
from marketplace_slack.marketplace import models as wire
from marketplace_slack.marketplace.client import MarketplaceClient
from marketplace_slack.marketplace.registration import register_webhook
from marketplace_slack.store.database import open_store
from marketplace_slack.store.repository import Repository
from marketplace_slack_standins.fakeslack import FakeSlack, SlackUserAgent
from marketplace_slack_standins.sandbox.server import SandboxServer
from marketplace_slack_standins.stage import (
    SIGNING_SECRET,
    STEWARDS_CHANNEL,
    WEBHOOK_KEY,
    installed_as_declared,
    invite_everywhere,
    plausible_answers,
)

Log = dict[str, Any]
START_TIMEOUT = 60.0  # a cold interpreter on a busy 2-core machine, migrations included


def via(proxy_url: str, base_url: str) -> str:
    """`base_url` (a stand-in's API base) reached through the proxy at `proxy_url`, same path."""
    parts = urlsplit(base_url)
    return proxy_url.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")


def origin(url: str) -> str:
    """scheme://host:port of `url`: what a `FaultProxy` in front of that stand-in forwards to."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def free_port() -> int:
    # Bound and released at once: the app binds it a moment later. Loopback ports are not reused that
    # fast, and a clash fails start() loudly (the app says the port is in use), never silently.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class AppProcess:
    """One replica: `marketplace-slack serve` in a child process, started and stopped by the test."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env = env
        self.cwd = cwd
        self.port = int(env["MPSLACK_PORT"])
        self.url = f"http://127.0.0.1:{self.port}"
        self.output: list[str] = []  # every line of every start, for a failing test's message
        self.logs: list[Log] = []  # the JSON log lines of the current start
        self.owner: str | None = None  # this start's name in the claims it holds
        self.returncode: int | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._changed = asyncio.Condition()

    @property
    def running(self) -> bool:
        return self._process is not None and self.returncode is None

    @property
    def pid(self) -> int:
        assert self._process is not None, "not started"
        return self._process.pid

    @property
    def events_url(self) -> str:
        return f"{self.url}/slack/events"

    @property
    def webhook_url(self) -> str:
        return f"{self.url}{self.env.get('MARKETPLACE_WEBHOOK_PATH', '/marketplace/webhook')}"

    async def start(self, timeout: float = START_TIMEOUT) -> None:
        """Start the process and return once it logged "started" (raises if it exits first)."""
        if self.running:
            raise RuntimeError("already running")
        self.logs, self.owner, self.returncode = [], None, None
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "marketplace_slack.cli",
            "serve",
            env=self.env,
            cwd=self.cwd,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        self._reader = asyncio.create_task(self._read(self._process))
        started = await self.wait_for_log("started", timeout=timeout)
        self.owner = started.get("owner")

    async def restart(self, timeout: float = START_TIMEOUT) -> None:
        """Stop it gracefully if it runs (SIGTERM), then start it again on the same settings."""
        if self.running:
            await self.terminate()
        await self.start(timeout=timeout)

    def send(self, signum: signal.Signals) -> None:
        assert self._process is not None and self.returncode is None, "not running"
        self._process.send_signal(signum)

    async def kill(self) -> int:
        """SIGKILL, as the kernel or an impatient platform does: nothing of the app's stop runs."""
        self.send(signal.SIGKILL)
        return await self.wait()

    async def terminate(self, timeout: float = 60.0) -> int:
        """SIGTERM, as `docker stop` and Kubernetes do; returns the exit code."""
        self.send(signal.SIGTERM)
        return await self.wait(timeout)

    async def interrupt(self, timeout: float = 60.0) -> int:
        """SIGINT, as Ctrl-C does; returns the exit code."""
        self.send(signal.SIGINT)
        return await self.wait(timeout)

    async def wait(self, timeout: float = 60.0) -> int:
        """Wait for the process to exit (and its output to be read); its exit code, -N for signal N."""
        assert self._process is not None and self._reader is not None, "not started"
        try:
            async with asyncio.timeout(timeout):
                await self._reader
                code = await self._process.wait()
        except TimeoutError:
            raise TimeoutError(f"the app did not exit within {timeout}s:\n{self.tail()}") from None
        self.returncode = code
        return code

    async def wait_for_log(
        self,
        event: str,
        *,
        timeout: float = 30.0,
        where: Callable[[Log], bool] | None = None,
        count: int = 1,
    ) -> Log:
        """The `count`-th log line of this start whose event is `event` (and that `where` accepts)."""

        def found() -> list[Log]:
            return [e for e in self.logs if e.get("event") == event and (where is None or where(e))]

        def ended() -> bool:
            return self._reader is None or self._reader.done()

        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(lambda: len(found()) >= count or ended())
        except TimeoutError:
            raise TimeoutError(f"no {event!r} log line within {timeout}s:\n{self.tail()}") from None
        matches = found()
        if len(matches) < count:
            raise RuntimeError(f"the app exited before logging {event!r}:\n{self.tail()}")
        return matches[count - 1]

    def logged(self, event: str) -> list[Log]:
        """The log lines of this start with event `event`, so far."""
        return [e for e in self.logs if e.get("event") == event]

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.output[-lines:])

    async def aclose(self) -> None:
        """The end of a test: whatever still runs is killed."""
        if self.running:
            await self.kill()

    async def _read(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        # Read to the end whatever the test waits for: a full pipe would block the app.
        async for raw in process.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            async with self._changed:
                self.output.append(line)
                with contextlib.suppress(ValueError):
                    entry = json.loads(line)
                    if isinstance(entry, dict):
                        self.logs.append(entry)
                self._changed.notify_all()
        async with self._changed:
            self._changed.notify_all()


@dataclass
class Outside:
    """What the app talks to, in the test's process: the sandbox Marketplace and the stand-in Slack."""

    sandbox: SandboxServer
    slack: FakeSlack
    admin: MarketplaceClient
    tmp: Path
    database_url: str
    schema: str | None
    encryption_key: str
    apps: list[AppProcess]

    def env(self, **overrides: str) -> dict[str, str]:
        """The app's environment: the test's own, less any app setting it had, plus the stage's."""
        inherited = {
            k: v for k, v in os.environ.items() if not k.startswith(("MARKETPLACE_", "SLACK_", "MPSLACK_"))
        }
        settings = {
            "MARKETPLACE_URL": self.sandbox.base_url,
            "MARKETPLACE_TOKEN": self.sandbox.token_for("admin"),
            "MARKETPLACE_WEBHOOK_SIGNING_KEY": WEBHOOK_KEY,
            "SLACK_BOT_TOKEN": self.slack.bot_token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": self.slack.base_url,
            "MPSLACK_DEFAULT_CHANNEL": STEWARDS_CHANNEL,
            "MPSLACK_ENCRYPTION_KEYS": self.encryption_key,
            "MPSLACK_DATABASE_URL": self.database_url,
            **({"MPSLACK_DATABASE_SCHEMA": self.schema} if self.schema else {}),
            "MPSLACK_HOST": "127.0.0.1",
            "MPSLACK_PORT": str(free_port()),
            "MPSLACK_INSTANCE": f"replica-{len(self.apps)}",
            "MPSLACK_LOG_LEVEL": "INFO",  # readiness is the "started" line
            "MPSLACK_LOG_FORMAT": "json",
            "PYTHONUNBUFFERED": "1",
        }
        return {**inherited, **settings, **overrides}

    def app(self, **overrides: str) -> AppProcess:
        """A replica on the world's database (not started); each gets its own port and instance name."""
        process = AppProcess(self.env(**overrides), self.tmp)  # no .env file there to read
        self.apps.append(process)
        return process

    async def register_webhook(self, app: AppProcess) -> None:
        """Point the Marketplace's webhook at `app` (once per URL; it survives restarts on its port)."""
        await register_webhook(self.admin, app.webhook_url, SecretStr(WEBHOOK_KEY))

    def agent(self, app: AppProcess) -> SlackUserAgent:
        """Slack's side of `app`'s request URL: `async with world.agent(app) as agent:`."""
        return SlackUserAgent(app.events_url, SIGNING_SECRET, slack=self.slack)

    async def request_access(self, username: str, product: str) -> str:
        """`username` asks for access to `product` (by name) in the Marketplace; the request's id."""
        client = self.admin.with_token(SecretStr(self.sandbox.token_for(username)))
        product_id = (await client.get_data_product_by_name(product)).id
        answers = plausible_answers(await client.get_request_forms(product_id))
        user = self.sandbox.state.users[username].global_user_id
        created = await client.request_access(product_id, wire.CreateAccessRequest(user=user, form=answers))
        return created.id

    def cards(self, request_id: str, channel: str = STEWARDS_CHANNEL) -> list[Any]:
        """The top-level messages in `channel` that show `request_id`: exactly one, when all is well."""
        return [m for m in self.slack.messages(channel) if not m.thread_ts and request_id in str(m.blocks)]

    @contextlib.asynccontextmanager
    async def store(self) -> AsyncIterator[Repository]:
        """The world's database as the app sees it, opened from the test."""
        vault = TokenVault([SecretStr(self.encryption_key)])
        repo = await open_store(self.database_url, vault, schema=self.schema)
        try:
            yield repo
        finally:
            await repo.aclose()


@contextlib.asynccontextmanager
async def outside(
    tmp: Path, *, database_url: str | None = None, schema: str | None = None
) -> AsyncIterator[Outside]:
    """The sandbox and the stand-in Slack on loopback, on the real clock (the app runs on it too).
    The database is `database_url` (and PostgreSQL `schema`; the `store_database` fixture gives both)
    or a new SQLite file. Every app process started from the world is killed at the end."""
    async with SandboxServer() as sandbox, FakeSlack(install=installed_as_declared()) as slack:
        invite_everywhere(slack)
        admin = MarketplaceClient(sandbox.base_url, sandbox.token_for("admin"))
        world = Outside(
            sandbox=sandbox,
            slack=slack,
            admin=admin,
            tmp=tmp,
            database_url=database_url or f"sqlite+aiosqlite:///{tmp / 'app.db'}",
            schema=schema,
            encryption_key=Fernet.generate_key().decode(),
            apps=[],
        )
        try:
            yield world
        finally:
            for app in world.apps:
                await app.aclose()
            await admin.aclose()
