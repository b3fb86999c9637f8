"""Work started after an acknowledgement: tracked, logged when it fails, and awaitable.

Slack wants an answer within 3 s and the Marketplace within 10 s, so listeners and the webhook route
acknowledge first and hand the real work to `BackgroundTasks`. Tests and shutdown `drain()` it
instead of sleeping.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import structlog

log = structlog.get_logger(__name__)


class BackgroundTasks:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self.failures = 0

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

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
