"""Slack's Socket Mode on loopback: `apps.connections.open`, the WebSocket link, envelopes and acks.

As on slack.com: an app-level token (`xapp-`) opens a single-use link URL; the link says `hello`, then
carries envelopes that the app must ack on the socket within `ack_timeout` (Slack: 3 s). An Events API
envelope not acked in time is sent again with `retry_attempt` counting up, up to `max_retries` times;
an interaction or a command not acked in time is not sent again (the person sees an error instead), so
it is only marked `timed_out` -- unless `redeliver` names its kind, to see what a second copy would do.
`disconnect` frames ask the app to open a new link, as Slack does every few hours ("refresh_requested");
Slack closes the old link a little later whatever the app does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self

from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from marketplace_slack_standins.fakeslack.agent import Delivery
    from marketplace_slack_standins.fakeslack.server import FakeSlack

Json = dict[str, Any]
Kind = Literal["events_api", "interactive", "slash_commands"]
DisconnectReason = Literal["refresh_requested", "warning", "link_disabled", "too_many_websockets"]

DEFAULT_APP_TOKEN = "xapp-1-A0MARKET-0000000000-fake-marketplace-slack"  # noqa: S105 - a placeholder
LINK_PATH = "/link/"
LINK_HOST = "applink-fake-127-0-0-1"
# Interaction types whose ack may carry an answer (response_action, options); Slack says so per envelope.
_ANSWERABLE = frozenset({"view_submission", "block_suggestion"})


@dataclass(frozen=True, slots=True)
class Ack:
    """What the app sent back for an envelope, and how long after the latest delivery of it."""

    envelope_id: str
    payload: Json | None
    connection: int
    elapsed: float
    late: bool  # after ack_timeout: Slack had already retried, or shown the person an error


@dataclass(slots=True)
class Envelope:
    envelope_id: str
    kind: Kind
    payload: Json
    accepts_response_payload: bool
    retry_attempt: int = 0
    retry_reason: str = ""
    deliveries: list[int] = field(default_factory=list)  # the connection each attempt went out on
    sent_at: float = 0.0  # time.perf_counter() of the latest attempt
    ack: Ack | None = None
    timed_out: bool = False
    acked: asyncio.Event = field(default_factory=asyncio.Event)

    def frame(self) -> Json:
        framed: Json = {
            "envelope_id": self.envelope_id,
            "payload": self.payload,
            "type": self.kind,
            "accepts_response_payload": self.accepts_response_payload,
        }
        if self.kind == "events_api":  # only Events API envelopes say which attempt they are
            framed["retry_attempt"] = self.retry_attempt
            framed["retry_reason"] = self.retry_reason
        return framed


@dataclass(slots=True)
class Connection:
    id: int
    socket: web.WebSocketResponse
    frames: list[Json] = field(default_factory=list)  # everything sent to the app on this link

    @property
    def open(self) -> bool:
        return not self.socket.closed


class SocketMode:
    """The Socket Mode side of a FakeSlack (`slack.socket_mode`)."""

    def __init__(
        self,
        *,
        app_id: str,
        app_token: str = DEFAULT_APP_TOKEN,
        ack_timeout: float = 3.0,
        max_retries: int = 3,
        close_grace: float = 10.0,
        redeliver: frozenset[Kind] = frozenset({"events_api"}),
    ) -> None:
        self.app_id = app_id
        self.app_token = app_token
        self.ack_timeout = ack_timeout
        self.max_retries = max_retries
        self.close_grace = close_grace
        self.redeliver = redeliver
        self.connections: list[Connection] = []
        self.envelopes: dict[str, Envelope] = {}
        self.acks: list[Ack] = []  # every ack received, a second one for the same envelope too
        self.stray: list[str] = []  # frames from the app that acknowledge nothing Slack sent
        self.refused: list[str] = []  # link URLs refused (unknown or already used ticket)
        self._origin = ""
        self._tickets: set[str] = set()
        self._lose_acks = 0
        self._changed = asyncio.Condition()
        self._tasks: set[asyncio.Task[None]] = set()

    # --- lifecycle (driven by FakeSlack) -----------------------------------------------------------

    def attach(self, app: web.Application) -> None:
        app.router.add_get(LINK_PATH, self._handle_link)

    def serve_at(self, http_origin: str) -> None:
        self._origin = "ws" + http_origin.removeprefix("http")

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for connection in self.connections:
            await connection.socket.close(code=1001, message=b"server shutting down")

    # --- apps.connections.open ---------------------------------------------------------------------

    def open_link(self, token: str | None) -> Json:
        """The answer to `apps.connections.open`: a fresh single-use URL, for the app-level token only."""
        if not token:
            return {"ok": False, "error": "not_authed"}
        if not token.startswith("xapp-"):
            return {"ok": False, "error": "not_allowed_token_type"}
        if token != self.app_token:
            return {"ok": False, "error": "invalid_auth"}
        ticket = str(uuid.uuid4())
        self._tickets.add(ticket)
        return {"ok": True, "url": f"{self._origin}{LINK_PATH}?ticket={ticket}&app_id={self.app_id}"}

    # --- what tests read ---------------------------------------------------------------------------

    @property
    def open_connections(self) -> list[Connection]:
        return [c for c in self.connections if c.open]

    async def wait_connected(self, count: int = 1, timeout: float = 5) -> Connection:  # noqa: ASYNC109
        """Wait until the `count`-th link ever opened is open (it has been sent hello); return it."""
        await self._wait(
            lambda: len(self.connections) >= count and self.connections[count - 1].open,
            timeout,
            f"link #{count} to be open",
        )
        return self.connections[count - 1]

    async def wait_closed(self, connection: Connection, timeout: float = 5) -> None:  # noqa: ASYNC109
        await self._wait(lambda: not connection.open, timeout, f"link #{connection.id} to close")

    async def wait_ack(self, envelope: Envelope, timeout: float = 5) -> Ack:  # noqa: ASYNC109
        await self._wait(lambda: envelope.ack is not None, timeout, f"an ack of {envelope.envelope_id}")
        assert envelope.ack is not None
        return envelope.ack

    async def wait_settled(self, envelope: Envelope, timeout: float = 10) -> None:  # noqa: ASYNC109
        """Wait until Slack is done with the envelope: acked, or given up on."""
        await self._wait(
            lambda: envelope.ack is not None or envelope.timed_out,
            timeout,
            f"{envelope.envelope_id} to be acked or given up on",
        )

    # --- what tests control ------------------------------------------------------------------------

    def lose_next_acks(self, count: int = 1) -> None:
        """Let the next `count` acks go missing on the way, as if Slack never got them."""
        self._lose_acks += count

    async def deliver(
        self,
        kind: Kind,
        payload: Mapping[str, Any],
        *,
        accepts_response_payload: bool | None = None,
        timeout: float = 5,  # noqa: ASYNC109
    ) -> Envelope:
        """Send `payload` to the app in an envelope, on an open link (waiting up to `timeout` for one)."""
        if accepts_response_payload is None:
            accepts_response_payload = kind == "slash_commands" or (
                kind == "interactive" and payload.get("type") in _ANSWERABLE
            )
        envelope = Envelope(str(uuid.uuid4()), kind, dict(payload), accepts_response_payload)
        self.envelopes[envelope.envelope_id] = envelope
        await self._send_envelope(envelope, timeout)
        self._spawn(self._watch(envelope))
        return envelope

    async def disconnect(
        self, reason: DisconnectReason = "refresh_requested", connection: Connection | None = None
    ) -> None:
        """Tell the app (on one link, or all open ones) to go elsewhere; close the link later unless it
        was only a `warning`."""
        for target in [connection] if connection is not None else self.open_connections:
            await self._send(target, self._status("disconnect", reason=reason))
            if reason != "warning":
                self._spawn(self._close_later(target))

    # --- the link ----------------------------------------------------------------------------------

    async def _handle_link(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:
            self.refused.append(str(request.rel_url))
            return web.json_response({"ok": False, "error": "invalid_ticket"}, status=401)
        self._tickets.discard(ticket)
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        connection = Connection(len(self.connections) + 1, socket)
        await self._send(connection, self._status("hello"))
        async with self._changed:
            self.connections.append(connection)
            self._changed.notify_all()
        try:
            async for message in socket:
                if message.type == WSMsgType.TEXT:
                    await self._receive(connection, str(message.data))
        finally:
            async with self._changed:
                self._changed.notify_all()
        return socket

    def _status(self, kind: str, **extra: Any) -> Json:
        return {
            "type": kind,
            **extra,
            "num_connections": len(self.open_connections) + (1 if kind == "hello" else 0),
            "debug_info": {"host": LINK_HOST, "build_number": 1, "approximate_connection_time": 18060},
            "connection_info": {"app_id": self.app_id},
        }

    async def _receive(self, connection: Connection, text: str) -> None:
        try:
            frame = json.loads(text)
        except json.JSONDecodeError:
            frame = None
        envelope = self.envelopes.get(frame.get("envelope_id", "")) if isinstance(frame, dict) else None
        if envelope is None or not isinstance(frame, dict):
            self.stray.append(text)
            return
        if self._lose_acks > 0:
            self._lose_acks -= 1
            return
        elapsed = time.perf_counter() - envelope.sent_at
        answer = frame.get("payload")
        ack = Ack(
            envelope.envelope_id,
            answer if isinstance(answer, dict) else None,
            connection.id,
            elapsed,
            late=envelope.timed_out or elapsed > self.ack_timeout,
        )
        async with self._changed:
            if envelope.ack is None:  # a redelivered envelope may be acked twice; the first one counts
                envelope.ack = ack
                envelope.acked.set()
            self.acks.append(ack)
            self._changed.notify_all()

    async def _send_envelope(self, envelope: Envelope, timeout: float) -> None:  # noqa: ASYNC109
        await self._wait(lambda: bool(self.open_connections), timeout, "an open link to deliver on")
        # Slack spreads envelopes over the app's links; the newest one is as good a pick as any.
        target = self.open_connections[-1]
        envelope.deliveries.append(target.id)
        envelope.sent_at = time.perf_counter()
        await self._send(target, envelope.frame())

    async def _watch(self, envelope: Envelope) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.ack_timeout):
                    await envelope.acked.wait()
                    return
            if envelope.kind not in self.redeliver or envelope.retry_attempt >= self.max_retries:
                async with self._changed:
                    envelope.timed_out = True
                    self._changed.notify_all()
                return
            envelope.retry_attempt += 1
            envelope.retry_reason = "timeout"
            await self._send_envelope(envelope, self.close_grace)

    async def _close_later(self, connection: Connection) -> None:
        with contextlib.suppress(TimeoutError):
            await self.wait_closed(connection, timeout=self.close_grace)
            return
        await connection.socket.close(code=1000, message=b"disconnected")

    async def _send(self, connection: Connection, frame: Json) -> None:
        connection.frames.append(frame)
        await connection.socket.send_str(json.dumps(frame))

    async def _wait(self, condition: Callable[[], bool], timeout: float, what: str) -> None:  # noqa: ASYNC109
        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(condition)
        except TimeoutError:
            raise TimeoutError(f"waited {timeout}s for {what}") from None

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


class SocketModeAgent:
    """Plays Slack's side of a Socket Mode app: the same interactions, commands and events the HTTP
    user agent posts, delivered as envelopes on the app's link; a delivery is the app's ack."""

    def __init__(self, slack: FakeSlack, *, timeout: float = 10.0) -> None:
        self.slack = slack
        self._timeout = timeout

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    async def send_interaction(self, payload: Json, *, past_the_client: bool = False) -> Delivery:
        payload = self.slack.adopt(payload, forged=past_the_client)
        delivery = await self._deliver("interactive", payload)
        self.slack.note_delivery(payload, delivery.status, delivery.body)
        return delivery

    async def send_slash_command(self, fields: dict[str, str]) -> Delivery:
        return await self._deliver("slash_commands", self.slack.adopt(fields))

    async def send_event(self, body: Json) -> Delivery:
        self.slack.note_event(body)
        return await self._deliver("events_api", body)

    async def _deliver(self, kind: Kind, payload: Json) -> Delivery:
        # Imported here: agent.py imports server.py, which builds this module's SocketMode.
        from marketplace_slack_standins.fakeslack.agent import Delivery

        link = self.slack.socket_mode
        envelope = await link.deliver(kind, payload, timeout=self._timeout)
        await link.wait_settled(envelope, timeout=self._timeout)
        if envelope.ack is None or envelope.ack.late:
            # What an HTTP delivery Slack gave up on looks like: the person sees an error.
            return Delivery(0, "", {}, time.perf_counter() - envelope.sent_at)
        answer = envelope.ack.payload
        return Delivery(200, json.dumps(answer) if answer else "", {}, envelope.ack.elapsed)
