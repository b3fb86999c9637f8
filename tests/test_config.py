"""Settings: validated once, and every problem told in one line naming the variable, never a secret."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from marketplace_slack.cli import main
from marketplace_slack.config import ConfigError, environment_names, load_settings, unknown_variables

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
    for name in [
        *GOOD,
        "SLACK_APP_TOKEN",
        "MARKETPLACE_WEBHOOK_INSECURE",
        "MPSLACK_DATABASE_URL",
        "MPSLACK_INSTANCE",
        "MPSLACK_SHUTDOWN_GRACE_SECONDS",
        "MPSLACK_METRICS_PORT",
        "MPSLACK_METRICS_HOST",
    ]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def _load(**values: str) -> object:
    return load_settings(_env_file=None, **values)


def test_good_settings_load_and_keep_secrets_secret() -> None:
    settings = _load(**GOOD)
    assert len(settings.encryption_keys) == 2  # type: ignore[attr-defined]
    assert "very-secret" not in repr(settings)


def test_the_instance_is_the_hostname_and_the_grace_period_twenty_seconds_unless_set() -> None:
    settings = _load(**GOOD)
    assert settings.instance == socket.gethostname()  # type: ignore[attr-defined]
    assert settings.shutdown_grace_seconds == 20  # type: ignore[attr-defined]
    chosen = _load(**GOOD, MPSLACK_INSTANCE="web-0", MPSLACK_SHUTDOWN_GRACE_SECONDS="2.5")
    assert chosen.instance == "web-0"  # type: ignore[attr-defined]
    assert chosen.shutdown_grace_seconds == 2.5  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("MPSLACK_INSTANCE", "web/0", "MPSLACK_INSTANCE is invalid (it contains '/'"),
        ("MPSLACK_INSTANCE", "", "MPSLACK_INSTANCE is invalid"),
        ("MPSLACK_SHUTDOWN_GRACE_SECONDS", "-1", "MPSLACK_SHUTDOWN_GRACE_SECONDS is invalid"),
        ("MPSLACK_METRICS_PORT", "70000", "MPSLACK_METRICS_PORT is invalid"),
        ("MPSLACK_SHUTDOWN_GRACE_SECONDS", "soon", "MPSLACK_SHUTDOWN_GRACE_SECONDS is invalid"),
    ],
)
def test_an_instance_name_or_grace_period_that_cannot_work_is_refused(
    variable: str, value: str, says: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(**GOOD, **{variable: value})
    (line,) = str(caught.value).splitlines()
    assert line.startswith(says)
    assert "expected " in line


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


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("SLACK_BOT_TOKEN", "xoxp-1-very-secret", "it does not start with xoxb-; it is a user token"),
        ("SLACK_BOT_TOKEN", "very-secret", "it does not start with xoxb-"),
        ("SLACK_APP_TOKEN", "xoxb-1-very-secret", "it does not start with xapp-; it is a bot token"),
    ],
)
def test_a_token_of_the_wrong_kind_is_refused_by_its_prefix(variable: str, value: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(**{**GOOD, variable: value})
    (line,) = str(caught.value).splitlines()
    assert line.startswith(f"{variable} is invalid ({says}): expected ")
    assert "OAuth" in line or "Basic Information" in line  # where to find the right one
    assert "very-secret" not in line


@pytest.mark.parametrize("name", ["#stewards", "stewards", "data-stewards"])
def test_a_channel_name_where_an_id_is_needed_is_refused_with_the_fix(name: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(**{**GOOD, "MPSLACK_DEFAULT_CHANNEL": name})
    (line,) = str(caught.value).splitlines()
    assert line.startswith(f"MPSLACK_DEFAULT_CHANNEL is invalid ({name!r} is a name, not a channel id")
    assert "use the channel's id, e.g. C0123" in line


def test_channel_ids_of_every_kind_are_accepted() -> None:
    for channel in ("C0STEWARDS", "G0SECURITY", "C1", "D0123ABC"):
        assert _load(**{**GOOD, "MPSLACK_DEFAULT_CHANNEL": channel}).default_channel == channel  # type: ignore[attr-defined]


@pytest.mark.parametrize("url", ["https://na.api.immutacloud.com", "https://na.api.immutacloud.com/api/"])
def test_a_marketplace_url_without_its_marketplace_path_is_refused(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(**{**GOOD, "MARKETPLACE_URL": url})
    (line,) = str(caught.value).splitlines()
    assert line.startswith("MARKETPLACE_URL is invalid (its path does not end with /marketplace)")
    assert "e.g. https://na.api.immutacloud.com/marketplace" in line
    assert _load(**{**GOOD, "MARKETPLACE_URL": "https://na.api.immutacloud.com/marketplace/"})


@pytest.mark.parametrize(
    "variable", ["SLACK_SIGNING_SECRET", "MARKETPLACE_WEBHOOK_SIGNING_KEY", "MARKETPLACE_TOKEN"]
)
def test_an_empty_secret_is_refused_rather_than_taken_for_one(variable: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(**{**GOOD, variable: "  "})
    (line,) = str(caught.value).splitlines()
    assert line.startswith(f"{variable} is invalid (it is empty): expected ")


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgres://app:pw@db.internal/marketplace", "postgresql+asyncpg://app:pw@db.internal/marketplace"),
        ("postgresql://app@db.internal:6432/mp", "postgresql+asyncpg://app@db.internal:6432/mp"),
        ("postgresql+asyncpg://app@db/mp", "postgresql+asyncpg://app@db/mp"),
        ("sqlite+aiosqlite:///./data/app.db", "sqlite+aiosqlite:///./data/app.db"),
    ],
)
def test_postgres_urls_as_providers_hand_them_out_are_normalised(given: str, used: str) -> None:
    assert _load(**GOOD, MPSLACK_DATABASE_URL=given).database_url.get_secret_value() == used  # type: ignore[attr-defined]


def test_the_database_url_is_a_secret_that_shows_itself_without_its_password() -> None:
    settings = _load(**GOOD, MPSLACK_DATABASE_URL="postgres://app:very-secret@db.internal/marketplace")
    shown = (repr(settings), str(settings), repr(settings.database_url), str(settings.database_url))  # type: ignore[attr-defined]
    assert all("very-secret" not in text for text in shown)
    assert str(settings.database_url) == "postgresql+asyncpg://app:***@db.internal/marketplace"  # type: ignore[attr-defined]
    assert "very-secret" not in settings.model_dump_json()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("mysql://app:very-secret@db/mp", "mysql:// is not a supported database"),
        ("sqlite:///./app.db", "sqlite:// is not a supported database"),
        ("postgresql+psycopg2://app:very-secret@db/mp", "postgresql+psycopg2:// is not a supported database"),
        ("not a url at all", "it is not a database URL"),
    ],
)
def test_a_database_url_the_app_cannot_use_is_one_line_without_its_password(given: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(**GOOD, MPSLACK_DATABASE_URL=given)
    (line,) = str(caught.value).splitlines()
    assert line.startswith(f"MPSLACK_DATABASE_URL is invalid ({says}): expected sqlite+aiosqlite:///")
    assert "very-secret" not in line


def test_unknown_mpslack_variables_are_warned_with_the_nearest_known_name() -> None:
    warnings = unknown_variables(["MPSLACK_DEFUALT_CHANNEL", "mpslack_databse_url", "MPSLACK_PORT", "PATH"])
    assert warnings == [
        "MPSLACK_DATABSE_URL is not a setting of this app and is ignored; did you mean MPSLACK_DATABASE_URL?",
        "MPSLACK_DEFUALT_CHANNEL is not a setting of this app and is ignored; "
        "did you mean MPSLACK_DEFAULT_CHANNEL?",
    ]
    (far,) = unknown_variables(["MPSLACK_XYZZY"])
    assert "the app reads MPSLACK_" in far
    assert "MPSLACK_CONFIG_FILE, " in far


def test_the_dotenv_file_counts_as_the_environment(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("MPSLACK_TICK_SECOND=5\nexport SLACK_BOT_TOKEN=xoxb-1\n")
    names = environment_names(str(tmp_path / ".env"))
    assert "SLACK_BOT_TOKEN" in {n.upper() for n in names}
    assert [w for w in unknown_variables(names) if "TICK" in w] == [
        "MPSLACK_TICK_SECOND is not a setting of this app and is ignored; did you mean MPSLACK_TICK_SECONDS?"
    ]


# --- the command line: what `check-config` and `serve` print --------------------------------------


def _environment(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for name, value in {**GOOD, "MPSLACK_LOG_LEVEL": "ERROR", **values}.items():
        monkeypatch.setenv(name, value)


def test_check_config_refuses_one_line_per_problem_and_warns_of_unknown_variables(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _environment(monkeypatch, MPSLACK_DEFAULT_CHANNEL="#stewards", SLACK_BOT_TOKEN="xoxp-very-secret")
    monkeypatch.setenv("MPSLACK_DEFAULT_CHANEL", "C0STEWARDS")
    assert main(["check-config"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == (
        "marketplace-slack: warning: MPSLACK_DEFAULT_CHANEL is not a setting of this app and is ignored; "
        "did you mean MPSLACK_DEFAULT_CHANNEL?"
    )
    assert err[1] == "marketplace-slack: configuration error:"
    assert [line.split(" ")[0] for line in err[2:]] == ["SLACK_BOT_TOKEN", "MPSLACK_DEFAULT_CHANNEL"]
    assert "very-secret" not in "\n".join(err)


def test_check_config_passes_with_only_a_warning(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _environment(monkeypatch, MPSLACK_DATABASE_URL="postgres://app@db.internal/mp")
    monkeypatch.setenv("MPSLACK_PROT", "3000")
    assert main(["check-config"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("Configuration OK")
    assert "MPSLACK_PROT is not a setting of this app and is ignored; did you mean MPSLACK_PORT?" in err


def test_serve_says_in_one_line_that_the_database_is_unreachable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    _environment(monkeypatch, MPSLACK_DATABASE_URL=f"postgresql://app:very-secret@127.0.0.1:{port}/mp")
    assert main(["serve"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(
        f"marketplace-slack: cannot open the database postgresql+asyncpg://app:***@127.0.0.1:{port}/mp ("
    )
    assert line.endswith("check MPSLACK_DATABASE_URL, and that the database is up and reachable from here")
    assert "very-secret" not in line


def test_serve_says_in_one_line_that_the_port_is_taken(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        _environment(
            monkeypatch,
            MPSLACK_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'app.db'}",
            MPSLACK_HOST="127.0.0.1",
            MPSLACK_PORT=str(port),
        )
        assert main(["serve"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line == (
        f"marketplace-slack: port {port} on 127.0.0.1 is already in use: stop what listens there "
        "or set MPSLACK_PORT to a free port"
    )


def test_metrics_share_the_main_port_unless_one_of_their_own_is_set() -> None:
    settings = _load(**GOOD)
    assert (settings.metrics_port, settings.metrics_host) == (None, None)  # type: ignore[attr-defined]
    own = _load(**GOOD, MPSLACK_METRICS_PORT="9464", MPSLACK_METRICS_HOST="127.0.0.1")
    assert (own.metrics_port, own.metrics_host) == (9464, "127.0.0.1")  # type: ignore[attr-defined]


def test_serve_says_in_one_line_that_the_metrics_port_is_taken(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        _environment(
            monkeypatch,
            MPSLACK_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'app.db'}",
            MPSLACK_HOST="127.0.0.1",
            MPSLACK_PORT="0",
            MPSLACK_METRICS_PORT=str(port),
        )
        assert main(["serve"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line == (
        f"marketplace-slack: port {port} on 127.0.0.1 is already in use: stop what listens there "
        "or set MPSLACK_METRICS_PORT to a free port"
    )


def test_background_limits_have_defaults_and_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MPSLACK_BACKGROUND_CONCURRENCY", "MPSLACK_BACKGROUND_QUEUE"):
        monkeypatch.delenv(name, raising=False)
    settings = _load(**GOOD)
    assert (settings.background_concurrency, settings.background_queue) == (16, 64)  # type: ignore[attr-defined]
    chosen = _load(**GOOD, MPSLACK_BACKGROUND_CONCURRENCY="4", MPSLACK_BACKGROUND_QUEUE="0")
    assert (chosen.background_concurrency, chosen.background_queue) == (4, 0)  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="MPSLACK_BACKGROUND_CONCURRENCY is invalid"):
        _load(**GOOD, MPSLACK_BACKGROUND_CONCURRENCY="0")
