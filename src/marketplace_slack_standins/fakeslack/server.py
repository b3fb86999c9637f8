"""A Slack Web API stand-in on 127.0.0.1 that slack-sdk's clients talk to as if it were slack.com.

Every call is recorded; tests await calls with `wait_for` instead of sleeping, make Slack fail on
purpose with `fail_next`, and assert `violations` is empty to prove every block set fits Slack's limits.

It refuses what Slack refuses, always: posts where the bot is not a member (see `invite`, `archive`,
`install`), DMs while the messages tab is off, stale or reused trigger ids, malformed message metadata,
history reads without the `*:history` scope or outside the bot's channels, unfurls of links no
link_shared event named, options answers breaking Slack's rules (`violations`), and calls over Slack's
rate limits (429 with Retry-After); `monotonic` stands in for the real time those last counts need,
and `rate_scale` runs them faster for a benchmark (`ratelimits.py`).
`post_as` puts other people's and other apps' messages in a channel, so history holds more than ours.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import json
import secrets
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl

from aiohttp import web

from marketplace_slack.infra.clock import Clock, SystemClock
from marketplace_slack_standins.fakeslack import blockkit
from marketplace_slack_standins.fakeslack.api import (
    RESPONSE_URL,
    Identity,
    Message,
    ResponseTarget,
    Workspace,
)
from marketplace_slack_standins.fakeslack.errors import ApiError, Violation
from marketplace_slack_standins.fakeslack.install import Install
from marketplace_slack_standins.fakeslack.interactions import link_domain, link_shared
from marketplace_slack_standins.fakeslack.offered import OfferedOptions, check_required, check_visible
from marketplace_slack_standins.fakeslack.payloads import app_home_opened, new_trigger_id, user_change
from marketplace_slack_standins.fakeslack.ratelimits import DEFAULT_CHANNEL_BURST, RateLimiter
from marketplace_slack_standins.fakeslack.render import describe_call
from marketplace_slack_standins.fakeslack.socket_mode import SocketMode
from marketplace_slack_standins.fakeslack.workspace import (
    DEFAULT_APP_ID,
    DEFAULT_BOT_ID,
    DEFAULT_BOT_TOKEN,
    DEFAULT_BOT_USER_ID,
    DEFAULT_CHANNELS,
    DEFAULT_TEAM_DOMAIN,
    DEFAULT_TEAM_ID,
    DEFAULT_TEAM_NAME,
    DEFAULT_USERS,
    SlackChannel,
    SlackUser,
)

Json = dict[str, Any]

DEFAULT_USERGROUPS: Mapping[str, Sequence[str]] = {"S0STEWARDS": ("U0SARA", "U0GINA")}


@dataclass(frozen=True, slots=True)
class RecordedCall:
    method: str
    args: Json  # query, form and JSON body merged; blocks/view decoded; token removed
    headers: dict[str, str]  # the Authorization value is redacted
    at: datetime  # the fake's clock when the call arrived
    monotonic: float  # time.perf_counter() on arrival, for measuring gaps between calls
    http_method: str = "POST"
    status: int = 200
    response: Json = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response.get("ok"))

    @property
    def error(self) -> str | None:
        return None if self.ok else str(self.response.get("error", f"http_{self.status}"))


@dataclass(slots=True)
class _Failure:
    error: str
    status: int
    retry_after: int
    times: int


class FakeSlack:
    """Async context manager: `async with FakeSlack() as slack: AsyncWebClient(base_url=slack.base_url)`."""

    def __init__(
        self,
        *,
        users: Iterable[SlackUser] = DEFAULT_USERS,
        channels: Iterable[SlackChannel] = DEFAULT_CHANNELS,
        usergroups: Mapping[str, Sequence[str]] = DEFAULT_USERGROUPS,
        bot_token: str = DEFAULT_BOT_TOKEN,
        team_id: str = DEFAULT_TEAM_ID,
        team_name: str = DEFAULT_TEAM_NAME,
        team_domain: str = DEFAULT_TEAM_DOMAIN,
        app_id: str = DEFAULT_APP_ID,
        bot_id: str = DEFAULT_BOT_ID,
        bot_user_id: str = DEFAULT_BOT_USER_ID,
        install: Install | None = None,
        clock: Clock | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        trigger_ttl: float = 3.0,
        channel_burst: int = DEFAULT_CHANNEL_BURST,
        rate_scale: float = 1.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.bot_token = bot_token
        self.clock: Clock = clock or SystemClock()
        self.install = install or Install()
        self.workspace = Workspace(
            identity=Identity(team_id, team_name, team_domain, app_id, bot_id, bot_user_id),
            users=users,
            channels=channels,
            usergroups=usergroups,
            install=self.install,
            clock=self.clock,
            monotonic=monotonic,
            trigger_ttl=trigger_ttl,
        )
        self.socket_mode = SocketMode(app_id=app_id)
        self._limits = RateLimiter(monotonic=monotonic, channel_burst=channel_burst, scale=rate_scale)
        self.calls: list[RecordedCall] = []
        self._host, self._port = host, port
        self._runner: web.AppRunner | None = None
        self._origin = ""
        self._changed = asyncio.Condition()
        self._failures: dict[str, deque[_Failure]] = {}
        self._latency: dict[str | None, float] = {}
        self._response_urls: dict[str, ResponseTarget] = {}
        self._listeners: list[Callable[[RecordedCall], None]] = []
        self._offered = OfferedOptions()

    # --- lifecycle ---------------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/hooks/{key}", self._handle_response_url)
        self.socket_mode.attach(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self._origin = f"http://{host}:{port}"
        self.socket_mode.serve_at(self._origin)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.socket_mode.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        if not self._origin:
            raise RuntimeError("FakeSlack is not running; use `async with FakeSlack() as slack`")
        return f"{self._origin}/api/"

    @property
    def team_id(self) -> str:
        return self.workspace.identity.team_id

    @property
    def users(self) -> list[SlackUser]:
        return list(self.workspace.users.values())

    @property
    def violations(self) -> list[Violation]:
        return self.workspace.violations

    # --- what tests read ---------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[RecordedCall]:
        return [c for c in self.calls if c.method == method]

    def messages(self, channel: str) -> list[Message]:
        """Current messages in a channel (after updates and deletes), thread replies included, by ts."""
        return self.workspace.messages(channel)

    def ephemeral_messages(self, channel: str | None = None, user: str | None = None) -> list[Message]:
        return self.workspace.ephemeral_messages(channel, user)

    def message(self, channel: str, ts: str) -> Message:
        found = next((m for m in self.messages(channel) if m.ts == ts), None)
        if found is None:
            raise KeyError(f"no message {ts} in {channel}")
        return found

    def dm_channel(self, user_id: str) -> str:
        return self.workspace.conversations.dm_channel(user_id)

    def views(self, user_id: str | None = None) -> list[Json]:
        """Open modal views (root first) of one user, or every view ever opened when user_id is None."""
        registry = self.workspace.views
        if user_id is None:
            return list(registry.views.values())
        return [registry.views[v] for v in registry.stacks.get(user_id, [])]

    def home_view(self, user_id: str) -> Json | None:
        registry = self.workspace.views
        view_id = registry.home.get(user_id)
        return registry.views[view_id] if view_id else None

    def open_home(self, user_id: str) -> Json | None:
        """`user_id` opens the app's Home tab. Returns the app_home_opened delivery Slack sends, with
        the Home view published for them (if any), or None when Slack sends none: the manifest has no
        Home tab, or the app is not subscribed to app_home_opened. The caller delivers it."""
        if not self.install.home_tab_enabled or not self.install.receives("app_home_opened"):
            return None
        return app_home_opened(
            user_id=user_id,
            team_id=self.team_id,
            channel_id=self.dm_channel(user_id),
            view=copy.deepcopy(self.home_view(user_id)),
        )

    def view_errors(self, view_id: str) -> dict[str, str]:
        """Errors the app last asked Slack to show on a modal (response_action=errors)."""
        return self.workspace.views.errors.get(view_id, {})

    def describe(self, call: RecordedCall) -> str:
        """The call as readable text, with this workspace's people and channels resolved."""
        return describe_call(call, users=self.users, channels=self.workspace.conversations.channels())

    def transcript(self, methods: Iterable[str] | None = None) -> str:
        """Every recorded call (or those to `methods`) as the demo would print them."""
        wanted = set(methods) if methods is not None else None
        return "\n\n".join(self.describe(c) for c in self.calls if wanted is None or c.method in wanted)

    def subscribe(self, listener: Callable[[RecordedCall], None]) -> None:
        """Call `listener` with every call as it is recorded (the demo prints them)."""
        self._listeners.append(listener)

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        predicate: Callable[[RecordedCall], bool] | None = None,
        timeout: float = 5,  # noqa: ASYNC109 - tests read better with the deadline next to the wait
    ) -> list[RecordedCall]:
        """Wait until `count` calls to `method` (failed ones too, unless `predicate` says otherwise)."""

        def matching() -> list[RecordedCall]:
            return [c for c in self.calls_to(method) if predicate is None or predicate(c)]

        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(lambda: len(matching()) >= count)
        except TimeoutError:
            seen = [c.method for c in self.calls]
            got = len(matching())
            raise TimeoutError(
                f"waited {timeout}s for {count} matching {method} call(s), got {got}; calls: {seen}"
            ) from None
        return matching()

    # --- what tests control ------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        error: str = "ratelimited",
        status: int | None = None,
        retry_after: int = 1,
        times: int = 1,
    ) -> None:
        """Answer the next `times` calls to `method` ("*" = any) with a failure.

        `ratelimited` is HTTP 429 with Retry-After, like Slack; other errors are HTTP 200 with
        ok=false unless `status` says otherwise (e.g. 500 or 503 for an outage).
        """
        if status is None:
            status = 429 if error == "ratelimited" else 200
        self._failures.setdefault(method, deque()).append(_Failure(error, status, retry_after, times))

    def invite(self, channel: str, *user_ids: str) -> None:
        """Add people to a channel; with no one named, invite the bot, as `/invite @Marketplace` does."""
        self.workspace.conversations.invite(channel, user_ids or (self.workspace.identity.bot_user_id,))

    def remove(self, channel: str, user_id: str | None = None) -> None:
        """Take someone (the bot when no one is named) out of a channel."""
        self.workspace.conversations.remove(channel, user_id or self.workspace.identity.bot_user_id)

    def archive(self, channel: str, *, archived: bool = True) -> None:
        self.workspace.conversations.archive(channel, archived=archived)

    def add_channel(self, channel: SlackChannel) -> None:
        self.workspace.conversations.add(channel)

    def change_user(self, user_id: str, **changes: Any) -> Json | None:
        """Change a member as an admin (or they) would: `email=`, `deleted=True`, `is_restricted=True`...

        Returns the signed-to-be `user_change` delivery Slack sends the app, or None when the app does
        not receive it (not subscribed in its manifest, or without `users:read`); the caller delivers
        it (`SlackUserAgent.send_event`), as Slack would at about the same moment."""
        user = dataclasses.replace(self.workspace.users[user_id], **changes)
        self.workspace.users[user_id] = user  # the same dict the conversations see
        if not self.install.receives("user_change"):
            return None
        now = self.clock.now()
        return user_change(
            user.as_slack(team_id=self.team_id, at=now), team_id=self.team_id, event_time=int(now.timestamp())
        )

    def set_email(self, user_id: str, email: str) -> Json | None:
        return self.change_user(user_id, email=email)

    def deactivate(self, user_id: str) -> Json | None:
        return self.change_user(user_id, deleted=True)

    def make_guest(self, user_id: str, *, single_channel: bool = False) -> Json | None:
        """A multi-channel guest, or a single-channel one (Slack flags those as restricted too)."""
        return self.change_user(user_id, is_restricted=True, is_ultra_restricted=single_channel)

    def post_as(
        self,
        user: str,
        channel: str,
        text: str,
        *,
        thread_ts: str | None = None,
        metadata: Json | None = None,
        app: tuple[str, str] | None = None,
    ) -> str:
        """A message by a person (or, with `app=(bot_id, app_id)`, another app) in `channel`; its ts."""
        return self.workspace.post_as(user, channel, text, thread_ts=thread_ts, metadata=metadata, app=app)

    def delete_message(self, channel: str, ts: str) -> None:
        """Remove a message behind the app's back, as an admin or a retention policy does."""
        self.workspace.delete_message(channel, ts)

    def set_latency(self, seconds: float, method: str | None = None) -> None:
        """Delay every answer (or only `method`'s) by real time, to exercise the app's 3 s budgets."""
        self._latency[method] = seconds

    def issue_trigger_id(self, user_id: str) -> str:
        """A trigger id views.open accepts for `user_id`, as if the user had just clicked something."""
        trigger_id = new_trigger_id()
        self.workspace.views.remember_trigger(trigger_id, user_id)
        return trigger_id

    def response_url(self, *, channel: str, user_id: str, message_ts: str | None = None) -> str:
        """A response_url served by this fake, bound to a channel (and the message it came from)."""
        key = secrets.token_urlsafe(16)
        self._response_urls[key] = ResponseTarget(channel, user_id, message_ts)
        return f"{self._origin}/hooks/{key}"

    def adopt(self, payload: Json, *, forged: bool = False) -> Json:
        """Make an interaction payload deliverable offline: remember its trigger id and point its
        response_url at this fake. The user agent does this for every payload it sends.

        Refuses (ValueError) what Slack could not send: an action or options load from a view the
        user does not see, an external select's option no options load offered, or a modal submitted
        with a required input left empty (unless `forged`: a test sending what no client would)."""
        adopted = copy.deepcopy(payload)
        check_visible(adopted, self.workspace.views)
        check_required(adopted, forged=forged)
        self._offered.check(adopted, self.workspace.views)
        user_id = adopted.get("user", {}).get("id") or adopted.get("user_id")
        if user_id and adopted.get("trigger_id"):
            self.workspace.views.remember_trigger(adopted["trigger_id"], user_id)
        channel = adopted.get("channel_id") or (adopted.get("channel") or {}).get("id")
        if user_id and channel and "response_url" in adopted:
            message_ts = (adopted.get("container") or {}).get("message_ts")
            adopted["response_url"] = self.response_url(
                channel=channel, user_id=user_id, message_ts=message_ts
            )
        return adopted

    def note_delivery(self, payload: Json, status: int, body: str) -> None:
        """Apply the app's answer to an interaction the way Slack would: close, errors or update a
        modal; check an options load's answer."""
        kind = payload.get("type")
        if kind == "view_submission":
            self.workspace.views.apply_submission_ack(payload, status, body)
        elif kind == "view_closed":
            self.workspace.views.close(
                payload["user"]["id"], payload["view"]["id"], clear=bool(payload.get("is_cleared"))
            )
        elif kind == "block_suggestion":
            self.note_options_answer(payload, status, body)

    def note_options_answer(self, payload: Json, status: int, body: str) -> list[Json]:
        """Read the app's answer to a block_suggestion as Slack does; the options the user is offered.

        Anything Slack would refuse (not HTTP 200, not JSON, breaking check_options_response's rules)
        is recorded in `violations` and offers nothing: the user sees an error in the menu."""
        where = f"block_suggestion:{payload.get('action_id')}"
        answer: Any = None
        if status != 200:
            problems = [f"HTTP {status}: Slack shows the user an error instead of options"]
        else:
            try:
                answer = json.loads(body)
            except json.JSONDecodeError:
                problems = ['body: not JSON; Slack needs {"options": [...]} or {"option_groups": [...]}']
            else:
                problems = blockkit.check_options_response(answer)
        if problems:
            self.violations.append(Violation(where, "options", tuple(problems)))
            return []
        if "options" in answer:
            offered = copy.deepcopy(list(answer["options"]))
        else:
            offered = [copy.deepcopy(o) for group in answer["option_groups"] for o in group["options"]]
        if isinstance(payload.get("view"), dict):
            self._offered.note(payload, offered)
        return offered

    def note_event(self, body: Json) -> None:
        """Remember an Events API delivery Slack sends the app (a link_shared event lets the app
        unfurl its links). The user agent does this for every event it sends."""
        if body.get("type") == "event_callback" and isinstance(body.get("event"), dict):
            self.workspace.unfurls.note_event(body["event"])

    def unfurls(self, channel: str, ts: str) -> dict[str, Json]:
        """The previews the app attached (chat.unfurl) to the message `ts` in `channel`, by URL."""
        return self.workspace.unfurls.previews(channel, ts)

    def share_links(
        self, user: str, channel: str, urls: Sequence[str], *, thread_ts: str | None = None
    ) -> Json | None:
        """`user` posts a message with `urls` in `channel`. Returns the link_shared delivery Slack sends
        the app, or None when it sends none: the app is not subscribed to link_shared, lacks
        links:read, or no URL is in its unfurl domains (the event lists only those)."""
        ts = self.post_as(user, channel, " ".join(f"<{url}>" for url in urls), thread_ts=thread_ts)
        domains = sorted(self.install.unfurl_domains)
        ours = [url for url in urls if _in_domains(url, domains)]
        if not ours or not self.install.receives("link_shared"):
            return None
        room = self.workspace.conversations.rooms.get(channel)
        body = link_shared(
            team_id=self.team_id,
            user_id=user,
            channel=channel,
            message_ts=ts,
            links=ours,
            thread_ts=thread_ts,
            is_bot_user_member=room is not None and self.workspace.identity.bot_user_id in room.members,
            domains=domains,
        )
        self.note_event(body)
        return body

    # --- HTTP --------------------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        arrived, started = self.clock.now(), time.perf_counter()
        method = request.match_info["method"]
        status, headers = 200, {"X-OAuth-Scopes": self.install.header()}
        try:
            args, token = await _read_args(request)
        except ApiError as refusal:
            args, token, body = {}, None, refusal.body()
        else:
            failure = self._take_failure(method)
            if failure is not None:
                status, body = failure.status, {"ok": False, "error": failure.error}
                if status == 429:
                    headers["Retry-After"] = str(failure.retry_after)
            else:
                status, body, retry_after = self._dispatch(method, args, token)
                if retry_after is not None:
                    headers["Retry-After"] = str(retry_after)
        await self._delay(method)
        # A snapshot: the answer may share dicts with live state that later calls replace.
        call = RecordedCall(
            method,
            args,
            _redact(request.headers),
            arrived,
            started,
            request.method,
            status,
            copy.deepcopy(body),
        )
        await self._record(call)
        return web.json_response(body, status=status, headers=headers)

    def _dispatch(self, method: str, args: Json, token: str | None) -> tuple[int, Json, int | None]:
        """HTTP status, body and Retry-After of a call that no `fail_next` answered."""
        if method == "apps.connections.open":  # the one method that takes the app-level token
            return 200, self.socket_mode.open_link(token), None
        handler = self.workspace.methods.get(method)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method", "req_method": method}, None
        if not token:
            return 200, {"ok": False, "error": "not_authed"}, None
        if token != self.bot_token:
            return 200, {"ok": False, "error": "invalid_auth"}, None
        channel = self.workspace.conversations.key(_arg(args, "channel"))
        retry_after = self._limits.retry_after(method, channel)
        if retry_after is not None:
            return 429, {"ok": False, "error": "ratelimited"}, retry_after
        try:
            self.install.require(method)
            return 200, handler(args), None
        except ApiError as refusal:
            return 200, refusal.body(), None

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        arrived, started = self.clock.now(), time.perf_counter()
        target = self._response_urls.get(request.match_info["key"])
        status = 200
        args: Json = {}
        try:
            args, _ = await _read_args(request)
            if target is None:
                raise ApiError("expired_url")
            body = self.workspace.respond(target, args)
        except ApiError as refusal:
            status = 404 if refusal.error in ("expired_url", "used_url") else 400
            body = refusal.body()
        await self._delay(RESPONSE_URL)
        await self._record(
            RecordedCall(RESPONSE_URL, args, _redact(request.headers), arrived, started, "POST", status, body)
        )
        return web.json_response(body, status=status)

    def _take_failure(self, method: str) -> _Failure | None:
        for key in (method, "*"):
            queue = self._failures.get(key)
            if queue:
                failure = queue[0]
                failure.times -= 1
                if failure.times <= 0:
                    queue.popleft()
                return failure
        return None

    async def _delay(self, method: str) -> None:
        seconds = self._latency.get(method, self._latency.get(None, 0.0))
        if seconds > 0:
            await asyncio.sleep(seconds)

    async def _record(self, call: RecordedCall) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()
        for listener in self._listeners:
            listener(call)


async def _read_args(request: web.Request) -> tuple[Json, str | None]:
    """Arguments as Slack reads them: query string, then a form or JSON body; plus the token."""
    args: Json = dict(request.query)
    raw = await request.read()
    if raw:
        if request.content_type == "application/json":
            try:
                loaded = json.loads(raw)
            except json.JSONDecodeError:
                raise ApiError("invalid_json") from None
            if not isinstance(loaded, dict):
                raise ApiError("invalid_json")
            args.update(loaded)
        else:
            args.update(parse_qsl(raw.decode(), keep_blank_values=True))
    for key in ("blocks", "view", "attachments", "metadata"):
        if isinstance(args.get(key), str) and args[key][:1] in ("[", "{"):
            # Undecodable text stays as it is; the method answers with its format error.
            with contextlib.suppress(json.JSONDecodeError):
                args[key] = json.loads(args[key])
    token = args.pop("token", None)
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        token = auth.removeprefix("Bearer ")
    return args, token


def _in_domains(url: str, domains: Sequence[str]) -> bool:
    try:
        link_domain(url, domains)
    except ValueError:
        return False
    return True


def _arg(args: Mapping[str, Any], key: str) -> str | None:
    value = args.get(key)
    return None if value is None or value == "" else str(value)


def _redact(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: ("<redacted>" if k.lower() == "authorization" else v) for k, v in headers.items()}
