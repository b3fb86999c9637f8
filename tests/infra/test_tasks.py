"""Background tasks: drained, bounded, cancelled, and counted when they fail."""

from __future__ import annotations

import asyncio

import pytest

from marketplace_slack.infra.tasks import BackgroundTasks


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
