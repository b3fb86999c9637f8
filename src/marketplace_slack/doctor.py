"""`marketplace-slack doctor`: what is wrong with the installation, before a user notices.

Each check asks the real services one question and answers with a `Finding`: passed, or failed with
the fix. They run concurrently, each under a timeout; the questions several checks share (Slack's
`auth.test`, the Marketplace's webhook) are asked once. No finding holds a secret: Slack answers with
error codes, the Marketplace client scrubs its token, database URLs are shown without their password.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Final, Generic, TypeVar

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from marketplace_slack.app import DATABASE_FAILURES, DATABASE_FIX, build_slack_client, database_failure
from marketplace_slack.config import Settings
from marketplace_slack.config_file import ConfigFile
from marketplace_slack.infra.clock import Clock, SystemClock
from marketplace_slack.marketplace import models as wire
from marketplace_slack.marketplace.client import MarketplaceClient
from marketplace_slack.marketplace.errors import (
    APIConnectionError,
    ForbiddenError,
    MarketplaceError,
    NotFoundError,
    UnauthorizedError,
)
from marketplace_slack.marketplace.registration import registered_webhook
from marketplace_slack.store.database import current_revision, head_revision
from marketplace_slack.store.engine import create_engine

# The bot token scopes the app needs: manifest.yml's `oauth_config.scopes.bot`, which a test keeps equal.
NEEDED_SCOPES: Final = frozenset(
    {
        "channels:history",
        "channels:read",
        "chat:write",
        "chat:write.public",
        "commands",
        "groups:history",
        "groups:read",
        "im:history",
        "im:write",
        "links:read",
        "links:write",
        "usergroups:read",
        "users:read",
        "users:read.email",
    }
)
# Slack refuses a request whose signature timestamp is further than this from its own clock.
SLACK_CLOCK_WINDOW: Final = timedelta(minutes=5)
DEFAULT_TIMEOUT: Final = 10.0
HISTORY_PAGE: Final = 20
# Looked up when the Marketplace account has no address: "no such user" still proves the scope works.
PLACEHOLDER_EMAIL: Final = "doctor@example.invalid"

_REINSTALL = "add them to the app's bot token scopes (manifest.yml lists them all) and reinstall it"
_SLACK_REAUTH = (
    "set SLACK_BOT_TOKEN to the Bot User OAuth Token (xoxb-...) on the app's OAuth & Permissions page; "
    "reinstall the app if it was revoked"
)
_MARKETPLACE_REAUTH = "make a personal access token for the app's Marketplace account, in MARKETPLACE_TOKEN"

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Finding:
    ok: bool
    detail: str
    fix: str = ""
    check: str = ""  # named by the runner

    def line(self) -> str:
        mark = "✓" if self.ok else "✗"
        return f"{mark} {self.check}: {self.detail}" + (f" — fix: {self.fix}" if self.fix else "")


def passed(detail: str) -> Finding:
    return Finding(True, detail)


def failed(detail: str, fix: str) -> Finding:
    return Finding(False, detail, fix)


@dataclass(frozen=True, slots=True)
class SlackAnswer:
    """A Web API answer, failed or not: failures carry the headers (the scopes, the date) too."""

    data: Mapping[str, Any]
    headers: Mapping[str, str]  # names in lower case

    @property
    def ok(self) -> bool:
        return bool(self.data.get("ok"))

    @property
    def error(self) -> str:
        return str(self.data.get("error") or "no error code")

    @property
    def scopes(self) -> frozenset[str] | None:
        """The token's scopes, from the `X-OAuth-Scopes` header Slack sends with every answer."""
        header = self.headers.get("x-oauth-scopes")
        return None if header is None else frozenset(s.strip() for s in header.split(",") if s.strip())


class SlackUnreachable(Exception):
    """No answer from Slack's Web API at all."""


class _Once(Generic[T]):
    """One shared call: the first check to ask starts it, the others wait for the same answer."""

    def __init__(self, call: Callable[[], Awaitable[T]]) -> None:
        self._call = call
        self._task: asyncio.Task[T] | None = None

    async def __call__(self) -> T:
        if self._task is None:
            self._task = asyncio.ensure_future(self._call())
        # Shielded: one check's timeout must not cancel the answer the others wait for.
        return await asyncio.shield(self._task)

    def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()


class Doctor:
    """The checks of one installation, over clients the caller owns (tests hand in their own)."""

    def __init__(
        self,
        settings: Settings,
        config: ConfigFile,
        *,
        slack: AsyncWebClient,
        marketplace: MarketplaceClient,
        clock: Clock,
        webhook_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.settings = settings
        self.config = config
        self.slack = slack
        self.marketplace = marketplace
        self.clock = clock
        self.timeout = timeout
        public = str(settings.public_url).rstrip("/") if settings.public_url else None
        self.webhook_url = webhook_url or (f"{public}{settings.webhook_path}" if public else None)
        self._auth = _Once(lambda: self._ask(self.slack.auth_test()))
        self._me = _Once(self.marketplace.get_current_user)
        self._webhook = _Once(self._find_webhook)

    def checks(self) -> list[tuple[str, Callable[[], Awaitable[Finding]]]]:
        """Every check by name, in the order they are reported."""

        def membership(channel: str) -> Callable[[], Awaitable[Finding]]:
            return lambda: self.channel(channel)

        return [
            ("Slack token", self.slack_token),
            ("Slack scopes", self.slack_scopes),
            *((f"Slack channel {c}", membership(c)) for c in self.channels()),
            ("Slack email lookup", self.email_lookup),
            ("Clock", self.clock_skew),
            ("Marketplace token", self.marketplace_token),
            ("Marketplace requests", self.marketplace_requests),
            ("Marketplace webhook", self.webhook),
            ("Webhook deliveries", self.deliveries),
            ("Database", self.database),
        ]

    async def run(self) -> list[Finding]:
        try:
            return list(await asyncio.gather(*(self._timed(name, check) for name, check in self.checks())))
        finally:
            for shared in (self._auth, self._me, self._webhook):
                shared.cancel()

    def channels(self) -> list[str]:
        """Every channel the app posts to: the default, the routes', the digests', the escalation's."""
        escalation = self.config.reminders.escalation
        found = [
            self.settings.default_channel,
            *(r.channel for r in self.config.routes),
            *(d.channel for d in self.config.digests),
            *([escalation.channel] if escalation and escalation.channel else []),
        ]
        return list(dict.fromkeys(found))

    # --- Slack ---------------------------------------------------------------------------------

    async def slack_token(self) -> Finding:
        answer = await self._auth()
        if not answer.ok:
            return failed(f"auth.test answered {answer.error}", _SLACK_REAUTH)
        data = answer.data
        return passed(
            f"auth.test: bot @{data.get('user')} ({data.get('user_id')}) "
            f"in {data.get('team')} ({data.get('team_id')})"
        )

    async def slack_scopes(self) -> Finding:
        answer = await self._auth()
        if not answer.ok:
            return failed("unknown: auth.test failed", "fix the Slack token first")
        granted = answer.scopes
        if granted is None:
            return failed(
                "Slack did not say which scopes the token has (no X-OAuth-Scopes header)",
                "check SLACK_API_URL points at Slack's Web API (leave it unset for slack.com)",
            )
        missing = sorted(NEEDED_SCOPES - granted)
        if missing:
            return failed(f"missing {', '.join(missing)}", _REINSTALL)
        return passed(f"the {len(NEEDED_SCOPES)} the app needs are granted")

    async def channel(self, channel: str) -> Finding:
        answer = await self._ask(self.slack.conversations_info(channel=channel))
        bot = await self._bot_name()
        invite = f"invite the bot: /invite @{bot} in that channel"
        if not answer.ok:
            if answer.error == "channel_not_found":
                return failed(
                    "the bot cannot see it: it is private and the bot is not in it, or the id is wrong",
                    f"{invite}, or correct the id (the channel's details in Slack, About, at the bottom)",
                )
            if answer.error == "missing_scope":
                needed = answer.data.get("needed") or "channels:read, groups:read"
                return failed(f"cannot look at it without {needed}", _REINSTALL)
            return failed(f"conversations.info answered {answer.error}", "see Slack's documentation of it")
        info = answer.data.get("channel") or {}
        name = f"#{info.get('name')}" if info.get("name") else channel
        if info.get("is_archived"):
            return failed(f"{name} is archived", "unarchive it, or route its requests to another channel")
        if info.get("is_member"):
            return passed(f"the bot is in {name}")
        granted = (await self._auth()).scopes or frozenset()
        if not info.get("is_private") and "chat:write.public" in granted:
            return passed(f"the bot is not in {name}, but may post there: public, and chat:write.public")
        return failed(f"the bot is not in {name}, so cards sent there are refused", invite)

    async def email_lookup(self) -> Finding:
        try:
            email = (await self._me()).email or PLACEHOLDER_EMAIL
        except MarketplaceError:
            email = PLACEHOLDER_EMAIL
        answer = await self._ask(self.slack.users_lookupByEmail(email=email))
        if answer.ok:
            user = answer.data.get("user") or {}
            return passed(f"users.lookupByEmail answers ({email} is @{user.get('name')})")
        if answer.error == "users_not_found":
            return passed(f"users.lookupByEmail answers (no Slack account has {email})")
        if answer.error == "missing_scope":
            return failed(
                "users.lookupByEmail needs users:read.email: no steward can be matched by email",
                _REINSTALL,
            )
        return failed(f"users.lookupByEmail answered {answer.error}", "see Slack's documentation of it")

    async def clock_skew(self) -> Finding:
        answer = await self._auth()
        slack_now = _http_date(answer.headers.get("date"))
        if slack_now is None:
            return failed("Slack's answer had no Date header to compare with", "check SLACK_API_URL")
        skew = self.clock.now() - slack_now
        if abs(skew) > SLACK_CLOCK_WINDOW:
            side = "ahead of" if skew > timedelta(0) else "behind"
            return failed(
                f"this machine is {_span(abs(skew))} {side} Slack, past its 5-minute window",
                "synchronise the clock (NTP): Slack's signed requests are refused when it is off",
            )
        return passed(f"within {_span(abs(skew))} of Slack's")

    async def _ask(self, call: Awaitable[Any]) -> SlackAnswer:
        try:
            response = await call
        except SlackApiError as exc:
            response = exc.response
        except (aiohttp.ClientError, OSError) as exc:
            raise SlackUnreachable(f"{type(exc).__name__}: {exc}") from None
        data = response.data if isinstance(response.data, dict) else {}
        return SlackAnswer(data, {str(k).lower(): str(v) for k, v in (response.headers or {}).items()})

    async def _bot_name(self) -> str:
        answer = await self._auth()
        return str(answer.data.get("user") or "your-app") if answer.ok else "your-app"

    # --- the Marketplace -----------------------------------------------------------------------

    async def marketplace_token(self) -> Finding:
        me = await self._me()
        return passed(f"GET /api/auth/user: {me.display_name} ({me.email or me.username})")

    async def marketplace_requests(self) -> Finding:
        try:
            page = await self.marketplace.search_access_requests(historical=False, limit=10)
        except ForbiddenError as exc:
            return failed(
                f"the token's account may not list access requests ({exc.message})",
                "use the token of an account that manages the data products' requests (e.g. GOVERNANCE)",
            )
        return passed(f"it lists the requests it watches ({page.meta.total_count} current)")

    async def webhook(self) -> Finding:
        url = self.webhook_url
        if url is None:
            return failed(
                "no URL to look for",
                "set MPSLACK_PUBLIC_URL to where the Marketplace reaches this app, or pass --webhook-url",
            )
        register = f"run `marketplace-slack register-webhook --url {url}`"
        hook = await self._webhook()
        if hook is None:
            return failed(f"none is registered for {url}", register)
        if hook.suppressed:
            return failed(
                f"{hook.id} for {url} is suppressed after failed deliveries",
                f"mend what the deliveries below report, then {register}",
            )
        if self.settings.webhook_signing_key is None:
            return failed(
                "the app accepts unsigned webhooks (MARKETPLACE_WEBHOOK_INSECURE)",
                f"set MARKETPLACE_WEBHOOK_SIGNING_KEY, then {register}",
            )
        if not hook.signing_key:
            return failed(f"{hook.id} for {url} has no signing key", f"{register}; it sets the key")
        return passed(f"{hook.id} for {url}, with a signing key")

    async def deliveries(self) -> Finding:
        hook = await self._webhook() if self.webhook_url else None
        if hook is None:
            return failed("unknown: no registered webhook to read the history of", "see the webhook line")
        page = await self.marketplace.get_webhook_history(hook.id, limit=HISTORY_PAGE)
        history = sorted(page.data, key=lambda d: d.created_at, reverse=True)
        if not history:
            return passed("none yet (register-webhook sends a test delivery)")
        latest = history[0]
        delivered = sum(1 for d in history if _delivered(d))
        when = latest.created_at.isoformat(timespec="seconds")
        if not _delivered(latest):
            return failed(f"the latest, at {when}, failed: {latest.message[:120]}", _delivery_fix(latest))
        return passed(f"the latest, at {when}, was delivered; {delivered} of the last {len(history)}")

    async def _find_webhook(self) -> wire.Webhook | None:
        assert self.webhook_url is not None
        return await registered_webhook(self.marketplace, self.webhook_url)

    # --- the database --------------------------------------------------------------------------

    async def database(self) -> Finding:
        url = self.settings.database_url.get_secret_value()
        try:
            engine = create_engine(url, schema=self.settings.database_schema)
        except DATABASE_FAILURES as exc:
            return failed(database_failure(url, exc), DATABASE_FIX)
        try:
            current = await current_revision(engine)
        except DATABASE_FAILURES as exc:
            return failed(database_failure(url, exc), DATABASE_FIX)
        finally:
            await engine.dispose()
        head = head_revision()
        serve = "start `marketplace-slack serve`: it brings the tables up to date at start-up"
        if current is None:
            return failed("reachable, but it has no tables yet", serve)
        if current != head:
            return failed(f"reachable, at revision {current}; this version needs {head}", serve)
        return passed(f"reachable, at revision {head} (the latest)")

    # --- running -------------------------------------------------------------------------------

    async def _timed(self, name: str, check: Callable[[], Awaitable[Finding]]) -> Finding:
        try:
            async with asyncio.timeout(self.timeout):
                finding = await check()
        except TimeoutError:
            finding = failed(f"no answer within {self.timeout:g}s", "check the network and the service")
        except SlackUnreachable as exc:
            finding = failed(
                f"cannot reach Slack ({exc})", "check SLACK_API_URL (unset for slack.com) and the network"
            )
        except MarketplaceError as exc:
            finding = _marketplace_failure(exc)
        return replace(finding, check=name)


async def diagnose(
    settings: Settings,
    config: ConfigFile,
    *,
    webhook_url: str | None = None,
    clock: Clock | None = None,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - each check's own deadline
) -> list[Finding]:
    """Run every check against the services `settings` name."""
    slack = build_slack_client(settings)
    async with MarketplaceClient(str(settings.marketplace_url), settings.marketplace_token) as marketplace:
        doctor = Doctor(
            settings,
            config,
            slack=slack,
            marketplace=marketplace,
            clock=clock or SystemClock(),
            webhook_url=webhook_url,
            timeout=timeout,
        )
        return await doctor.run()


def _marketplace_failure(exc: MarketplaceError) -> Finding:
    if isinstance(exc, UnauthorizedError):
        return failed("the Marketplace refused MARKETPLACE_TOKEN (401)", _MARKETPLACE_REAUTH)
    if isinstance(exc, NotFoundError):
        return failed(
            f"the Marketplace answered 404 ({exc.message})",
            "check MARKETPLACE_URL is your tenant's API base, ending in /marketplace",
        )
    if isinstance(exc, ForbiddenError):
        return failed(
            f"the token's account may not do this ({exc.message})",
            "use the token of an account with GOVERNANCE or APPLICATION_ADMIN",
        )
    if isinstance(exc, APIConnectionError):
        return failed(f"cannot reach the Marketplace ({exc})", "check MARKETPLACE_URL and the network")
    return failed(f"the Marketplace failed ({exc})", "see the Marketplace's status, then try again")


def _delivered(delivery: wire.WebhookDelivery) -> bool:
    return 200 <= delivery.http_status_code < 300


def _delivery_fix(delivery: wire.WebhookDelivery) -> str:
    code = delivery.http_status_code
    if code == 0:
        return "the Marketplace cannot reach the app: check the URL is public and the app is running"
    if code in (401, 403):
        return "the app refused the signature: run register-webhook again to set the signing key"
    if code == 404:
        return "nothing answers at that path: check MARKETPLACE_WEBHOOK_PATH and the URL"
    return "see the app's logs around that time"


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None


def _span(delta: timedelta) -> str:
    seconds = round(delta.total_seconds())
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes}m {seconds}s" if minutes else f"{seconds}s"
