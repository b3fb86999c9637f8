"""Stopping and starting the app in its own process: SIGTERM and SIGINT finish the work in flight and
give back what is left, a second signal cuts the wait short, and after SIGKILL the app starts again."""

from __future__ import annotations

import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from backends import StoreDatabase
from marketplace_slack.infra.owners import instance_of
from marketplace_slack_standins.faultproxy import Fault, FaultProxy
from marketplace_slack_standins.stage import STEWARDS_CHANNEL
from processes import AppProcess, Outside, origin, outside, via

pytestmark = pytest.mark.timeout(180)


async def started(world: Outside, *, webhook: bool = True, **env: str) -> AppProcess:
    """A replica that has started, finished its start-up pass, and (with `webhook`) gets webhooks."""
    app = world.app(**env)
    await app.start()
    await app.wait_for_log("reconciled")
    if webhook:
        await world.register_webhook(app)
    return app


def top_level_posts(world: Outside) -> int:
    return len([m for m in world.slack.messages(STEWARDS_CHANNEL) if not m.thread_ts])


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_a_webhook_in_flight_when_told_to_stop_is_finished_and_the_app_exits_0(
    tmp_path: Path, signum: signal.Signals
) -> None:
    async with outside(tmp_path) as world:
        proxy = FaultProxy(upstream=origin(world.slack.base_url))
        try:
            app = await started(world, SLACK_API_URL=via(await proxy.start(), world.slack.base_url))
            # Slack takes the card, and its answer reaches the app two seconds later (within its timeout).
            held = proxy.fault(Fault.DELAY_AFTER, method="POST", path=r"chat\.postMessage", delay=2)
            request_id = await world.request_access("diego", "Finance Ledger")
            await held.wait()  # the card is in Slack; the app is waiting for the answer
            app.send(signum)
            assert await app.wait() == 0, app.tail()
        finally:
            await proxy.stop()
        assert len(world.cards(request_id)) == 1
        assert app.logged("stopping")[0]["signal"] == signum.name
        assert not app.logged("stop_cancelled_work"), "the work finished within the grace period"
        assert app.logged("stopped")
        async with world.store() as store:
            card = await store.cards.get(request_id)
        assert card is not None and card.posted, "the card's message is recorded: nobody posts it again"


async def test_a_claim_the_stopping_app_holds_is_given_back_so_another_replica_takes_it_at_once(
    tmp_path: Path, store_database: StoreDatabase
) -> None:
    database = {"database_url": store_database.url, "schema": store_database.schema}  # SQLite, PostgreSQL
    async with outside(tmp_path, **database) as world:
        first = await started(world, webhook=False)
        # A request the app has not seen (no webhook), whose card it has claimed but not posted.
        request_id = await world.request_access("ivan", "Sales Pipeline")
        assert first.owner is not None
        async with world.store() as store:
            now = datetime.now(UTC)
            lease = timedelta(minutes=2)
            assert await store.cards.claim(
                request_id, STEWARDS_CHANNEL, owner=first.owner, now=now, lease=lease
            )
        assert await first.terminate() == 0, first.tail()
        assert first.logged("claims_given_back")[0]["count"] == 1
        assert world.cards(request_id) == []

        # Another instance, so not the first one's next life: a claim still leased to the first would be
        # left alone for two minutes. Given back, the second's start-up pass posts the card at once.
        second = await started(world, webhook=False)
        assert instance_of(second.owner or "") != instance_of(first.owner)
        assert len(world.cards(request_id)) == 1
        assert await second.interrupt() == 0, second.tail()


async def test_a_second_signal_cuts_the_grace_period_short_and_the_app_still_exits_0(tmp_path: Path) -> None:
    async with outside(tmp_path) as world:
        proxy = FaultProxy(upstream=origin(world.slack.base_url))
        try:
            app = await started(world, SLACK_API_URL=via(await proxy.start(), world.slack.base_url))
            held = proxy.fault(Fault.DELAY_AFTER, method="POST", path=r"chat\.postMessage", delay=60)
            await world.request_access("paula", "Finance Ledger")
            await held.wait()  # the app waits for an answer that would come after its 10 s timeout
            app.send(signal.SIGTERM)
            await app.wait_for_log("stopping")
            app.send(signal.SIGTERM)
            # Well before the app's own 10 s timeout would have ended the wait.
            assert await app.wait(timeout=8) == 0, app.tail()
        finally:
            await proxy.stop()
        assert app.logged("stopping_now")
        assert app.logged("stop_cancelled_work")
        assert app.logged("stopped")


async def test_after_sigkill_the_app_starts_again_on_the_same_database_and_serves(tmp_path: Path) -> None:
    async with outside(tmp_path) as world:
        app = await started(world)
        before, first_owner = top_level_posts(world), app.owner
        assert before > 0  # the seeded world's pending requests have their cards
        assert await app.kill() == -signal.SIGKILL
        assert not app.logged("stopping")  # nothing of the graceful stop ran

        await app.start()
        assert app.owner is not None and first_owner is not None
        assert app.owner != first_owner and instance_of(app.owner) == instance_of(first_owner)
        await app.wait_for_log("reconciled")
        assert top_level_posts(world) == before, "the restart's pass posted no card a second time"
        async with httpx.AsyncClient() as http:
            health = await http.get(f"{app.url}/healthz")
        assert health.status_code == 200 and health.json()["ok"] is True

        request_id = await world.request_access("paula", "Finance Ledger")  # its webhook reaches the new life
        await world.slack.wait_for(
            "chat.postMessage",
            predicate=lambda c: request_id in str(c.args.get("blocks")) and not c.args.get("thread_ts"),
            timeout=30,
        )
        assert len(world.cards(request_id)) == 1
        assert await app.terminate() == 0, app.tail()
