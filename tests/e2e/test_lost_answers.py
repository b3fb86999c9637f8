"""Slack did the work and the answer never arrived: the app looks before it posts again.

A FaultProxy sits between the app and the stand-in Slack and loses answers on the wire: the post is
made upstream, then the app's connection is dropped (or it gets a 5xx). Each scenario ends with
exactly one message of each kind. Installed without the history scopes, the app cannot look; then it
prefers a late message to a doubled one: nothing more now, the message after the claim's lease.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from pydantic import SecretStr

from marketplace_slack.app import build
from marketplace_slack.infra.clock import FakeClock, SystemClock
from marketplace_slack.marketplace.registration import register_webhook
from marketplace_slack.slack.history import CARD_EVENT, DM_EVENT, REPLY_EVENT
from marketplace_slack_standins.fakeslack import ALL_HISTORY_SCOPES, FakeSlack, SlackUserAgent
from marketplace_slack_standins.faultproxy import Fault, FaultProxy
from marketplace_slack_standins.sandbox.server import SandboxServer
from marketplace_slack_standins.stage import (
    SIGNING_SECRET,
    STEWARDS_CHANNEL,
    WEBHOOK_KEY,
    Stage,
    installed_as_declared,
    invite_everywhere,
    stage_settings,
)

LEASE = timedelta(seconds=120)  # the app's claim lease (app.build)
INSTANCE = "stage-pod"  # owners are `instance/incarnation` (infra.owners)
POST = r"chat\.postMessage"


@pytest.fixture
def proxies() -> dict[str, FaultProxy]:
    return {}


@pytest.fixture
def proxy(stage: Stage, proxies: dict[str, FaultProxy]) -> FaultProxy:
    """The proxy between the app and the fake Slack (started by `stage`, which needs Slack's address)."""
    return proxies["slack"]


@pytest.fixture
async def stage(
    store_database: Any, clock: FakeClock, proxies: dict[str, FaultProxy]
) -> AsyncIterator[Stage]:
    """The stage of `open_stage`, with the app talking to the fake Slack through `proxy`."""
    extra = {"MPSLACK_DATABASE_SCHEMA": store_database.schema} if store_database.schema else {}
    async with AsyncExitStack() as stack:
        sandbox = await stack.enter_async_context(SandboxServer(clock=clock))
        slack = await stack.enter_async_context(FakeSlack(clock=clock, install=installed_as_declared()))
        invite_everywhere(slack)
        where = urlsplit(slack.base_url)
        proxy = proxies["slack"] = FaultProxy(upstream=f"{where.scheme}://{where.netloc}")
        proxied = await proxy.start()
        stack.push_async_callback(proxy.stop)
        api = urlunsplit(urlsplit(proxied)[:2] + where[2:])  # same paths, through the proxy
        settings = stage_settings(sandbox, slack, database_url=store_database.url, SLACK_API_URL=api, **extra)
        app = await build(settings, clock=clock, owner=f"{INSTANCE}/first")
        await app.start(host="127.0.0.1", port=0, reconcile=False)
        running: Stage | None = None

        async def stop_app() -> None:
            await (running.app if running is not None else app).stop()

        stack.push_async_callback(stop_app)
        agent = await stack.enter_async_context(
            SlackUserAgent(f"{app.url}/slack/events", SIGNING_SECRET, slack=slack, clock=SystemClock())
        )
        await register_webhook(app.marketplace, f"{app.url}{settings.webhook_path}", SecretStr(WEBHOOK_KEY))
        running = Stage(sandbox=sandbox, slack=slack, app=app, agent=agent, clock=clock)
        await running.settle()
        yield running


async def _crash_and_restart(stage: Stage, incarnation: str) -> None:
    """The app dies and the same instance starts again, with a new incarnation, on the same database."""
    settings = stage.app.settings
    await stage.app.stop()
    for hook in list(stage.sandbox.webhooks.webhooks):
        stage.sandbox.webhooks.remove(hook)
    stage.app = await build(settings, clock=stage.clock, owner=f"{INSTANCE}/{incarnation}")
    await stage.app.start(host="127.0.0.1", port=0, reconcile=False)
    assert isinstance(stage.agent, SlackUserAgent)
    stage.agent.events_url = f"{stage.app.url}/slack/events"
    await register_webhook(
        stage.app.marketplace, f"{stage.app.url}{settings.webhook_path}", SecretStr(WEBHOOK_KEY)
    )
    await stage.settle()


def _tagged(stage: Stage, channel: str, event_type: str, key: str | None = None) -> list[Any]:
    """The app's messages in `channel` tagged `event_type` (and, if given, delivery `key`)."""
    return [
        m
        for m in stage.slack.messages(channel)
        if m.metadata is not None
        and m.metadata.get("event_type") == event_type
        and (key is None or m.metadata["event_payload"].get("key") == key)
    ]


def _tag(event_type: str) -> Any:
    return lambda body: event_type.encode() in body


async def _card_ts(stage: Stage, request_id: str) -> str | None:
    record = await stage.app.store.cards.get(request_id)
    return None if record is None else record.ts


async def test_a_card_whose_answer_was_dropped_is_found_not_posted_twice(
    stage: Stage, proxy: FaultProxy
) -> None:
    rule = proxy.fault(Fault.DROP_AFTER, method="POST", path=POST, when=_tag(CARD_EVENT))
    request_id = await stage.request_access("rick", "Sales Pipeline")
    await stage.settle()
    await rule.wait()

    [card] = _tagged(stage, STEWARDS_CHANNEL, CARD_EVENT)
    assert card.metadata["event_payload"] == {"key": request_id}
    assert await _card_ts(stage, request_id) == card.ts
    assert len(stage.slack.calls_to("conversations.history")) >= 1


async def test_a_card_answered_with_a_5xx_after_slack_posted_it_is_adopted(
    stage: Stage, proxy: FaultProxy
) -> None:
    rule = proxy.fault(Fault.STATUS_AFTER, method="POST", path=POST, status=502, when=_tag(CARD_EVENT))
    request_id = await stage.request_access("rick", "Sales Pipeline")
    await stage.settle()
    assert rule.fired == 1
    [card] = _tagged(stage, STEWARDS_CHANNEL, CARD_EVENT)
    assert await _card_ts(stage, request_id) == card.ts


async def test_a_thread_reply_and_a_dm_whose_answers_were_dropped_arrive_once_each(
    stage: Stage, proxy: FaultProxy
) -> None:
    request_id = await stage.request_access("rick", "Sales Pipeline")
    await stage.settle()
    await stage.link("sara")
    reply = proxy.fault(Fault.DROP_AFTER, method="POST", path=POST, when=_tag(REPLY_EVENT))
    dm = proxy.fault(Fault.DROP_AFTER, method="POST", path=POST, when=_tag(DM_EVENT))

    await stage.decide("sara", request_id, "approve", duration="7:DAYS", reason="Q4 review")
    await stage.app.workflow.cards.sync_request(request_id)  # shown again: nothing more is sent

    assert reply.fired == 1 and dm.fired == 1
    card_ts = await _card_ts(stage, request_id)
    replies = [m for m in _tagged(stage, STEWARDS_CHANNEL, REPLY_EVENT) if m.thread_ts == card_ts]
    assert len(replies) == 1
    assert len(_tagged(stage, stage.slack.dm_channel(stage.slack_user("rick")), DM_EVENT)) == 1
    assert len(_tagged(stage, STEWARDS_CHANNEL, CARD_EVENT)) == 1


async def test_without_history_scopes_a_lost_card_is_late_not_doubled(
    stage: Stage, proxy: FaultProxy
) -> None:
    stage.slack.install.scopes -= ALL_HISTORY_SCOPES
    # A gateway's 503: Slack may have posted it, the app cannot tell (here it did not).
    rule = proxy.fault(Fault.STATUS_BEFORE, method="POST", path=POST, status=503, when=_tag(CARD_EVENT))
    request_id = await stage.request_access("rick", "Sales Pipeline")
    await stage.settle()
    assert rule.fired == 1

    await stage.app.workflow.reconcile()  # within the lease: the claim is held, nothing posted
    assert _tagged(stage, STEWARDS_CHANNEL, CARD_EVENT, request_id) == []
    assert await _card_ts(stage, request_id) is None

    await stage.advance(LEASE)
    await stage.app.workflow.reconcile()
    [card] = _tagged(stage, STEWARDS_CHANNEL, CARD_EVENT, request_id)
    assert await _card_ts(stage, request_id) == card.ts


async def test_without_history_scopes_a_dropped_dm_is_not_sent_again_within_the_lease(
    stage: Stage, proxy: FaultProxy
) -> None:
    request_id = await stage.request_access("rick", "Sales Pipeline")
    await stage.settle()
    await stage.link("sara")
    stage.slack.install.scopes -= ALL_HISTORY_SCOPES
    dm = proxy.fault(Fault.DROP_AFTER, method="POST", path=POST, when=_tag(DM_EVENT))

    await stage.decide("sara", request_id, "approve", duration="7:DAYS", reason="Q4 review")
    await stage.app.workflow.cards.sync_request(request_id)

    assert dm.fired == 1
    assert len(_tagged(stage, stage.slack.dm_channel(stage.slack_user("rick")), DM_EVENT)) == 1


async def test_without_history_scopes_a_dm_lost_before_slack_got_it_arrives_after_the_lease(
    stage: Stage, proxy: FaultProxy
) -> None:
    request_id = await stage.request_access("rick", "Sales Pipeline")
    await stage.settle()
    await stage.link("sara")
    stage.slack.install.scopes -= ALL_HISTORY_SCOPES
    dm = proxy.fault(Fault.STATUS_BEFORE, method="POST", path=POST, status=503, when=_tag(DM_EVENT))
    rick = stage.slack.dm_channel(stage.slack_user("rick"))

    await stage.decide("sara", request_id, "approve", duration="7:DAYS", reason="Q4 review")
    await stage.app.workflow.cards.sync_request(request_id)
    assert dm.fired == 1 and _tagged(stage, rick, DM_EVENT) == []

    await stage.advance(LEASE)
    await stage.app.workflow.cards.sync_request(request_id)  # the card shown again (a webhook, say)
    assert len(_tagged(stage, rick, DM_EVENT)) == 1


async def test_a_dm_nobody_could_confirm_is_sent_by_reconciliation_after_the_lease(
    stage: Stage, proxy: FaultProxy
) -> None:
    """Nothing else about the request changes (no webhook, no click): the pass still finds the DM."""
    request_id = await stage.request_access("rick", "Sales Pipeline")
    await stage.settle()
    await stage.link("sara")
    stage.slack.install.scopes -= ALL_HISTORY_SCOPES
    dm = proxy.fault(Fault.STATUS_BEFORE, method="POST", path=POST, status=503, when=_tag(DM_EVENT))
    rick = stage.slack.dm_channel(stage.slack_user("rick"))

    await stage.decide("sara", request_id, "approve", duration="7:DAYS", reason="Q4 review")
    await stage.app.workflow.reconcile()  # within the lease: held, not sent again
    assert dm.fired == 1 and _tagged(stage, rick, DM_EVENT) == []

    await stage.advance(LEASE)
    await stage.app.workflow.reconcile()
    assert len(_tagged(stage, rick, DM_EVENT)) == 1
    await stage.app.workflow.reconcile()
    assert len(_tagged(stage, rick, DM_EVENT)) == 1


async def test_a_card_left_unrecorded_by_an_earlier_life_is_adopted_at_once_after_a_restart(
    stage: Stage, proxy: FaultProxy
) -> None:
    stage.slack.install.scopes -= ALL_HISTORY_SCOPES
    rule = proxy.fault(Fault.DROP_AFTER, method="POST", path=POST, when=_tag(CARD_EVENT))
    request_id = await stage.request_access("rick", "Sales Pipeline")
    await stage.settle()
    assert rule.fired == 1
    [posted] = _tagged(stage, STEWARDS_CHANNEL, CARD_EVENT, request_id)  # in Slack, unknown to the app
    record = await stage.app.store.cards.get(request_id)
    assert record is not None and record.ts is None and record.claim_owner == f"{INSTANCE}/first"

    stage.slack.install.scopes |= ALL_HISTORY_SCOPES  # reinstalled as declared
    await _crash_and_restart(stage, "second")
    await stage.app.workflow.cards.sync_request(request_id)  # no waiting out the lease

    assert _tagged(stage, STEWARDS_CHANNEL, CARD_EVENT, request_id) == [posted]
    assert await _card_ts(stage, request_id) == posted.ts
