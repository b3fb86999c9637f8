"""Work started after an acknowledgement: tracked, logged when it fails, and awaitable.

Slack wants an answer within 3 s and the Marketplace within 10 s, so listeners and the webhook route
acknowledge first and hand the real work to `BackgroundTasks`. Tests and shutdown `drain()` it
instead of sleeping.

What people hand over (`offer`) is bounded: at most `concurrency` such tasks run at once and at most
`queue` wait for a turn; past that an offer is refused (shed) and the caller says so. A thousand
clicks on a slow Marketplace would otherwise be a thousand tasks, every one of them competing with
the next click's ack for the one event loop. Each task also runs in a `Lane`, which picks the
Marketplace connection pool its calls use (marketplace/transport.py), so a reconciliation's burst
of reads never makes a click wait for a connection.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import deque
from collections.abc import Coroutine
from enum import StrEnum
from typing import Any

import structlog

log = structlog.get_logger(__name__)


class Lane(StrEnum):
    """Whom a piece of work answers: a person waiting in Slack, or nobody right now."""

    INTERACTIVE = "interactive"  # clicks, modals, commands, and whatever a request handler awaits
    BACKGROUND = "background"  # reconciliation, reminder ticks, webhooks


# Unset means a request handler's own context (an options search awaited before its ack): interactive.
_LANE: contextvars.ContextVar[Lane] = contextvars.ContextVar(
    "marketplace_slack_lane", default=Lane.INTERACTIVE
)


def current_lane() -> Lane:
    """The lane of the running task; tasks it starts inherit it."""
    return _LANE.get()


class _Turns:
    """`limit` turns, handed over first come, first served; `urgent` waiters before all others."""

    def __init__(self, limit: int) -> None:
        self._free = limit
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._others: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        return sum(1 for line in (self._urgent, self._others) for waiter in line if not waiter.done())

    async def take(self, *, urgent: bool) -> None:
        if self._free > 0 and not self._urgent and not self._others:
            self._free -= 1
            return
        line = self._urgent if urgent else self._others
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        line.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.give_back()  # handed a turn in the same moment it was cancelled: pass it on
            else:
                line.remove(waiter)
            raise

    def give_back(self) -> None:
        for line in (self._urgent, self._others):
            while line:
                waiter = line.popleft()
                if not waiter.done():
                    waiter.set_result(None)  # the turn passes straight on; `_free` stays as it is
                    return
        self._free += 1


class BackgroundTasks:
    def __init__(self, *, concurrency: int | None = None, queue: int = 0) -> None:
        """`concurrency`: how many offered tasks run at once (None: no limit, nothing is shed);
        `queue`: how many more may wait for a turn before offers are refused."""
        self._tasks: set[asyncio.Task[Any]] = set()
        self.failures = 0
        self.shed = 0  # offers refused because the queue was full
        self._concurrency, self._queue = concurrency, queue
        self._turns = _Turns(concurrency) if concurrency is not None else None
        self._admitted = 0  # offered tasks running or waiting for a turn

    def spawn(
        self, coro: Coroutine[Any, Any, Any], *, name: str, lane: Lane | None = None
    ) -> asyncio.Task[Any]:
        """Start `coro` now, never refused: the app's own work (jobs, webhooks, answers). `lane`:
        the lane it runs in (default: the caller's)."""
        context = contextvars.copy_context()
        if lane is not None:
            context.run(_LANE.set, lane)
        task = asyncio.get_running_loop().create_task(coro, name=name, context=context)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def offer(
        self, coro: Coroutine[Any, Any, Any], *, name: str, urgent: bool = False
    ) -> asyncio.Task[Any] | None:
        """Work a person handed over (in the interactive lane): it runs when a turn is free. None,
        with `coro` closed unstarted, when the queue is full: the caller tells the person so.

        `urgent` work (finishing what an admitted click began, such as a submitted form) is never
        refused and waits at the front: refusing it would throw away what the person typed, and
        there is no more of it than there were clicks let in."""
        if self._turns is None:
            return self.spawn(coro, name=name, lane=Lane.INTERACTIVE)
        assert self._concurrency is not None
        if not urgent and self._admitted >= self._concurrency + self._queue:
            coro.close()
            self.shed += 1
            log.warning("work_shed", task=name, queued=self.queued)
            return None
        self._admitted += 1
        return self.spawn(self._in_turn(self._turns, coro, urgent), name=name, lane=Lane.INTERACTIVE)

    async def _in_turn(self, turns: _Turns, coro: Coroutine[Any, Any, Any], urgent: bool) -> Any:
        try:
            await turns.take(urgent=urgent)
        except BaseException:
            self._admitted -= 1
            coro.close()  # cancelled while waiting: it never started, so nothing was half done
            raise
        try:
            return await coro
        finally:
            self._admitted -= 1
            turns.give_back()

    @property
    def queued(self) -> int:
        """Offered tasks waiting for a turn."""
        return self._turns.waiting if self._turns is not None else 0

    @property
    def full(self) -> bool:
        """Whether an offer made now would be refused."""
        if self._concurrency is None:
            return False
        return self._admitted >= self._concurrency + self._queue

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self.failures += 1
            # The exception's own text may be a vendor message; the traceback is kept for operators.
            log.error("background_task_failed", task=task.get_name(), error=type(exc).__name__, exc_info=exc)

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def drain(self) -> None:
        """Wait until every task started so far, and any they start, has finished."""
        while self._tasks:
            await self._settle()

    async def drain_within(self, seconds: float) -> bool:
        """`drain`, for at most `seconds`; False if tasks are still running then (they go on)."""
        try:
            async with asyncio.timeout(seconds):
                await self.drain()
        except TimeoutError:
            return False
        return True

    async def cancel_all(self, *, within: float | None = None) -> bool:
        """Cancel every task and wait for them to wind down (for at most `within` seconds); whether
        they all did."""
        for task in list(self._tasks):
            task.cancel()
        if within is None:
            await self.drain()
            return True
        return await self.drain_within(within)

    async def _settle(self) -> None:
        # Wait for the unfinished ones only, then yield once so the finished ones' done-callbacks run
        # (they remove the task from the set). Awaiting gather() of finished tasks would not do: since
        # Python 3.12 it completes eagerly without yielding, so a task that finished just before we
        # looked kept its callback queued, and this loop spun at 100 % CPU for ever.
        running = [task for task in self._tasks if not task.done()]
        if running:
            await asyncio.wait(running)
        await asyncio.sleep(0)


class KeyedLocks:
    """One asyncio.Lock per key (a request id), dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    def __call__(self, key: str) -> _KeyedLock:
        return _KeyedLock(self, key)

    def _acquire_ref(self, key: str) -> asyncio.Lock:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        return lock

    def _release_ref(self, key: str) -> None:
        lock, users = self._locks[key]
        if users <= 1:
            del self._locks[key]
        else:
            self._locks[key] = (lock, users - 1)


class _KeyedLock:
    def __init__(self, owner: KeyedLocks, key: str) -> None:
        self._owner, self._key = owner, key
        self._lock: asyncio.Lock | None = None

    async def __aenter__(self) -> None:
        self._lock = self._owner._acquire_ref(self._key)
        try:
            await self._lock.acquire()
        except BaseException:
            self._owner._release_ref(self._key)
            raise

    async def __aexit__(self, *exc: object) -> None:
        assert self._lock is not None
        self._lock.release()
        self._owner._release_ref(self._key)
