"""The outbound sender: chat.postMessage and chat.update, paced the way Slack limits them.

Slack allows about one message a second per channel, with short bursts, and chat.update is a Tier 3
method (about 50 a minute per workspace). A burst of new requests to one channel would otherwise be
answered with 429s, and slack-sdk's retry handler gives up after a few. So each limit gets a lane: a
queue ordered by `Priority`, a token bucket and one worker that sends one call at a time. Callers
still await their own call's result (the workflow records the card's ts); the waiting is in here.

- One channel's lane never waits for another's.
- A 429 means Slack did nothing: the lane waits out Retry-After and sends the same call again, as
  often as it takes. Any other failure (a timeout, a dropped connection, a 5xx) goes back to the caller
  unrepeated, since the message may have been posted.
- The bucket counts a call as spent when its answer arrives, which is never before Slack counted it,
  so the lane stays inside Slack's bucket whatever the network's delay.
- Every message carries what the messenger gives it (its `metadata` tag included); the messenger
  decides what an unanswered post means (`messenger.py`: look before you post again).
- When more new cards wait in one channel than `backlog`, one summary message there says how many,
  is kept up to date (at low priority, at most every `summary_every` seconds) and finally says all are
  posted. Every card is still posted.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Final, TypeVar

import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from marketplace_slack.slack import messages
from marketplace_slack.slack.cards import Card
from marketplace_slack.workflow import sentences

log = structlog.get_logger(__name__)

T = TypeVar("T")


class Priority(IntEnum):
    """What goes first when a lane has a queue: lower values first, first come first within one."""

    DECISION = 0  # a decision's card update and thread reply, the answer to someone who acted
    CARD = 1  # a new request card
    NOTICE = 2  # reminders, escalations, digests, expiry notices, the backlog summary's updates


@dataclass(frozen=True, slots=True)
class Rate:
    per_second: float
    burst: int


# Slack's published limits: chat.postMessage "1 per second per channel, short bursts allowed";
# chat.update Tier 3, "50+ per minute" per workspace. Bursts below what Slack allows cost nothing.
POSTS: Final = Rate(per_second=1.0, burst=5)
UPDATES: Final = Rate(per_second=50 / 60, burst=20)
# users.lookupByEmail, Tier 3 too: a burst of cards from people never looked up costs one each, and
# slack-sdk's own retries give up after three 429s (the card then names nobody in Slack). Most of a
# minute's worth goes at once (Slack: "50+ per minute", bursts allowed), kept short of all of it so
# the burst itself never meets a 429.
LOOKUPS: Final = Rate(per_second=50 / 60, burst=40)


def scaled(rate: Rate, scale: float) -> Rate:
    """`rate` run `scale` times faster, its burst unchanged (a stand-in Slack scaled alike)."""
    return Rate(rate.per_second * scale, rate.burst)


DEFAULT_BACKLOG: Final = 50
SUMMARY_EVERY: Final = 10.0  # seconds between the backlog summary's updates
_RETRY_AFTER_DEFAULT: Final = 1.0  # slack-sdk's own default when a 429 carries no Retry-After
_MARGIN: Final = 0.001  # seconds
_LANES_KEPT: Final = 1024  # idle lanes (one per DM'd person, too) are forgotten past this


@dataclass(slots=True)
class TokenBucket:
    rate: float  # tokens per second
    capacity: float
    tokens: float
    stamp: float

    @classmethod
    def full(cls, rate: Rate, now: float) -> TokenBucket:
        return cls(rate.per_second, float(rate.burst), float(rate.burst), now)

    def _fill(self, now: float) -> None:
        if now > self.stamp:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now

    def wait(self, now: float) -> float:
        """0 when a call may go now, else the seconds until one may."""
        self._fill(now)
        if self.tokens >= 1:
            return 0.0
        # A millisecond more than the arithmetic says: the wake-up then finds a whole token, where
        # float rounding could leave it a hair short (and Slack's own count with it).
        return (1 - self.tokens) / self.rate + _MARGIN

    def spend(self, now: float) -> None:
        self._fill(now)
        self.tokens -= 1  # may go below zero after a call Slack let through on its own terms

    def empty(self, now: float) -> None:
        """Slack said the bucket is empty (a 429)."""
        self._fill(now)
        self.tokens = min(self.tokens, 0.0)

    def is_full(self, now: float) -> bool:
        self._fill(now)
        return self.tokens >= self.capacity


@dataclass(order=True)
class _Job:
    priority: int
    seq: int
    call: Callable[[], Awaitable[Any]] = field(compare=False)
    future: asyncio.Future[Any] = field(compare=False)
    card: bool = field(default=False, compare=False)


@dataclass(slots=True)
class _Summary:
    """The one backlog message of a channel."""

    channel: str
    ts: str | None = None
    failed: bool = False  # it could not be posted; the cards go out all the same
    refreshed_at: float = 0.0
    refresh_queued: bool = False


@dataclass
class _Lane:
    method: str
    channel: str | None
    bucket: TokenBucket
    heap: list[_Job] = field(default_factory=list)
    cards_waiting: int = 0
    worker: Any = None
    summary: _Summary | None = None


class Pacer:
    """Sends chat.postMessage and chat.update through per-limit lanes; see the module's docstring."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        backlog: int | None = DEFAULT_BACKLOG,
        posts: Rate = POSTS,
        updates: Rate = UPDATES,
        summary_every: float = SUMMARY_EVERY,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        spawn: Callable[..., Any] | None = None,
    ) -> None:
        self._client = client
        self._backlog = backlog
        self._posts, self._updates = posts, updates
        self._summary_every = summary_every
        self._monotonic, self._sleep = monotonic, sleep
        # `BackgroundTasks.spawn` in the app, so draining the app's work drains the lanes too.
        self._spawn = spawn or self._spawn_own
        self._own: set[asyncio.Task[Any]] = set()
        self._lanes: dict[tuple[str, str | None], _Lane] = {}
        self._seq = itertools.count()
        self._idle = asyncio.Event()
        self._idle.set()

    # --- what the messenger calls --------------------------------------------------------------

    async def post_message(self, priority: Priority, **kwargs: Any) -> AsyncSlackResponse:
        """chat.postMessage, when the channel's lane gets to it."""
        channel = str(kwargs["channel"])
        lane = self._lane("chat.postMessage", channel, self._posts)
        response: AsyncSlackResponse = await self._submit(
            lane, priority, lambda: self._client.chat_postMessage(**kwargs), card=priority is Priority.CARD
        )
        return response

    async def update_message(self, priority: Priority, **kwargs: Any) -> AsyncSlackResponse:
        """chat.update, when the workspace's update lane gets to it."""
        lane = self._lane("chat.update", None, self._updates)
        response: AsyncSlackResponse = await self._submit(
            lane, priority, lambda: self._client.chat_update(**kwargs)
        )
        return response

    async def call(
        self, method: str, rate: Rate, send: Callable[[], Awaitable[T]], priority: Priority = Priority.CARD
    ) -> T:
        """Any other Web API call limited per workspace (`method`'s tier), through a lane of its own:
        paced to `rate`, each 429 waited out and the call sent again, first come first served."""
        lane = self._lane(method, None, rate)
        result: T = await self._submit(lane, priority, send)
        return result

    def waiting(self, channel: str) -> int:
        """New cards queued for `channel` and not sent yet."""
        lane = self._lanes.get(("chat.postMessage", channel))
        return lane.cards_waiting if lane is not None else 0

    async def drain(self) -> None:
        """Wait until every lane is empty (what was queued is sent or failed)."""
        await self._idle.wait()

    # --- lanes -----------------------------------------------------------------------------------

    def _lane(self, method: str, channel: str | None, rate: Rate) -> _Lane:
        key = (method, channel)
        lane = self._lanes.get(key)
        if lane is None:
            now = self._monotonic()
            if len(self._lanes) >= _LANES_KEPT:
                self._forget_idle_lanes(now)
            lane = self._lanes[key] = _Lane(method, channel, TokenBucket.full(rate, now))
        return lane

    def _forget_idle_lanes(self, now: float) -> None:
        for key, lane in list(self._lanes.items()):
            # A full bucket is what a new lane starts with, so nothing is forgotten that matters.
            if lane.worker is None and not lane.heap and lane.summary is None and lane.bucket.is_full(now):
                del self._lanes[key]

    def _submit(
        self, lane: _Lane, priority: Priority, call: Callable[[], Awaitable[Any]], *, card: bool = False
    ) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        heapq.heappush(lane.heap, _Job(int(priority), next(self._seq), call, future, card))
        if card:
            lane.cards_waiting += 1
            self._maybe_summarise(lane)
        if lane.worker is None:
            self._idle.clear()
            lane.worker = self._spawn(self._work(lane), name=f"pacing:{lane.method}:{lane.channel or '*'}")
        return future

    async def _work(self, lane: _Lane) -> None:
        try:
            while lane.heap:
                if lane.heap[0].future.done():  # its caller stopped waiting: nothing to send
                    self._take(lane)
                    continue
                wait = lane.bucket.wait(self._monotonic())
                if wait > 0:
                    await self._sleep(wait)
                    continue  # something more urgent may have come meanwhile
                job = self._take(lane)
                await self._attempt(lane, job)
                if job.card:
                    self._card_sent(lane)
        except BaseException:
            # Shutting down: nobody is left waiting forever for a call that will never be made.
            for job in lane.heap:
                job.future.cancel()
            lane.heap.clear()
            lane.cards_waiting = 0
            raise
        finally:
            lane.worker = None
            if all(other.worker is None for other in self._lanes.values()):
                self._idle.set()

    def _take(self, lane: _Lane) -> _Job:
        job = heapq.heappop(lane.heap)
        if job.card:
            lane.cards_waiting -= 1
            if job.future.done():
                self._card_sent(lane)
        return job

    async def _attempt(self, lane: _Lane, job: _Job) -> None:
        tries = 0
        while True:
            tries += 1
            try:
                result = await job.call()
            except SlackApiError as exc:
                now = self._monotonic()
                lane.bucket.spend(now)
                if exc.response.status_code != 429:
                    _settle(job.future, exc)
                    return
                # Slack did nothing with a call it answered 429: the same call again, however often.
                delay = _retry_after(exc)
                lane.bucket.empty(now)
                log.info(
                    "slack_rate_limited",
                    method=lane.method,
                    channel=lane.channel,
                    retry_after=delay,
                    tries=tries,
                )
                await self._sleep(delay)
                if job.future.done():  # its caller stopped waiting meanwhile
                    return
            except asyncio.CancelledError:
                job.future.cancel()
                raise
            except Exception as exc:  # noqa: BLE001 - handed to the caller, who decides
                # A timeout or a dropped connection: the message may be posted, so it is not sent again.
                lane.bucket.spend(self._monotonic())
                _settle(job.future, exc)
                return
            else:
                lane.bucket.spend(self._monotonic())
                if not job.future.done():
                    job.future.set_result(result)
                return

    # --- the backlog summary ---------------------------------------------------------------------

    def _maybe_summarise(self, lane: _Lane) -> None:
        if self._backlog is None or lane.summary is not None or lane.channel is None:
            return
        if lane.cards_waiting <= self._backlog:
            return
        summary = lane.summary = _Summary(lane.channel)
        # Ahead of the queued cards, or it would only arrive after them.
        future = self._submit(lane, Priority.DECISION, lambda: self._post_summary(lane, summary))
        future.add_done_callback(_quiet)

    async def _post_summary(self, lane: _Lane, summary: _Summary) -> AsyncSlackResponse:
        message = backlog_message(lane.cards_waiting)
        try:
            response = await self._client.chat_postMessage(
                channel=summary.channel,
                text=message.text,
                blocks=message.blocks,
                unfurl_links=False,
                metadata=SUMMARY_TAG,
            )
        except SlackApiError as exc:
            if exc.response.status_code != 429:  # without the summary the cards still go out
                summary.failed = True
                log.warning(
                    "backlog_summary_failed", channel=summary.channel, error=exc.response.get("error")
                )
            raise
        except Exception as exc:  # a lost answer: it may be in the channel, but it is never repeated
            summary.failed = True
            log.warning("backlog_summary_failed", channel=summary.channel, error=type(exc).__name__)
            raise
        summary.channel, summary.ts = str(response["channel"]), str(response["ts"])
        summary.refreshed_at = self._monotonic()
        return response

    def _card_sent(self, lane: _Lane) -> None:
        summary = lane.summary
        if summary is not None and summary.failed and lane.cards_waiting == 0:
            lane.summary = None  # the next backlog may try again
        if summary is None or summary.ts is None or summary.refresh_queued:
            return
        if lane.cards_waiting > 0 and self._monotonic() - summary.refreshed_at < self._summary_every:
            return
        summary.refresh_queued = True
        summary.refreshed_at = self._monotonic()
        updates = self._lane("chat.update", None, self._updates)
        future = self._submit(updates, Priority.NOTICE, lambda: self._refresh_summary(lane, summary))
        future.add_done_callback(_quiet)

    async def _refresh_summary(self, lane: _Lane, summary: _Summary) -> AsyncSlackResponse:
        # Counted when sent, not when queued: it says what is true by then.
        summary.refresh_queued = False
        waiting = lane.cards_waiting
        message = backlog_message(waiting)
        assert summary.ts is not None
        try:
            response = await self._client.chat_update(
                channel=summary.channel, ts=summary.ts, text=message.text, blocks=message.blocks
            )
        except SlackApiError as exc:
            if exc.response.status_code != 429:
                log.warning(
                    "backlog_summary_failed", channel=summary.channel, error=exc.response.get("error")
                )
                if lane.summary is summary and waiting == 0:
                    lane.summary = None
            raise
        if waiting == 0 and lane.summary is summary:
            lane.summary = None  # it says all are posted; a later backlog gets a summary of its own
        return response

    def _spawn_own(self, coro: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._own.add(task)
        task.add_done_callback(self._own.discard)
        return task


# Tagged like every message the app posts (see messenger.py); never looked for: a lost summary's
# answer leaves the summary unposted (`failed`), and the cards go out all the same.
SUMMARY_TAG: Final = {"event_type": "marketplace_slack_notice", "event_payload": {"key": "backlog"}}

# Web API methods that create a lasting message: a retry after a dropped connection or a 5xx may
# post it twice, so slack-sdk's handlers must not repeat them (the messenger looks first instead).
# chat.postEphemeral is left repeatable on purpose: an ephemeral answer is seen once by one
# person and gone on reload, so a rare double is harmless where a lost answer leaves them guessing.
CREATING_METHODS: Final = frozenset({"chat.postMessage", "chat.scheduleMessage", "chat.meMessage"})


class _RepeatableOnly(AsyncRetryHandler):
    def __init__(self, inner: AsyncRetryHandler) -> None:
        super().__init__(max_retry_count=inner.max_retry_count, interval_calculator=inner.interval_calculator)
        self._inner = inner

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if request.url.rstrip("/").rsplit("/", 1)[-1] in CREATING_METHODS:
            return False
        return await self._inner._can_retry_async(
            state=state, request=request, response=response, error=error
        )


def only_repeatable(handler: AsyncRetryHandler) -> AsyncRetryHandler:
    """`handler` (a connection- or server-error retry handler) except for `CREATING_METHODS`."""
    return _RepeatableOnly(handler)


def backlog_message(waiting: int) -> Card:
    """The summary: how many new cards still wait in the channel, or that all are posted."""
    return messages.ephemeral(sentences.cards_queued(waiting).text)


def _retry_after(exc: SlackApiError) -> float:
    headers = exc.response.headers or {}
    value = headers.get("Retry-After", headers.get("retry-after"))
    try:
        return max(float(value), 0.0) if value is not None else _RETRY_AFTER_DEFAULT
    except (TypeError, ValueError):
        return _RETRY_AFTER_DEFAULT


def _settle(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


def _quiet(future: asyncio.Future[Any]) -> None:
    # The pacer's own messages (the summary): a failure is logged where it happens, not re-raised.
    if not future.cancelled():
        future.exception()
