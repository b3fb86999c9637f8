"""Settings: validated once, and every problem told in one line naming the variable, never a secret."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from marketplace_slack.config import ConfigError, load_settings

KEY = Fernet.generate_key().decode()
GOOD = {
    "MARKETPLACE_URL": "https://na.api.immutacloud.com/marketplace",
    "MARKETPLACE_TOKEN": "tok-very-secret",
    "MARKETPLACE_WEBHOOK_SIGNING_KEY": "hook-very-secret",
    "SLACK_BOT_TOKEN": "xoxb-very-secret",
    "SLACK_SIGNING_SECRET": "sign-very-secret",
    "MPSLACK_DEFAULT_CHANNEL": "C0STEWARDS",
    "MPSLACK_ENCRYPTION_KEYS": f"{KEY}, {Fernet.generate_key().decode()}",
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    for name in [*GOOD, "SLACK_APP_TOKEN", "MARKETPLACE_WEBHOOK_INSECURE"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def _load(**values: str) -> object:
    return load_settings(_env_file=None, **values)


def test_good_settings_load_and_keep_secrets_secret() -> None:
    settings = _load(**GOOD)
    assert len(settings.encryption_keys) == 2  # type: ignore[attr-defined]
    assert "very-secret" not in repr(settings)


def test_missing_settings_are_named_one_per_line_with_what_they_expect() -> None:
    with pytest.raises(ConfigError) as caught:
        _load(**{k: v for k, v in GOOD.items() if k not in ("MARKETPLACE_URL", "SLACK_BOT_TOKEN")})
    lines = str(caught.value).splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("MARKETPLACE_URL is missing: expected the Marketplace API base URL")
    assert lines[1].startswith("SLACK_BOT_TOKEN is missing: expected the Slack bot token")


def test_malformed_values_are_refused_without_echoing_them() -> None:
    with pytest.raises(ConfigError) as caught:
        _load(**{**GOOD, "MARKETPLACE_URL": "not a url", "MPSLACK_ENCRYPTION_KEYS": "hunter2-very-secret"})
    text = str(caught.value)
    assert "MARKETPLACE_URL is invalid" in text
    assert "MPSLACK_ENCRYPTION_KEYS is invalid" in text and "key 1 is not a Fernet key" in text
    assert "very-secret" not in text


def test_webhooks_must_be_signed_unless_explicitly_insecure() -> None:
    unsigned = {k: v for k, v in GOOD.items() if k != "MARKETPLACE_WEBHOOK_SIGNING_KEY"}
    with pytest.raises(ConfigError, match="MARKETPLACE_WEBHOOK_SIGNING_KEY is required"):
        _load(**unsigned)
    assert _load(**unsigned, MARKETPLACE_WEBHOOK_INSECURE="true").webhook_insecure  # type: ignore[attr-defined]


def test_http_mode_needs_a_signing_secret_socket_mode_an_app_token() -> None:
    without = {k: v for k, v in GOOD.items() if k != "SLACK_SIGNING_SECRET"}
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET is required"):
        _load(**without)
    assert _load(**without, SLACK_APP_TOKEN="xapp-1").socket_mode  # type: ignore[attr-defined]
