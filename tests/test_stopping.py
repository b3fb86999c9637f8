"""Stopping in-process: the scheduler's jobs in flight count as work to finish, and the image's PID 1
is the app itself, which handles the stop signal (tests/e2e/test_shutdown.py stops a real process)."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from marketplace_slack.app import TrackedExecutor
from marketplace_slack.infra.tasks import BackgroundTasks

DOCKERFILE = Path(__file__).resolve().parents[1] / "Dockerfile"


@pytest.mark.timeout(20)
async def test_a_scheduled_job_in_flight_is_waited_for_and_can_be_cancelled() -> None:
    tasks = BackgroundTasks()
    scheduler = AsyncIOScheduler(executors={"default": TrackedExecutor(tasks)})
    running, gate = asyncio.Event(), asyncio.Event()
    outcomes: list[int] = []

    async def job() -> None:
        running.set()
        await gate.wait()

    def heard(event: JobExecutionEvent) -> None:
        outcomes.append(event.code)

    scheduler.add_listener(heard, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    scheduler.add_job(job, "interval", seconds=3600, next_run_time=datetime.now(UTC), id="slow")
    scheduler.start()
    try:
        await running.wait()
        scheduler.pause()  # what stopping does first: no new run starts, the running one goes on
        assert tasks.pending == 1
        assert await tasks.drain_within(0.05) is False
        gate.set()
        await tasks.drain()
        assert outcomes == [EVENT_JOB_EXECUTED]

        gate.clear()
        running.clear()
        scheduler.resume()
        scheduler.modify_job("slow", next_run_time=datetime.now(UTC))
        await running.wait()
        await tasks.cancel_all()  # past the grace period
        assert outcomes == [EVENT_JOB_EXECUTED, EVENT_JOB_ERROR]
        assert tasks.pending == 0
    finally:
        scheduler.shutdown(wait=False)


def test_the_image_runs_the_app_as_pid_1_and_stops_it_with_a_signal_it_handles() -> None:
    text = DOCKERFILE.read_text()
    run_stage = text.rsplit("\nFROM ", 1)[1]
    # The exec form: no shell as PID 1 that would keep SIGTERM from the app.
    (entrypoint,) = re.findall(r"^ENTRYPOINT (.+)$", run_stage, flags=re.M)
    assert json.loads(entrypoint) == ["marketplace-slack"]
    (stopsignal,) = re.findall(r"^STOPSIGNAL (\S+)$", run_stage, flags=re.M)
    assert stopsignal in ("SIGTERM", "SIGINT")  # the two `serve` handles
