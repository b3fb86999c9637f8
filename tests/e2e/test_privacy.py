"""What the app keeps to itself (issue 10 §4), end to end over loopback: the Marketplace's own words on
a 403, requesters' emails on cards, digests in channels that have nothing to do with requests, and
/metrics on a port of its own. SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from structlog.testing import capture_logs

from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.slack import ids
from marketplace_slack.workflow import sentences
from marketplace_slack_standins.fakeslack import slash_command
from marketplace_slack_standins.stage import STEWARDS_CHANNEL, Stage, open_stage

StageFactory = Callable[..., AbstractAsyncContextManager[Stage]]
FAULT_TEXT = "Fault injected by the Marketplace sandbox"  # the sandbox's 403 body (sandbox/faults.py)


@pytest.fixture
def configured_stage(store_database: Any, clock: FakeClock, tmp_path: Path) -> StageFactory:
    """Open a stage with a configuration file holding `config` and more settings."""

    @asynccontextmanager
    async def open_configured(config: dict[str, Any] | None = None, **settings: Any) -> AsyncIterator[Stage]:
        path = tmp_path / "marketplace-slack.yml"
        path.write_text(yaml.safe_dump(config or {}), encoding="utf-8")
        extra = {"MPSLACK_DATABASE_SCHEMA": store_database.schema} if store_database.schema else {}
        async with open_stage(
            database_url=store_database.url,
            clock=clock,
            MPSLACK_CONFIG_FILE=str(path),
            **extra,
            **settings,
        ) as stage:
            yield stage
            assert stage.slack.violations == [], "the app sent something Slack would reject"
            assert stage.app.tasks.failures == 0, "a background task failed"

    return open_configured


def _everything_slack_got(stage: Stage) -> str:
    """All the app sent Slack but its look-ups (users.lookupByEmail carries an email by nature)."""
    sent = [c.args for c in stage.slack.calls if not c.method.startswith("users.")]
    return json.dumps(sent, default=str, ensure_ascii=False)


async def _digest_command(stage: Stage, username: str, channel: str) -> None:
    await stage.agent.send_slash_command(
        slash_command(
            user_id=stage.slack_user(username),
            team_id=stage.slack.team_id,
            channel_id=channel,
            command=ids.SLASH_COMMAND,
            text="digest",
        )
    )
    await stage.settle()


# --- a 403 on the decision --------------------------------------------------------------------------


async def test_a_403_tells_the_steward_what_to_do_and_its_text_stays_in_the_log(stage: Stage) -> None:
    request_id = await stage.request_access("rick", "Sales Pipeline")
    await stage.settle()
    await stage.link("sara")
    await stage.click("sara", request_id, ids.APPROVE)
    [*_, modal] = stage.slack.views(stage.slack_user("sara"))
    stage.sandbox.faults.set(failNext=1, failStatus=403, pathPrefix="/marketplace/api/approval-record")

    with capture_logs() as logs:
        await stage.submit("sara", modal, {ids.REASON_INPUT: "Q4 review"})

    assert stage.sandbox.faults.remaining_failures == 0, "the PUT met the 403"
    told = [m.text for m in stage.slack.ephemeral_messages(user=stage.slack_user("sara"))]
    assert sentences.MARKETPLACE_FORBIDDEN.text in told
    assert FAULT_TEXT not in _everything_slack_got(stage)  # messages, ephemerals, modals, cards
    assert any(e.get("detail") == FAULT_TEXT for e in logs if e["event"] == "decision_forbidden")
    [audited] = await stage.app.store.audit.list(request_id)
    assert audited.outcome == "forbidden" and FAULT_TEXT not in (audited.error or "")


# --- requesters' emails on cards ----------------------------------------------------------------------


async def test_a_card_names_a_requester_unknown_to_slack_without_their_email(stage: Stage) -> None:
    request_id = await stage.request_access("paula", "Sales Pipeline")  # paula has no Slack account
    await stage.settle()

    card = await stage.card(request_id)
    shown = json.dumps(card.blocks) + card.text
    assert "Paula Price requested access" in shown
    assert "paula@example.com" not in _everything_slack_got(stage)


async def test_a_card_shows_the_email_when_configured(configured_stage: StageFactory) -> None:
    async with configured_stage({"cards": {"show_requester_email": True}}) as stage:
        request_id = await stage.request_access("paula", "Sales Pipeline")
        await stage.settle()
        card = await stage.card(request_id)
        assert "Paula Price (paula@example.com) requested access" in json.dumps(card.blocks)


# --- /marketplace digest ------------------------------------------------------------------------------


async def test_digest_is_refused_in_a_channel_without_cards_and_posted_in_the_card_channel(
    stage: Stage,
) -> None:
    await stage.request_access("rick", "Sales Pipeline")
    await stage.settle()
    sara = stage.slack_user("sara")

    await _digest_command(stage, "sara", "C0GENERAL")

    assert stage.slack.messages("C0GENERAL") == []
    [answer] = stage.slack.ephemeral_messages(channel="C0GENERAL", user=sara)
    assert answer.text == sentences.NOT_A_DIGEST_CHANNEL.text

    await _digest_command(stage, "sara", STEWARDS_CHANNEL)

    [digest] = [m for m in stage.slack.messages(STEWARDS_CHANNEL) if "waiting for a decision" in m.text]
    assert "Rick Moreno" in json.dumps(digest.blocks)


async def test_digest_is_answered_in_a_channel_with_a_configured_digest_even_when_empty(
    configured_stage: StageFactory,
) -> None:
    async with configured_stage({"digests": [{"channel": "C0GENERAL"}]}) as stage:
        await _digest_command(stage, "sara", "C0GENERAL")
        [answer] = stage.slack.ephemeral_messages(channel="C0GENERAL", user=stage.slack_user("sara"))
        assert answer.text == sentences.NO_DIGEST_HERE.text  # a digest channel: there is just nothing


# --- /metrics -----------------------------------------------------------------------------------------


async def test_metrics_are_served_on_the_main_port_by_default(stage: Stage) -> None:
    assert stage.app.metrics_url == f"{stage.app.url}/metrics"
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{stage.app.url}/metrics")
    assert response.status_code == 200
    assert "# TYPE marketplace_webhooks" in response.text


async def test_metrics_on_their_own_port_are_not_on_the_main_one(configured_stage: StageFactory) -> None:
    async with configured_stage(MPSLACK_METRICS_PORT=0) as stage:
        assert stage.app.url is not None and stage.app.metrics_url is not None
        assert not stage.app.metrics_url.startswith(stage.app.url + "/")
        async with httpx.AsyncClient() as http:
            main = await http.get(f"{stage.app.url}/metrics")
            metrics = await http.get(stage.app.metrics_url)
            elsewhere = await http.get(stage.app.metrics_url.removesuffix("/metrics") + "/healthz")
            health = await http.get(f"{stage.app.url}/healthz")
        assert main.status_code == 404
        assert metrics.status_code == 200
        assert metrics.headers["content-type"].startswith("text/plain")
        assert "# TYPE marketplace_webhooks" in metrics.text
        assert elsewhere.status_code == 404  # the metrics port serves /metrics and nothing else
        assert health.status_code == 200
