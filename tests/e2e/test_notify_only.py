"""Notify-only routes and the audit export, end to end over the stage.

A route with `decisions: marketplace` gets cards without Approve and Deny, pointing to the Marketplace;
a click on an Approve button anyway (forged, or on a card older than the route's rule) is refused at
action time and nothing reaches the Marketplace. What stewards did and were refused is then exported by
`marketplace-slack audit`, as an auditor would run it.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.slack import ids
from marketplace_slack.slack.mrkdwn import button
from marketplace_slack.workflow import sentences
from marketplace_slack_standins.fakeslack import block_action
from marketplace_slack_standins.stage import STEWARDS_CHANNEL, Stage, open_stage

NOTIFY_ONLY = "Sales Pipeline"  # the route that decides in the Marketplace


def _write_config(path: Path, *, notify_only: bool) -> None:
    route: dict[str, Any] = {"product": NOTIFY_ONLY, "channel": STEWARDS_CHANNEL}
    if notify_only:
        route["decisions"] = "marketplace"
    path.write_text(yaml.safe_dump({"routes": [route]}), encoding="utf-8")


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "marketplace-slack.yml"
    _write_config(path, notify_only=True)
    return path


@pytest.fixture
async def stage(store_database: Any, clock: FakeClock, config_path: Path) -> AsyncIterator[Stage]:
    extra = {"MPSLACK_DATABASE_SCHEMA": store_database.schema} if store_database.schema else {}
    async with open_stage(
        database_url=store_database.url, clock=clock, MPSLACK_CONFIG_FILE=str(config_path), **extra
    ) as running:
        yield running


def _elements(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        e["action_id"]: e
        for b in blocks
        if b.get("type") == "actions"
        for e in b["elements"]
        if "action_id" in e
    }


def _puts(stage: Stage) -> int:
    return sum(n for route, n in stage.sandbox.stats.counts.items() if route.startswith("PUT "))


async def _all_pending(stage: Stage, request_id: str) -> bool:
    records = (await stage.app.marketplace.get_access_request_records(request_id)).approval_records
    return all(str(r.status) == "PENDING" for r in records)


async def _forged_approve(stage: Stage, username: str, request_id: str) -> None:
    """An Approve click the card never offered: the card's blocks with the button put back, signed as
    Slack signs, as someone replaying an old payload or crafting one would send it."""
    record = await stage.app.store.cards.get(request_id)
    assert record is not None and record.ts is not None
    message = stage.slack.message(record.channel, record.ts)
    approve = button("Approve", ids.APPROVE, value=request_id)
    forged = [
        {**b, "elements": [approve, *b["elements"]]} if b.get("type") == "actions" else b
        for b in message.blocks
    ]
    payload = block_action(
        user_id=stage.slack_user(username),
        team_id=stage.slack.team_id,
        channel_id=record.channel,
        message_ts=record.ts,
        action_id=ids.APPROVE,
        message_blocks=forged,
    )
    delivery = await stage.agent.send_interaction(payload)
    assert delivery.status == 200
    await stage.settle()


async def _export(stage: Stage, tmp_path: Path, *args: str) -> str:
    """`marketplace-slack audit ARGS --output FILE` in its own process, with the app's own settings
    and nothing from the developer's shell or a .env file, as an operator runs it."""
    settings = stage.app.settings
    assert settings.webhook_signing_key is not None and settings.slack_signing_secret is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MARKETPLACE_", "SLACK_", "MPSLACK_"))}
    env |= {
        "MARKETPLACE_URL": str(settings.marketplace_url),
        "MARKETPLACE_TOKEN": settings.marketplace_token.get_secret_value(),
        "MARKETPLACE_WEBHOOK_SIGNING_KEY": settings.webhook_signing_key.get_secret_value(),
        "SLACK_BOT_TOKEN": settings.slack_bot_token.get_secret_value(),
        "SLACK_SIGNING_SECRET": settings.slack_signing_secret.get_secret_value(),
        "MPSLACK_DEFAULT_CHANNEL": settings.default_channel,
        "MPSLACK_ENCRYPTION_KEYS": ",".join(k.get_secret_value() for k in settings.encryption_keys),
        "MPSLACK_DATABASE_URL": settings.database_url.get_secret_value(),
    }
    if settings.database_schema:
        env["MPSLACK_DATABASE_SCHEMA"] = settings.database_schema
    out = tmp_path / "audit.out"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "marketplace_slack.cli",
        "audit",
        *args,
        "--output",
        str(out),
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    return out.read_text(encoding="utf-8")


async def test_a_notify_only_route_gets_cards_without_decisions_and_refuses_a_forged_approve(
    stage: Stage, tmp_path: Path
) -> None:
    request_id = await stage.request_access("rick", NOTIFY_ONLY)
    await stage.settle()
    card = await stage.card(request_id)
    controls = _elements(card.blocks)
    assert ids.APPROVE not in controls and ids.DENY not in controls and ids.DURATION not in controls
    review = controls[ids.OPEN_IN_MARKETPLACE]
    assert review["text"]["text"] == "Review in Marketplace" and review["url"].startswith("https://")
    assert "Decisions on this request are made in the Marketplace" in json.dumps(card.blocks)

    await stage.link("sara")
    sara = stage.slack_user("sara")
    puts = _puts(stage)
    await _forged_approve(stage, "sara", request_id)

    [refusal] = [v for v in stage.slack.views(sara) if v["callback_id"] == ids.REFUSAL_MODAL]
    assert "decided in the Marketplace" in json.dumps(refusal["blocks"])
    assert _puts(stage) == puts  # nothing reached the Marketplace
    assert await _all_pending(stage, request_id)
    assert await stage.app.store.audit.list(request_id) == []  # no decision, attempted or not

    exported = [json.loads(line) for line in (await _export(stage, tmp_path)).splitlines()]
    assert [(e["kind"], e["outcome"]) for e in exported] == [("link", "ok"), ("refusal", "notify_only")]
    link, refused = exported
    assert (link["slack_user_id"], link["marketplace_user_id"]) == (sara, refused["marketplace_user_id"])
    assert refused["marketplace_user_id"] is not None
    assert (refused["request_id"], refused["verdict"], refused["detail"]) == (
        request_id,
        "APPROVE",
        {"at": "click"},
    )
    assert refused["at"].endswith("Z")

    table = list(csv.DictReader(io.StringIO(await _export(stage, tmp_path, "--format", "csv"))))
    assert [(r["kind"], r["request_id"]) for r in table] == [("link", ""), ("refusal", request_id)]
    assert json.loads(table[1]["detail"]) == {"at": "click"}
    # --since after everything: nothing; a bad --since: one line, exit 2, nothing written.
    assert await _export(stage, tmp_path, "--since", "2999-01-01") == ""


async def test_buttons_on_a_card_posted_before_the_route_became_notify_only_are_refused(
    stage: Stage, config_path: Path
) -> None:
    _write_config(config_path, notify_only=False)
    await stage.restart()
    request_id = await stage.request_access("rick", NOTIFY_ONLY)
    await stage.settle()
    await stage.link("sara")
    sara = stage.slack_user("sara")
    # A form opened while the route still decided in Slack...
    await stage.click("sara", request_id, ids.APPROVE)
    [form] = [v for v in stage.slack.views(sara) if v["callback_id"] == ids.APPROVE_MODAL]

    _write_config(config_path, notify_only=True)  # the policy changes; the card is not touched yet
    await stage.restart()
    card = await stage.card(request_id)
    assert ids.APPROVE in _elements(card.blocks)  # still the old buttons
    puts = _puts(stage)

    # A click on the old card's Approve is refused, and so is the form opened earlier.
    await stage.click("sara", request_id, ids.APPROVE)
    refusals = [v for v in stage.slack.views(sara) if v["callback_id"] == ids.REFUSAL_MODAL]
    assert len(refusals) == 1
    assert sentences.DECIDE_IN_MARKETPLACE.text[:40] in json.dumps(refusals[0]["blocks"])
    await stage.submit("sara", form, {ids.REASON_INPUT: "Q4 review"})
    told = [m.text for m in stage.slack.ephemeral_messages(user=sara)]
    assert any("decided in the Marketplace" in text for text in told), told
    assert _puts(stage) == puts and await _all_pending(stage, request_id)

    # The card is made true: the buttons are gone.
    card = await stage.card(request_id)
    assert ids.APPROVE not in _elements(card.blocks) and ids.DENY not in _elements(card.blocks)
    entries = [e async for e in stage.app.store.audit.entries()]
    assert [(e.kind, e.outcome, (e.detail or {}).get("at")) for e in entries] == [
        ("link", "ok", None),
        ("refusal", "notify_only", "click"),
        ("refusal", "notify_only", "submit"),
    ]


async def test_reminders_of_a_notify_only_request_point_to_the_marketplace(stage: Stage) -> None:
    request_id = await stage.request_access("rick", NOTIFY_ONLY)
    await stage.settle()
    await stage.advance(timedelta(hours=4))  # four working hours for Sara (the stage starts Monday 09:00)

    reminders = [
        c for c in stage.slack.calls_to("chat.postMessage") if c.ok and "Reminder" in str(c.args.get("text"))
    ]
    assert reminders, "no reminder was sent"
    card = await stage.app.store.cards.get(request_id)
    assert card is not None
    for reminder in reminders:
        assert reminder.args["thread_ts"] == card.ts
        blocks = reminder.args["blocks"]
        blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
        assert "for your decision in the Marketplace" in json.dumps(blocks)
        controls = _elements(blocks)
        assert controls[ids.OPEN_IN_MARKETPLACE]["text"]["text"] == "Review in Marketplace"
        assert ids.APPROVE not in controls
