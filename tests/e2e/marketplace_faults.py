"""The e2e stage with a fault proxy between the app and the sandbox Marketplace: answers lost after
the work was done, 5xx after a commit, connections reset before. A test module's own `proxy` and
`stage` fixtures open these (named `stage`, so the e2e conftest's checks apply)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from urllib.parse import urlsplit

from pydantic import SecretStr

from marketplace_slack.app import build
from marketplace_slack.infra.clock import FakeClock, SystemClock
from marketplace_slack.marketplace.registration import register_webhook
from marketplace_slack_standins.fakeslack import FakeSlack, SlackUserAgent
from marketplace_slack_standins.faultproxy import FaultProxy
from marketplace_slack_standins.sandbox.server import SandboxServer
from marketplace_slack_standins.stage import (
    SIGNING_SECRET,
    WEBHOOK_KEY,
    Stage,
    installed_as_declared,
    invite_everywhere,
    stage_settings,
)


@asynccontextmanager
async def proxy_before(sandbox: SandboxServer) -> AsyncIterator[FaultProxy]:
    """Between the app and the sandbox (the root conftest's, on the test's clock)."""
    origin = urlsplit(sandbox.base_url)
    fault_proxy = FaultProxy(upstream=f"{origin.scheme}://{origin.netloc}")
    await fault_proxy.start()
    yield fault_proxy
    await fault_proxy.stop()


@asynccontextmanager
async def stage_behind(
    store_database: object, clock: FakeClock, sandbox: SandboxServer, proxy: FaultProxy
) -> AsyncIterator[Stage]:
    """The e2e stage, with the app's Marketplace URL pointed at `proxy` in front of the sandbox."""
    db = store_database
    extra = {"MPSLACK_DATABASE_SCHEMA": db.schema} if getattr(db, "schema", None) else {}  # type: ignore[attr-defined]
    origin = urlsplit(sandbox.base_url)
    async with AsyncExitStack() as stack:
        slack = await stack.enter_async_context(FakeSlack(clock=clock, install=installed_as_declared()))
        invite_everywhere(slack)
        settings = stage_settings(
            sandbox,
            slack,
            database_url=db.url,  # type: ignore[attr-defined]
            MARKETPLACE_URL=f"{proxy.url}{origin.path}",
            **extra,
        )
        app = await build(settings, clock=clock)
        await app.start(host="127.0.0.1", port=0, reconcile=False)
        stack.push_async_callback(app.stop)
        agent = await stack.enter_async_context(
            SlackUserAgent(f"{app.url}/slack/events", SIGNING_SECRET, slack=slack, clock=SystemClock())
        )
        await register_webhook(app.marketplace, f"{app.url}{settings.webhook_path}", SecretStr(WEBHOOK_KEY))
        running = Stage(sandbox=sandbox, slack=slack, app=app, agent=agent, clock=clock)
        await running.settle()
        yield running
