"""Events API deliveries: Slack's retries of one event are acted on once; a failed attempt is retried."""

from __future__ import annotations

import pytest

from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.store.repository import Repository
from marketplace_slack.workflow.events import Events


async def test_a_redelivered_event_is_acted_on_once(store: Repository, clock: FakeClock) -> None:
    events, acted = Events(store=store, clock=clock), []

    async def act() -> None:
        acted.append("forgot")

    assert await events.once("Ev1", act)
    assert not await events.once("Ev1", act)  # the retry of a delivery whose ack was lost
    assert await events.once("Ev2", act)
    assert acted == ["forgot", "forgot"]


async def test_a_failed_attempt_leaves_the_event_to_slacks_next_retry(
    store: Repository, clock: FakeClock
) -> None:
    events, acted = Events(store=store, clock=clock), []

    async def fail() -> None:
        raise RuntimeError("store unreachable")

    async def act() -> None:
        acted.append("forgot")

    with pytest.raises(RuntimeError):
        await events.once("Ev1", fail)
    assert await events.once("Ev1", act)
    assert acted == ["forgot"]


async def test_an_event_without_an_id_is_still_acted_on(store: Repository, clock: FakeClock) -> None:
    events, acted = Events(store=store, clock=clock), []

    async def act() -> None:
        acted.append("forgot")

    assert await events.once(None, act) and await events.once("", act)
    assert acted == ["forgot", "forgot"]
