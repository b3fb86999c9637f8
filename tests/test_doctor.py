"""`marketplace-slack doctor` against the sandbox and the stand-in Slack: all ✓ on a healthy stage, then
each thing it is meant to catch broken in turn, and that check alone is asked to turn ✗ with its fix."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import SecretStr

from backends import StoreDatabases
from marketplace_slack.cli import main
from marketplace_slack.config import DatabaseUrl
from marketplace_slack.config_file import ConfigFile
from marketplace_slack.doctor import NEEDED_SCOPES, Finding, diagnose
from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.marketplace.registration import register_webhook
from marketplace_slack.store.database import head_revision, upgrade
from marketplace_slack_standins.stage import WEBHOOK_KEY, Stage, open_stage

MANIFEST = Path(__file__).resolve().parents[1] / "manifest.yml"


def _manifest_scopes() -> set[str]:
    manifest: Any = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return set(manifest["oauth_config"]["scopes"]["bot"])


def test_the_scopes_the_doctor_wants_are_the_manifests() -> None:
    assert set(NEEDED_SCOPES) == _manifest_scopes()


@pytest.fixture
async def stage(tmp_path: Path) -> AsyncIterator[Stage]:
    async with open_stage(database_url=f"sqlite+aiosqlite:///{tmp_path / 'app.db'}") as running:
        yield running


def _webhook_url(stage: Stage) -> str:
    return f"{stage.app.url}{stage.app.settings.webhook_path}"


async def _diagnose(
    stage: Stage,
    *,
    config: ConfigFile | None = None,
    webhook_url: str | None = None,
    clock: FakeClock | None = None,
    **settings: Any,
) -> dict[str, Finding]:
    changed = stage.app.settings.model_copy(update=settings)
    findings = await diagnose(
        changed,
        config or ConfigFile(),
        webhook_url=webhook_url or _webhook_url(stage),
        clock=clock,
        timeout=5,
    )
    assert all("\n" not in f.line() for f in findings)
    return {f.check: f for f in findings}


def _failed(findings: dict[str, Finding]) -> dict[str, Finding]:
    return {name: f for name, f in findings.items() if not f.ok}


def _secrets(stage: Stage) -> list[str]:
    settings = stage.app.settings
    values = [settings.slack_bot_token, settings.marketplace_token, settings.webhook_signing_key]
    return [v.get_secret_value() for v in values if v is not None]


# --- healthy -----------------------------------------------------------------------------------------


async def test_a_healthy_installation_is_all_ticks_and_shows_no_secret(stage: Stage) -> None:
    findings = await _diagnose(stage)
    assert _failed(findings) == {}
    assert list(findings) == [
        "Slack token",
        "Slack scopes",
        "Slack channel C0STEWARDS",
        "Slack email lookup",
        "Clock",
        "Marketplace token",
        "Marketplace requests",
        "Marketplace webhook",
        "Webhook deliveries",
        "Database",
    ]
    assert (
        findings["Slack token"].detail
        == "auth.test: bot @marketplace (U0MPBOT) in Marketplace Demo (T0MARKET)"
    )
    assert findings["Slack channel C0STEWARDS"].detail == "the bot is in #data-stewards"
    assert findings["Marketplace token"].detail.startswith("GET /api/auth/user: ")
    assert findings["Webhook deliveries"].detail.endswith("was delivered; 1 of the last 1")
    assert findings["Database"].detail.startswith("reachable, at revision ")
    text = "\n".join(f.line() for f in findings.values())
    assert all(line.startswith("✓ ") for line in text.splitlines())
    assert not any(secret in text for secret in _secrets(stage))


# --- Slack -------------------------------------------------------------------------------------------


async def test_a_bad_slack_token(stage: Stage) -> None:
    findings = await _diagnose(stage, slack_bot_token=SecretStr("xoxb-not-the-token"))
    token = findings["Slack token"]
    assert not token.ok and token.detail == "auth.test answered invalid_auth"
    assert token.fix.startswith("set SLACK_BOT_TOKEN to the Bot User OAuth Token (xoxb-...)")
    assert "xoxb-not-the-token" not in "\n".join(f.line() for f in findings.values())


async def test_a_missing_scope(stage: Stage) -> None:
    stage.slack.install.scopes.discard("users:read.email")
    findings = _failed(await _diagnose(stage))
    assert set(findings) == {"Slack scopes", "Slack email lookup"}
    assert findings["Slack scopes"].detail == "missing users:read.email"
    assert findings["Slack scopes"].fix.startswith("add them to the app's bot token scopes (manifest.yml")
    assert findings["Slack email lookup"].detail.startswith("users.lookupByEmail needs users:read.email")


async def test_an_install_without_the_history_scopes(stage: Stage) -> None:
    # A team may leave them out (the app then prefers a late post to a doubled one); doctor says so.
    stage.slack.install.scopes -= {"channels:history", "groups:history", "im:history"}
    findings = _failed(await _diagnose(stage))
    assert set(findings) == {"Slack scopes"}
    assert findings["Slack scopes"].detail == "missing channels:history, groups:history, im:history"


async def test_the_bot_not_in_a_routed_channel(stage: Stage) -> None:
    stage.slack.install.scopes.discard("chat:write.public")  # installed before the manifest asked for it
    stage.slack.remove("C0GENERAL")
    config = ConfigFile.model_validate({"routes": [{"domain": "Sales", "channel": "C0GENERAL"}]})
    findings = _failed(await _diagnose(stage, config=config))
    assert set(findings) == {"Slack scopes", "Slack channel C0GENERAL"}
    assert findings["Slack scopes"].detail == "missing chat:write.public"
    assert findings["Slack channel C0GENERAL"].detail == (
        "the bot is not in #general, so cards sent there are refused"
    )
    assert findings["Slack channel C0GENERAL"].fix == "invite the bot: /invite @marketplace in that channel"


async def test_a_private_digest_channel_the_bot_was_not_invited_to(stage: Stage) -> None:
    stage.slack.remove("G0SECURITY")
    config = ConfigFile.model_validate({"digests": [{"channel": "G0SECURITY"}]})
    findings = _failed(await _diagnose(stage, config=config))
    assert set(findings) == {"Slack channel G0SECURITY"}
    assert findings["Slack channel G0SECURITY"].detail.startswith("the bot cannot see it: it is private")
    assert findings["Slack channel G0SECURITY"].fix.startswith("invite the bot: /invite @marketplace")


async def test_a_public_channel_without_the_bot_is_fine_with_chat_write_public(stage: Stage) -> None:
    stage.slack.remove("C0GENERAL")
    config = ConfigFile.model_validate({"routes": [{"domain": "Sales", "channel": "C0GENERAL"}]})
    findings = await _diagnose(stage, config=config)
    assert _failed(findings) == {}
    assert findings["Slack channel C0GENERAL"].detail == (
        "the bot is not in #general, but may post there: public, and chat:write.public"
    )


async def test_a_clock_out_of_slacks_window(stage: Stage) -> None:
    ahead = FakeClock(datetime.now(UTC) + timedelta(minutes=7))
    clock = (await _diagnose(stage, clock=ahead))["Clock"]
    assert not clock.ok and clock.detail.startswith("this machine is 7m ")
    assert clock.detail.endswith(" ahead of Slack, past its 5-minute window")
    assert clock.fix.startswith("synchronise the clock (NTP)")
    behind = FakeClock(datetime.now(UTC) - timedelta(minutes=4))
    assert (await _diagnose(stage, clock=behind))["Clock"].ok


# --- the Marketplace ---------------------------------------------------------------------------------


async def test_a_bad_marketplace_token(stage: Stage) -> None:
    findings = _failed(await _diagnose(stage, marketplace_token=SecretStr("not-a-real-token")))
    assert {"Marketplace token", "Marketplace requests", "Marketplace webhook"} <= set(findings)
    token = findings["Marketplace token"]
    assert token.detail == "the Marketplace refused MARKETPLACE_TOKEN (401)"
    assert token.fix.startswith("make a personal access token for the app's Marketplace account")
    assert "not-a-real-token" not in "\n".join(f.line() for f in findings.values())


async def test_no_webhook_registered_for_this_url(stage: Stage) -> None:
    for hook in list(stage.sandbox.webhooks.webhooks):
        stage.sandbox.webhooks.remove(hook)
    findings = _failed(await _diagnose(stage))
    url = _webhook_url(stage)
    assert findings["Marketplace webhook"].detail == f"none is registered for {url}"
    assert findings["Marketplace webhook"].fix == f"run `marketplace-slack register-webhook --url {url}`"
    assert findings["Webhook deliveries"].detail == "unknown: no registered webhook to read the history of"


async def test_no_url_to_look_for(stage: Stage) -> None:
    findings = await diagnose(stage.app.settings, ConfigFile(), timeout=5)
    webhook = next(f for f in findings if f.check == "Marketplace webhook")
    assert not webhook.ok and webhook.detail == "no URL to look for"
    assert webhook.fix.startswith("set MPSLACK_PUBLIC_URL to where the Marketplace reaches this app")


async def test_the_public_url_names_the_webhook(stage: Stage) -> None:
    findings = await diagnose(
        stage.app.settings.model_copy(update={"public_url": f"{stage.app.url}/"}), ConfigFile(), timeout=5
    )
    webhook = next(f for f in findings if f.check == "Marketplace webhook")
    assert webhook.ok and webhook.detail.endswith(f"for {_webhook_url(stage)}, with a signing key")


async def test_a_webhook_without_a_signing_key(stage: Stage) -> None:
    for hook in stage.sandbox.webhooks.webhooks.values():
        hook.signing_key = None
    webhook = _failed(await _diagnose(stage))["Marketplace webhook"]
    assert webhook.detail.endswith(f"for {_webhook_url(stage)} has no signing key")
    assert (
        webhook.fix
        == f"run `marketplace-slack register-webhook --url {_webhook_url(stage)}`; it sets the key"
    )


async def test_deliveries_that_do_not_arrive(stage: Stage) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/marketplace/webhook"
    await register_webhook(stage.app.marketplace, dead, SecretStr(WEBHOOK_KEY))
    findings = _failed(await _diagnose(stage, webhook_url=dead))
    assert "Marketplace webhook" not in findings
    deliveries = findings["Webhook deliveries"]
    assert deliveries.detail.startswith("the latest, at ") and " failed: " in deliveries.detail
    assert deliveries.fix.startswith("the Marketplace cannot reach the app")


# --- the database ------------------------------------------------------------------------------------


async def test_a_database_not_migrated(stage: Stage, tmp_path: Path) -> None:
    fresh = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    database = _failed(await _diagnose(stage, database_url=DatabaseUrl(fresh)))["Database"]
    assert database.detail == "reachable, but it has no tables yet"
    assert database.fix.startswith("start `marketplace-slack serve`: it brings the tables up to date")


async def test_the_database_check_on_both_backends(stage: Stage, store_databases: StoreDatabases) -> None:
    fresh = await store_databases.new()
    where = {"database_url": DatabaseUrl(fresh.url), "database_schema": fresh.schema}
    assert (await _diagnose(stage, **where))["Database"].detail == "reachable, but it has no tables yet"
    engine = fresh.engine()
    try:
        await upgrade(engine, "0001")
        behind = (await _diagnose(stage, **where))["Database"]
        assert (
            not behind.ok
            and behind.detail == f"reachable, at revision 0001; this version needs {head_revision()}"
        )
        await upgrade(engine)
    finally:
        await engine.dispose()
    assert (await _diagnose(stage, **where))["Database"].detail == (
        f"reachable, at revision {head_revision()} (the latest)"
    )


async def test_a_database_out_of_reach(stage: Stage) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql+asyncpg://app:very-secret@127.0.0.1:{port}/mp"
    database = _failed(await _diagnose(stage, database_url=DatabaseUrl(url)))["Database"]
    assert database.detail.startswith(
        f"cannot open the database postgresql+asyncpg://app:***@127.0.0.1:{port}/mp"
    )
    assert database.fix.startswith("check MPSLACK_DATABASE_URL")
    assert "very-secret" not in database.line()


# --- the command -------------------------------------------------------------------------------------


async def test_the_command_prints_a_line_per_check_and_fails_when_one_does(
    stage: Stage, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    settings = stage.app.settings
    environment = {
        "MARKETPLACE_URL": str(settings.marketplace_url),
        "MARKETPLACE_TOKEN": "not-a-real-token",
        "MARKETPLACE_WEBHOOK_SIGNING_KEY": WEBHOOK_KEY,
        "SLACK_BOT_TOKEN": settings.slack_bot_token.get_secret_value(),
        "SLACK_SIGNING_SECRET": "s",
        "SLACK_API_URL": str(settings.slack_api_url),
        "MPSLACK_DEFAULT_CHANNEL": settings.default_channel,
        "MPSLACK_ENCRYPTION_KEYS": settings.encryption_keys[0].get_secret_value(),
        "MPSLACK_DATABASE_URL": settings.database_url.get_secret_value(),
        "MPSLACK_LOG_LEVEL": "ERROR",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # no stray .env
    # The command runs its own event loop, so it runs on a thread beside this test's.
    code = await asyncio.to_thread(main, ["doctor", "--webhook-url", _webhook_url(stage), "--timeout", "5"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 1
    assert len(lines) == 10 and all(line[:2] in ("✓ ", "✗ ") for line in lines)
    assert "✗ Marketplace token: the Marketplace refused MARKETPLACE_TOKEN (401) — fix: " in "\n".join(lines)
    assert "not-a-real-token" not in "\n".join(lines)


async def test_services_out_of_reach_are_one_line_each(stage: Stage) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    findings = await _diagnose(stage, slack_api_url=f"{dead}/api/", marketplace_url=f"{dead}/marketplace")
    failed = _failed(findings)
    assert set(failed) == set(findings) - {"Database"}
    assert failed["Slack token"].detail.startswith("cannot reach Slack (")
    assert failed["Slack token"].fix == "check SLACK_API_URL (unset for slack.com) and the network"
    assert failed["Marketplace token"].detail.startswith("cannot reach the Marketplace (")
    assert failed["Marketplace token"].fix == "check MARKETPLACE_URL and the network"


async def test_an_app_that_takes_unsigned_webhooks(stage: Stage) -> None:
    webhook = _failed(await _diagnose(stage, webhook_signing_key=None, webhook_insecure=True))[
        "Marketplace webhook"
    ]
    assert webhook.detail == "the app accepts unsigned webhooks (MARKETPLACE_WEBHOOK_INSECURE)"
    assert webhook.fix.startswith(
        "set MARKETPLACE_WEBHOOK_SIGNING_KEY, then run `marketplace-slack register-webhook"
    )
