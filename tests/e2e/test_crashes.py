"""Crashes where they hurt: the app in its own process is SIGKILLed in the middle of a card or a
decision and started again on the same database, with the network faults made on the wire by a
FaultProxy. Each ends with exactly one card, one determination, one thread reply and one DM, a true
card, the audit log saying what happened, and the steward able to act at once (no lease to wait out).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from backends import StoreDatabase
from marketplace_slack.slack import ids
from marketplace_slack_standins.fakeslack import SlackUserAgent
from marketplace_slack_standins.fakeslack.payloads import block_action, view_state, view_submission
from marketplace_slack_standins.faultproxy import Fault, FaultProxy
from marketplace_slack_standins.stage import link_account
from processes import AppProcess, Outside, origin, outside, via

pytestmark = pytest.mark.timeout(240)

PUT = r"/api/approval-record/"


@asynccontextmanager
async def proxied(world: Outside, base_url: str) -> AsyncIterator[tuple[FaultProxy, str]]:
    """A FaultProxy in front of the stand-in at `base_url`, and that base URL through it."""
    proxy = FaultProxy(upstream=origin(base_url))
    try:
        yield proxy, via(await proxy.start(), base_url)
    finally:
        await proxy.stop()


async def started(world: Outside, **env: str) -> AppProcess:
    app = world.app(**env)
    await app.start()
    await app.wait_for_log("reconciled")
    await world.register_webhook(app)
    return app


def slack_user(world: Outside, username: str) -> str:
    email = (world.sandbox.state.users[username].email or "").casefold()
    return next(str(u.id) for u in world.slack.users if (u.email or "").casefold() == email)


async def card_message(world: Outside, request_id: str) -> Any:
    async with world.store() as store:
        card = await store.cards.get(request_id)
    assert card is not None and card.ts is not None, "the request has no recorded card"
    return world.slack.message(card.channel, card.ts)


async def open_form(world: Outside, agent: SlackUserAgent, username: str, request_id: str) -> Any:
    """`username` clicks Approve on the card; the view the modal ends up showing."""
    user = slack_user(world, username)
    message = await card_message(world, request_id)
    updates = len(world.slack.calls_to("views.update"))
    await agent.send_interaction(
        block_action(
            user_id=user,
            team_id=world.slack.team_id,
            channel_id=message.channel,
            message_ts=message.ts,
            action_id=ids.APPROVE,
            message_blocks=message.blocks,
        )
    )
    # "Checking…" opens at once; the checks then turn it into the form or the reason why not.
    await world.slack.wait_for("views.update", count=updates + 1, timeout=30)
    return world.slack.views(user)[-1]


async def submit(world: Outside, agent: SlackUserAgent, username: str, view: Any) -> None:
    user = slack_user(world, username)
    await agent.send_interaction(
        view_submission(user_id=user, team_id=world.slack.team_id, view=view, state_values=view_state(view))
    )


def posted_to(channel: str, *, thread_ts: str | None = None) -> Any:
    def matches(call: Any) -> bool:
        return call.args.get("channel") == channel and (
            thread_ts is None or call.args.get("thread_ts") == thread_ts
        )

    return matches


async def assert_settled_once(world: Outside, request_id: str, *, steward: str, requester: str) -> None:
    """One approval by `steward` in the Marketplace, a true card without buttons, one thread reply, one
    DM to `requester`, and an audit entry that says it was recorded."""
    records = world.sandbox.state.requests[request_id].records
    approved = [r for r in records if str(r.status) == "APPROVED"]
    assert len(approved) == 1, records
    message = await card_message(world, request_id)
    body = json.dumps(message.blocks)
    assert "Approved by" in body and ids.APPROVE not in body
    replies = [
        m for m in world.slack.messages(message.channel) if m.thread_ts == message.ts and m.ts != message.ts
    ]
    assert len(replies) == 1, [m.text for m in replies]
    dms = world.slack.messages(world.slack.dm_channel(slack_user(world, requester)))
    assert len([m for m in dms if "approved" in (m.text or "").lower()]) == 1, [m.text for m in dms]
    assert len(world.cards(request_id)) == 1
    async with world.store() as store:
        audit = await store.audit.list(request_id)
    assert [a.outcome for a in audit if a.record_id == approved[0].id] == ["ok"]


async def test_killed_between_the_claim_and_the_put_the_steward_decides_at_once_after_restart(
    tmp_path: Path,
) -> None:
    async with outside(tmp_path) as world, proxied(world, world.sandbox.base_url) as (proxy, marketplace):
        app = await started(world, MARKETPLACE_URL=marketplace)
        request_id = await world.request_access("rick", "Sales Pipeline")
        await world.slack.wait_for(
            "chat.postMessage", predicate=lambda c: request_id in str(c.args), timeout=30
        )
        async with world.agent(app) as agent:
            await link_account(agent, world.slack, slack_user(world, "sara"), world.sandbox.token_for("sara"))
            stalled = proxy.fault(Fault.STALL_BEFORE, method="PUT", path=PUT, delay=120)
            form = await open_form(world, agent, "sara", request_id)
            assert form["callback_id"] == ids.APPROVE_MODAL
            await submit(world, agent, "sara", form)
            await stalled.wait()  # claimed, the card shows it in progress, the PUT has not reached anyone
        await app.kill()
        proxy.clear()

        await app.start()
        await app.wait_for_log("abandoned_decision_resolved")  # nothing landed: the record is given back
        await app.wait_for_log("reconciled")
        assert ids.APPROVE in json.dumps((await card_message(world, request_id)).blocks), "buttons are back"
        async with world.agent(app) as agent:
            again = await open_form(world, agent, "sara", request_id)
            assert again["callback_id"] == ids.APPROVE_MODAL, "the form, not 'already recording'"
            dm = world.slack.dm_channel(slack_user(world, "rick"))
            before = len(world.slack.calls_to("chat.postMessage"))
            await submit(world, agent, "sara", again)
            await world.slack.wait_for("chat.postMessage", count=1, predicate=posted_to(dm), timeout=30)
        assert len(world.slack.calls_to("chat.postMessage")) > before
        await assert_settled_once(world, request_id, steward="sara", requester="rick")
        assert await app.terminate() == 0, app.tail()


async def test_killed_between_the_put_and_the_card_update_the_restart_makes_the_card_true(
    tmp_path: Path,
) -> None:
    async with outside(tmp_path) as world, proxied(world, world.sandbox.base_url) as (proxy, marketplace):
        app = await started(world, MARKETPLACE_URL=marketplace)
        request_id = await world.request_access("rick", "Sales Pipeline")
        await world.slack.wait_for(
            "chat.postMessage", predicate=lambda c: request_id in str(c.args), timeout=30
        )
        async with world.agent(app) as agent:
            await link_account(agent, world.slack, slack_user(world, "sara"), world.sandbox.token_for("sara"))
            committed = proxy.fault(Fault.DELAY_AFTER, method="PUT", path=PUT, delay=120)
            form = await open_form(world, agent, "sara", request_id)
            await submit(world, agent, "sara", form)
            await committed.wait()  # the Marketplace recorded it; the answer is on its way, slowly
        await app.kill()
        proxy.clear()

        dm = world.slack.dm_channel(slack_user(world, "rick"))
        await app.start()
        await app.wait_for_log("abandoned_decision_resolved", where=lambda e: e.get("outcome") == "ok")
        await world.slack.wait_for("chat.postMessage", predicate=posted_to(dm), timeout=30)
        await app.wait_for_log("reconciled")
        await assert_settled_once(world, request_id, steward="sara", requester="rick")
        assert await app.terminate() == 0, app.tail()


async def test_killed_while_posting_a_card_the_restart_adopts_the_card_slack_has(tmp_path: Path) -> None:
    async with outside(tmp_path) as world, proxied(world, world.slack.base_url) as (proxy, slack):
        app = await started(world, SLACK_API_URL=slack)
        held = proxy.fault(Fault.DELAY_AFTER, method="POST", path=r"chat\.postMessage$", delay=120)
        request_id = await world.request_access("rick", "Sales Pipeline")
        await held.wait()  # the card is in the channel; the app never hears its ts
        await app.kill()
        proxy.clear()
        assert len(world.cards(request_id)) == 1

        await app.start()
        await app.wait_for_log("reconciled")
        assert len(world.cards(request_id)) == 1, "adopted, not posted again"
        message = await card_message(world, request_id)
        assert message.ts == world.cards(request_id)[0].ts
        assert ids.APPROVE in json.dumps(message.blocks)
        assert await app.terminate() == 0, app.tail()


async def test_two_replicas_and_a_dropped_answer_make_one_card(
    tmp_path: Path, store_database: StoreDatabase
) -> None:
    if store_database.url.startswith("sqlite"):
        pytest.skip("several replicas share a PostgreSQL database")
    async with (
        outside(tmp_path, database_url=store_database.url, schema=store_database.schema) as world,
        proxied(world, world.slack.base_url) as (proxy, slack),
    ):
        # Both replicas get every webhook, so both race to show the new request's card.
        replicas = [await started(world, SLACK_API_URL=slack), await started(world, SLACK_API_URL=slack)]
        dropped = proxy.fault(Fault.DROP_AFTER, method="POST", path=r"chat\.postMessage$")
        request_id = await world.request_access("rick", "Sales Pipeline")
        await dropped.wait()
        adopted = [asyncio.create_task(r.wait_for_log("delivery_adopted", timeout=60)) for r in replicas]
        done, pending = await asyncio.wait(adopted, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        assert not any(t.exception() for t in done)
        for replica in replicas:  # a graceful stop finishes what each was doing
            assert await replica.terminate() == 0, replica.tail()
        assert len(world.cards(request_id)) == 1
        message = await card_message(world, request_id)
        assert message.ts == world.cards(request_id)[0].ts
