"""Background tasks: drained, bounded, cancelled, and counted when they fail; offered work limited,
queued and shed; lanes inherited."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Coroutine
from typing import Any

import pytest

from marketplace_slack.infra.tasks import BackgroundTasks, Lane, current_lane


async def _quick() -> None:
    return None


# The bug this guards against never yields to the loop, so no asyncio timeout could end it: the
# timeout mark's signal does. It is short because a correct drain needs a few loop turns.
@pytest.mark.timeout(10)
async def test_draining_a_task_that_just_finished_returns() -> None:
    tasks = BackgroundTasks()
    tasks.spawn(_quick(), name="quick")
    # One turn of the loop: the task runs and finishes, and its done-callback (which removes it from
    # the set) is queued but has not run when drain() starts. On Python 3.12+ the old drain awaited
    # gather() of that finished task, which completes without yielding, and spun for ever.
    await asyncio.sleep(0)
    assert tasks.pending == 1
    await tasks.drain()
    assert tasks.pending == 0


@pytest.mark.timeout(10)
async def test_drain_waits_for_what_tasks_start_and_counts_failures() -> None:
    tasks = BackgroundTasks()
    done: list[str] = []
    gate = asyncio.Event()

    async def child() -> None:
        await gate.wait()
        done.append("child")

    async def parent() -> None:
        tasks.spawn(child(), name="child")
        done.append("parent")

    async def broken() -> None:
        raise RuntimeError("boom")

    tasks.spawn(parent(), name="parent")
    tasks.spawn(broken(), name="broken")
    asyncio.get_running_loop().call_soon(gate.set)
    await tasks.drain()
    assert done == ["parent", "child"]
    assert tasks.failures == 1
    assert tasks.pending == 0


@pytest.mark.timeout(10)
async def test_drain_within_gives_up_in_time_and_cancel_all_ends_the_rest() -> None:
    tasks = BackgroundTasks()
    never = asyncio.Event()
    cancelled = asyncio.Event()

    async def stuck() -> None:
        try:
            await never.wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    tasks.spawn(stuck(), name="stuck")
    tasks.spawn(_quick(), name="quick")
    assert await tasks.drain_within(0.05) is False
    assert tasks.pending == 1  # the quick one is gone, the stuck one still runs
    await tasks.cancel_all()
    assert cancelled.is_set()
    assert tasks.pending == 0
    assert tasks.failures == 0  # a cancelled task is not a failure
    assert await tasks.drain_within(0.05) is True


class Gated:
    """Work that records when it starts and finishes only when its gate opens."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.gates: dict[str, asyncio.Event] = {}

    def work(self, name: str) -> Coroutine[Any, Any, None]:
        gate = self.gates[name] = asyncio.Event()

        async def run() -> None:
            self.started.append(name)
            await gate.wait()

        return run()

    def open(self, name: str) -> None:
        self.gates[name].set()


async def _turns() -> None:
    for _ in range(5):  # a few loop turns: whatever was let start has started
        await asyncio.sleep(0)


@pytest.mark.timeout(10)
async def test_offered_work_runs_a_few_at_a_time_waits_in_order_and_past_the_queue_is_refused() -> None:
    tasks = BackgroundTasks(concurrency=2, queue=2)
    gated = Gated()
    taken = [tasks.offer(gated.work(f"c{n}"), name=f"c{n}") for n in range(4)]
    refused = gated.work("c4")
    assert tasks.full
    assert tasks.offer(refused, name="c4") is None
    assert all(task is not None for task in taken)
    assert inspect.getcoroutinestate(refused) == inspect.CORO_CLOSED  # never started, never awaited
    assert tasks.shed == 1
    await _turns()
    assert gated.started == ["c0", "c1"] and tasks.queued == 2
    gated.open("c1")
    await _turns()
    assert gated.started == ["c0", "c1", "c2"] and tasks.queued == 1
    assert not tasks.full  # a turn was freed: one more may wait
    assert tasks.offer(gated.work("c5"), name="c5") is not None
    for name in ("c0", "c2", "c3", "c5"):
        gated.open(name)
    await tasks.drain()  # what waits for a turn is drained too
    assert gated.started == ["c0", "c1", "c2", "c3", "c5"]
    assert tasks.pending == 0 and tasks.queued == 0 and tasks.failures == 0


@pytest.mark.timeout(10)
async def test_urgent_work_is_never_refused_and_goes_first_but_still_waits_for_a_turn() -> None:
    tasks = BackgroundTasks(concurrency=1, queue=1)
    gated = Gated()
    tasks.offer(gated.work("click"), name="click")
    tasks.offer(gated.work("queued-click"), name="queued-click")
    assert tasks.offer(gated.work("urgent"), name="submit", urgent=True) is not None
    assert tasks.offer(gated.work("urgent2"), name="submit", urgent=True) is not None
    assert tasks.shed == 0
    await _turns()
    assert gated.started == ["click"]  # the limit holds for urgent work too
    gated.open("click")
    await _turns()
    assert gated.started == ["click", "urgent"]
    gated.open("urgent")
    await _turns()
    assert gated.started == ["click", "urgent", "urgent2"]  # urgent ones in their own order
    gated.open("urgent2")
    gated.open("queued-click")
    await tasks.drain()
    assert gated.started == ["click", "urgent", "urgent2", "queued-click"]


@pytest.mark.timeout(10)
async def test_work_cancelled_while_waiting_never_starts_and_gives_its_place_back() -> None:
    tasks = BackgroundTasks(concurrency=1, queue=1)
    gated = Gated()
    tasks.offer(gated.work("running"), name="running")
    waiting = gated.work("waiting")
    task = tasks.offer(waiting, name="waiting")
    assert task is not None
    await _turns()
    task.cancel()
    await _turns()
    assert inspect.getcoroutinestate(waiting) == inspect.CORO_CLOSED
    assert tasks.queued == 0 and not tasks.full
    assert tasks.offer(gated.work("next"), name="next") is not None
    gated.open("running")
    gated.open("next")
    await tasks.drain()
    assert gated.started == ["running", "next"]
    assert tasks.failures == 0


@pytest.mark.timeout(10)
async def test_a_turn_ends_with_its_work_however_it_ends() -> None:
    tasks = BackgroundTasks(concurrency=1, queue=0)

    async def broken() -> None:
        raise RuntimeError("boom")

    tasks.offer(broken(), name="broken")
    await tasks.drain()
    assert tasks.failures == 1 and not tasks.full
    assert tasks.offer(_quick(), name="after") is not None
    await tasks.drain()


async def test_without_a_limit_nothing_is_refused() -> None:
    tasks = BackgroundTasks()
    for n in range(50):
        assert tasks.offer(_quick(), name=f"q{n}") is not None
    assert not tasks.full
    await tasks.drain()
    assert tasks.shed == 0


async def test_work_runs_in_its_lane_and_what_it_starts_inherits_it() -> None:
    tasks = BackgroundTasks(concurrency=4, queue=4)
    seen: dict[str, Lane] = {}

    async def child(name: str) -> None:
        seen[name] = current_lane()

    async def parent(name: str) -> None:
        seen[name] = current_lane()
        tasks.spawn(child(f"{name}/child"), name="child")

    assert current_lane() is Lane.INTERACTIVE  # a request handler's own context
    tasks.spawn(parent("job"), name="job", lane=Lane.BACKGROUND)
    tasks.offer(parent("click"), name="click")
    tasks.spawn(parent("plain"), name="plain")
    await tasks.drain()
    assert seen == {
        "job": Lane.BACKGROUND,
        "job/child": Lane.BACKGROUND,
        "click": Lane.INTERACTIVE,
        "click/child": Lane.INTERACTIVE,
        "plain": Lane.INTERACTIVE,
        "plain/child": Lane.INTERACTIVE,
    }
    assert current_lane() is Lane.INTERACTIVE  # the caller's lane is left as it was
