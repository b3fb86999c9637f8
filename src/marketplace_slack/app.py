"""Composition root: builds the store, clients, Bolt app, scheduler and web routes, and runs them.

Nothing is built at import time. `build()` takes settings and an optional clock so tests, the demo
and benchmarks run the very same wiring against the sandbox and the fake Slack.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import signal
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import structlog
from aiohttp import web
from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.executors.base import run_coroutine_job
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from marketplace_slack.config import Settings
from marketplace_slack.config_file import load_config_file
from marketplace_slack.infra.clock import Clock, SystemClock
from marketplace_slack.infra.owners import new_owner
from marketplace_slack.infra.redaction import keep_secrets
from marketplace_slack.infra.tasks import BackgroundTasks, Lane
from marketplace_slack.infra.vault import TokenVault
from marketplace_slack.marketplace.client import MarketplaceClient
from marketplace_slack.marketplace.consumer import ConsumerGateway
from marketplace_slack.marketplace.gateway import MarketplaceGateway
from marketplace_slack.marketplace.transport import BACKGROUND_LIMITS, new_http_client
from marketplace_slack.marketplace.webhooks import (
    SIGNATURE_HEADER,
    WebhookRejected,
    parse_notification,
    verify_signature,
)
from marketplace_slack.slack import listeners
from marketplace_slack.slack.directory import SlackDirectory
from marketplace_slack.slack.handoff import BusyTeller
from marketplace_slack.slack.messenger import SlackMessenger
from marketplace_slack.slack.pacing import Pacer, only_repeatable
from marketplace_slack.slack.request_messenger import RequestMessenger
from marketplace_slack.store.database import open_store
from marketplace_slack.store.engine import UnsupportedDatabase
from marketplace_slack.store.repository import Repository
from marketplace_slack.workflow.identity import IdentityPolicy
from marketplace_slack.workflow.routing import Router
from marketplace_slack.workflow.schedule import Timekeeper, build_timekeeper
from marketplace_slack.workflow.service import Workflow

log = structlog.get_logger(__name__)

MAX_WEBHOOK_BYTES = 1 << 20
_CANCEL_WITHIN = 5.0  # seconds for cancelled work to wind down at stop
# A request handler only verifies and acknowledges (Slack waits 3 s for that), so on stopping the web
# server gives those in flight this long; the work they handed off has the whole grace period.
HANDLER_SHUTDOWN_SECONDS = 3.0

# What cannot be opened or reached, as opposed to a bug (which keeps its traceback).
DATABASE_FAILURES = (OSError, SQLAlchemyError, UnsupportedDatabase)


class StartupError(Exception):
    """The app cannot start for a reason outside it; the message is one line, safe to print."""


DATABASE_FIX = "check MPSLACK_DATABASE_URL, and that the database is up and reachable from here"


def database_failure(url: str, exc: BaseException) -> str:
    """What went wrong opening the database, naming it without its password."""
    where = make_url(url).render_as_string(hide_password=True)
    reason = getattr(exc, "orig", None) or exc  # SQLAlchemy wraps the driver's own error
    text = " ".join(str(reason).split()) or type(reason).__name__
    return f"cannot open the database {where} ({text[:200]})"


def build_slack_client(settings: Settings) -> AsyncWebClient:
    """A Web API client that waits out 429s (Retry-After) and retries connection and 5xx failures:
    for reads and the calls a repeat cannot double. Messages go through `build_slack_sender`."""
    return AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=str(settings.slack_api_url) if settings.slack_api_url else AsyncWebClient.BASE_URL,
        timeout=10,
        retry_handlers=[
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            # Never for a call that creates a message: it may have landed (pacing.CREATING_METHODS).
            only_repeatable(AsyncConnectionErrorRetryHandler(max_retry_count=2)),
            only_repeatable(AsyncServerErrorRetryHandler(max_retry_count=2)),
        ],
    )


def build_slack_sender(settings: Settings, tasks: BackgroundTasks) -> Pacer:
    """chat.postMessage and chat.update, paced per channel. Its client retries nothing by itself: the
    pacer waits out 429s, and a post that timed out or met a 5xx may have landed, so it is not repeated."""
    client = AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=str(settings.slack_api_url) if settings.slack_api_url else AsyncWebClient.BASE_URL,
        timeout=10,
        retry_handlers=[],  # not None: that would mean slack-sdk's default, which retries connection errors
    )
    return Pacer(client, backlog=settings.channel_backlog, spawn=tasks.spawn)


@dataclass
class Metrics:
    registry: CollectorRegistry
    webhooks: Counter
    channel_failures: Counter

    @classmethod
    def create(cls) -> Metrics:
        registry = CollectorRegistry()
        return cls(
            registry=registry,
            webhooks=Counter(
                "marketplace_webhooks",
                "Marketplace webhook deliveries by result",
                ["result"],
                registry=registry,
            ),
            channel_failures=Counter(
                "marketplace_slack_channel_failures",
                "Request cards a channel refused, by channel and Slack's reason",
                ["channel", "reason"],
                registry=registry,
            ),
        )

    def channel_failed(self, channel: str, reason: str) -> None:
        self.channel_failures.labels(channel=channel, reason=reason).inc()

    def watch(self, tasks: BackgroundTasks) -> None:
        """Export how much handed-over work waits, and how much was shed, read at each scrape."""
        self.registry.register(_TasksCollector(tasks))


class _TasksCollector(Collector):
    def __init__(self, tasks: BackgroundTasks) -> None:
        self._tasks = tasks

    def collect(self) -> Iterable[Metric]:
        yield GaugeMetricFamily(
            "marketplace_slack_background_queued",
            "Clicks, commands and modals waiting for a turn to run",
            value=self._tasks.queued,
        )
        yield CounterMetricFamily(
            "marketplace_slack_background_shed",
            "Clicks and commands answered 'busy' instead of queued, since start",
            value=self._tasks.shed,
        )


class TrackedExecutor(AsyncIOExecutor):  # type: ignore[misc]
    """Runs the scheduler's coroutine jobs as the app's background tasks, so that stopping waits for a
    reconciliation or a reminder tick in flight like for any other work, and cancels it the same way.
    (APScheduler's own executor cancels them on shutdown; `_do_submit_job` is its extension point.)"""

    def __init__(self, tasks: BackgroundTasks) -> None:
        super().__init__()
        self._tracked = tasks

    def _do_submit_job(self, job: Any, run_times: Any) -> None:
        def finished(task: asyncio.Task[Any]) -> None:
            if task.cancelled():
                self._run_job_error(job.id, asyncio.CancelledError(), None)
            elif task.exception() is None:
                self._run_job_success(job.id, task.result())
            else:
                self._run_job_error(job.id, task.exception(), None)

        coro = run_coroutine_job(job, job._jobstore_alias, run_times, self._logger.name)
        self._tracked.spawn(coro, name=f"job:{job.id}", lane=Lane.BACKGROUND).add_done_callback(finished)


class Application:
    """The running app: web server (Slack events, Marketplace webhooks, health, metrics) and scheduler."""

    def __init__(
        self,
        *,
        settings: Settings,
        store: Repository,
        marketplace: MarketplaceClient,
        slack_client: AsyncWebClient,
        bolt: AsyncApp,
        workflow: Workflow,
        timekeeper: Timekeeper,
        tasks: BackgroundTasks,
        metrics: Metrics,
        pools: tuple[httpx.AsyncClient, ...] = (),
        busy: BusyTeller | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.marketplace = marketplace
        self.slack_client = slack_client
        self.bolt = bolt
        self.workflow = workflow
        self.timekeeper = timekeeper
        self.tasks = tasks
        self.metrics = metrics
        self._pools = pools  # the Marketplace's connection pools, shared by every identity: closed last
        self._busy = busy
        self.web = web.Application(client_max_size=MAX_WEBHOOK_BYTES)
        if not settings.socket_mode:  # Slack's payloads come over the socket instead
            self.web.router.add_post("/slack/events", self._slack_events)
        self.web.router.add_post(settings.webhook_path, self._webhook)
        self.web.router.add_get("/healthz", self._healthz)
        # On a port of its own when one is set, and then not on the public one.
        self.metrics_web: web.Application | None = None
        if settings.metrics_port is None:
            self.web.router.add_get("/metrics", self._metrics)
        else:
            self.metrics_web = web.Application()
            self.metrics_web.router.add_get("/metrics", self._metrics)
        self._runner: web.AppRunner | None = None
        self._metrics_runner: web.AppRunner | None = None
        self._scheduler: AsyncIOScheduler | None = None
        self._socket_mode: Any = None
        self._now = asyncio.Event()  # set by `stop_now`: what the grace period waits for is cancelled
        self.url: str | None = None
        self.metrics_url: str | None = None  # where /metrics is served, set by `start`

    async def start(
        self, *, host: str | None = None, port: int | None = None, reconcile: bool = True
    ) -> None:
        self._runner = web.AppRunner(self.web, access_log=None, shutdown_timeout=HANDLER_SHUTDOWN_SECONDS)
        await self._runner.setup()
        host = host or self.settings.host
        port = self.settings.port if port is None else port
        self.url = await _listen(self._runner, host, port, "MPSLACK_PORT", "MPSLACK_HOST")
        self.metrics_url = f"{self.url}/metrics"
        if self.metrics_web is not None:
            assert self.settings.metrics_port is not None
            self._metrics_runner = web.AppRunner(self.metrics_web, access_log=None)
            await self._metrics_runner.setup()
            where = await _listen(
                self._metrics_runner,
                self.settings.metrics_host or host,
                self.settings.metrics_port,
                "MPSLACK_METRICS_PORT",
                "MPSLACK_METRICS_HOST",
            )
            self.metrics_url = f"{where}/metrics"
        if self.settings.socket_mode:
            from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

            assert self.settings.slack_app_token is not None
            # The Web API client, so apps.connections.open goes to the same Slack (SLACK_API_URL) as the rest.
            self._socket_mode = AsyncSocketModeHandler(
                self.bolt, self.settings.slack_app_token.get_secret_value(), web_client=self.slack_client
            )
            await self._socket_mode.connect_async()
        if reconcile:
            self._scheduler = AsyncIOScheduler(executors={"default": TrackedExecutor(self.tasks)})
            self._scheduler.add_job(
                self.workflow.reconcile,
                "interval",
                seconds=self.settings.reconcile_seconds,
                max_instances=1,
                coalesce=True,
                id="reconcile",
            )
            self.timekeeper.attach(
                self._scheduler, tick=timedelta(seconds=self.settings.tick_seconds), scan=timedelta(hours=1)
            )
            self._scheduler.start()
            # A first pass at start-up picks up whatever happened while the app was down.
            self.tasks.spawn(self.workflow.reconcile(), name="reconcile-at-start", lane=Lane.BACKGROUND)
        log.info("started", url=self.url, socket_mode=self.settings.socket_mode, owner=self.workflow.owner)

    async def stop(self, *, grace: float | None = None) -> None:
        """Stop taking work, let the work in flight finish for up to `grace` seconds (default
        MPSLACK_SHUTDOWN_GRACE_SECONDS) or until `stop_now`, cancel what is left, give back the
        claims this process still holds, then close the clients and the store."""
        grace = self.settings.shutdown_grace_seconds if grace is None else grace
        # No new work: no scheduled job starts, Slack's socket and the listening port close (a
        # load balancer sends new requests to another replica), requests being read are answered.
        if self._scheduler is not None:
            self._scheduler.pause()
        if self._socket_mode is not None:
            await self._socket_mode.close_async()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._metrics_runner is not None:
            await self._metrics_runner.cleanup()
        drained = asyncio.ensure_future(self.tasks.drain())
        hurried = asyncio.ensure_future(self._now.wait())
        await asyncio.wait([drained, hurried], timeout=grace, return_when=asyncio.FIRST_COMPLETED)
        hurried.cancel()
        if not drained.done():
            drained.cancel()
            log.warning("stop_cancelled_work", tasks=self.tasks.pending, grace=grace)
            # Bounded: a cancelled task's own clean-up (a store write) could hang on a database that is
            # gone; its claim's lease runs out then. A card post cut short keeps its claim held, and
            # giving it back below lapses it, so the next taker looks before posting.
            if not await self.tasks.cancel_all(within=_CANCEL_WITHIN):
                log.warning("stop_abandoned_work", tasks=self.tasks.pending)
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
        try:
            given_back = await self.workflow.give_back()
        except DATABASE_FAILURES as exc:  # the leases run out instead; stopping goes on
            log.warning("give_back_failed", error=type(exc).__name__)
        else:
            if given_back:
                log.info("claims_given_back", count=given_back)
        await self.marketplace.aclose()
        for pool in self._pools:
            await pool.aclose()
        if self._busy is not None:
            await self._busy.aclose()
        await self.store.aclose()
        log.info("stopped")

    def stop_now(self) -> None:
        """Cut the grace period of a `stop` under way (or about to be): cancel the work in flight."""
        self._now.set()

    async def _slack_events(self, request: web.Request) -> web.Response:
        bolt_request = await to_bolt_request(request)
        bolt_response = await self.bolt.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    async def _webhook(self, request: web.Request) -> web.Response:
        body = await request.read()
        key = self.settings.webhook_signing_key
        try:
            if key is not None:
                verify_signature(body, request.headers.get(SIGNATURE_HEADER), key.get_secret_value())
            note = parse_notification(body)
        except WebhookRejected as exc:
            self.metrics.webhooks.labels(result=str(exc.status)).inc()
            log.warning("webhook_rejected", status=exc.status, reason=exc.message)
            return web.json_response({"ok": False, "error": exc.message}, status=exc.status)
        self.metrics.webhooks.labels(result="accepted").inc()
        # The Marketplace wants an answer within 10 s; the work happens after it.
        self.tasks.spawn(
            self.workflow.cards.on_notification(note), name=f"webhook:{note.event_type}", lane=Lane.BACKGROUND
        )
        return web.json_response({"ok": True}, status=202)

    async def _healthz(self, _: web.Request) -> web.Response:
        # Channels that refuse cards do not make the app unready (the others still work), but
        # readiness checks and dashboards see them here.
        failing = [
            {
                "channel": f.channel,
                "reason": f.reason,
                "since": f.first_failed_at.isoformat(),
                "attempts": f.attempts,
                "waiting": f.waiting,
                "next_attempt_at": f.next_attempt_at.isoformat(),
            }
            for f in await self.store.channels.failing()
        ]
        return web.json_response({"ok": True, "channels_failing": failing})

    async def _metrics(self, _: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(self.metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )


async def build(settings: Settings, *, clock: Clock | None = None, owner: str | None = None) -> Application:
    """Wire everything from settings. The caller starts (and later stops) the returned application."""
    clock = clock or SystemClock()
    keep_secrets(settings.secret_values())  # before anything that could log one is built
    config = load_config_file(settings.config_path)  # before anything opens: a bad file stops start-up
    router = Router.from_routes(settings.default_channel, config.routes, default_owner=config.channel_owner)
    vault = TokenVault(settings.encryption_keys)
    try:
        store = await open_store(
            settings.database_url.get_secret_value(), vault, schema=settings.database_schema
        )
    except DATABASE_FAILURES as exc:
        raise StartupError(
            f"{database_failure(settings.database_url.get_secret_value(), exc)}: {DATABASE_FIX}"
        ) from None
    http = new_http_client(httpx.Timeout(10.0, connect=5.0))
    background_http = new_http_client(httpx.Timeout(10.0, connect=5.0), limits=BACKGROUND_LIMITS)
    marketplace = MarketplaceClient(
        str(settings.marketplace_url), settings.marketplace_token, http=http, background_http=background_http
    )
    slack_client = build_slack_client(settings)
    tasks = BackgroundTasks(concurrency=settings.background_concurrency, queue=settings.background_queue)
    gateway = MarketplaceGateway(
        marketplace,
        app_url=str(settings.marketplace_app_url),
        account_id=settings.marketplace_account_id,
        files_as_app=config.requests.file_as_app,
    )
    messenger = SlackMessenger(
        slack_client,
        clock,
        build_slack_sender(settings, tasks),
        show_requester_email=config.cards.show_requester_email,
    )
    directory = SlackDirectory(slack_client, store, clock)
    owner = owner or new_owner(settings.instance)
    metrics = Metrics.create()
    metrics.watch(tasks)
    timekeeper = build_timekeeper(
        config,
        store=store,
        gateway=gateway,
        messenger=messenger,
        directory=directory,
        router=router,
        clock=clock,
        owner=owner,
        slack_users_kept=directory.ttl,
    )
    workflow = Workflow(
        store=store,
        gateway=gateway,
        messenger=messenger,
        directory=directory,
        router=router,
        clock=clock,
        owner=owner,
        observers=(timekeeper.reminders, timekeeper.digests, timekeeper.expiry),
        # Longer than a Marketplace call with all its retries, so a claim is never taken over in flight.
        claim_lease=timedelta(seconds=120),
        on_channel_failure=metrics.channel_failed,
        form_keys=settings.encryption_keys,  # every replica checks the forms any replica opened
        allow_self_approval=config.decisions.allow_self_approval,
        identity_policy=IdentityPolicy(
            allow_guests=config.identity.allow_guests, allow_external=config.identity.allow_external
        ),
        link_lifetime=config.links.lifetime,
        consumer=ConsumerGateway(marketplace, gateway),
        consumer_slack=RequestMessenger(
            slack_client, whisper=messenger.whisper, allow_for_others=config.requests.allow_for_others
        ),
        marketplace_app_url=str(settings.marketplace_app_url) if config.requests.unfurl_links else None,
        file_as_app=config.requests.file_as_app,
        allow_for_others=config.requests.allow_for_others,
    )
    timekeeper.cards = workflow.cards  # its tick retries the cards waiting for a failing channel
    timekeeper.homes = workflow.home  # and publishes the App Homes gone stale within their throttle
    timekeeper.renewals = workflow.renewals  # and tells consumers who asked that they can request again
    bolt = AsyncApp(
        client=slack_client,
        # Bolt copies its base logger's level onto every logger it makes (the root's, without one):
        # this one is capped (logs.LIBRARIES), so its DEBUG, which logs payloads, stays off.
        logger=logging.getLogger("slack_bolt"),
        signing_secret=settings.slack_signing_secret.get_secret_value()
        if settings.slack_signing_secret
        else None,
        # Listeners only ack and hand off, so Bolt can answer as soon as they return (no ack polling).
        process_before_response=True,
    )
    busy = BusyTeller(replies=messenger)
    listeners.register(
        bolt, workflow, tasks, reminders=timekeeper.reminders, digests=timekeeper.digests, busy=busy
    )
    return Application(
        settings=settings,
        store=store,
        marketplace=marketplace,
        slack_client=slack_client,
        bolt=bolt,
        workflow=workflow,
        timekeeper=timekeeper,
        tasks=tasks,
        metrics=metrics,
        pools=(http, background_http),
        busy=busy,
    )


async def serve(settings: Settings) -> None:
    """`marketplace-slack serve`: run until SIGTERM or SIGINT, then stop gracefully (`Application.stop`);
    a second signal during the grace period cancels what is still in flight. Either way the stop is
    orderly (claims given back, store closed), so the command exits 0."""
    application = await build(settings)
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()

    def on_signal(signum: signal.Signals) -> None:
        if stopping.is_set():
            log.warning("stopping_now", signal=signum.name)
            application.stop_now()
        else:
            log.info("stopping", signal=signum.name, grace=settings.shutdown_grace_seconds)
            stopping.set()

    # As PID 1 in a container, only a signal the process handles reaches it: these handlers are
    # what makes `docker stop` and Kubernetes' SIGTERM work (see the Dockerfile).
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        await application.start()
        await stopping.wait()
    finally:
        try:
            await application.stop()
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)


async def _listen(runner: web.AppRunner, host: str, port: int, port_var: str, host_var: str) -> str:
    """Start listening on host:port; returns the base URL bound. Raises StartupError naming `port_var`."""
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise StartupError(
                f"port {port} on {host} is already in use: stop what listens there "
                f"or set {port_var} to a free port"
            ) from None
        raise StartupError(f"cannot listen on {host}:{port} ({exc.strerror}): check {host_var}") from None
    bound = runner.addresses[0]
    return f"http://{_display_host(bound[0])}:{bound[1]}"


def _display_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104
