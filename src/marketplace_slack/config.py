"""Settings, read from the environment (and `.env`) and validated once at start-up.

A missing or malformed setting stops start-up with one line per problem naming the environment
variable and what it expects; secrets are `SecretStr` so they never print.
"""

from __future__ import annotations

import difflib
import os
import socket
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from cryptography.fernet import Fernet
from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, DotEnvSettingsSource, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from marketplace_slack.config_file import channel_id
from marketplace_slack.infra.owners import SEPARATOR


class ConfigError(Exception):
    """Start-up configuration is unusable; the message is safe to print (it never holds a secret)."""


# What each variable expects, for the one-line errors. Keys are field names.
_EXPECTS: dict[str, str] = {
    "marketplace_url": "the Marketplace API base URL including /marketplace, e.g. https://na.api.immutacloud.com/marketplace",
    "slack_bot_token": "the Slack bot token (xoxb-...), the Bot User OAuth Token on OAuth & Permissions",
    "slack_signing_secret": "the Slack app's signing secret (HTTP mode), on its Basic Information page",
    "slack_app_token": "an app-level token (xapp-...) with connections:write, from Basic Information",
    "marketplace_token": "the app's own Marketplace personal access token (reads, registers webhooks)",
    "database_url": "sqlite+aiosqlite:///path/to/file.db or postgresql+asyncpg://user:password@host/database",
    "public_url": "the app's public base URL, e.g. https://marketplace-slack.example.com",
    "encryption_keys": "one or more comma-separated Fernet keys (make one with `marketplace-slack gen-key`)",
    "default_channel": "the id of the Slack channel for request cards (its details, About, at the bottom)",
    "webhook_signing_key": "the key the Marketplace signs webhooks with",
    "port": "a TCP port number",
    "metrics_port": "a TCP port number for /metrics alone, or unset to serve it on MPSLACK_PORT",
    "reconcile_seconds": "a number of seconds (at least 30)",
    "tick_seconds": "a number of seconds (5 to 3600)",
    "channel_backlog": "a number of new cards (at least 1)",
    "shutdown_grace_seconds": "a number of seconds (0 to 3600)",
    "background_concurrency": "a number of tasks (1 to 10000)",
    "background_queue": "a number of tasks (0 to 100000)",
    "instance": "a name for this replica, stable across restarts and its own (a pod name), without '/'",
    "config_file": "the path of the YAML configuration file (routes, reminders, digests, expiry)",
}


ENV_FILE: Final = ".env"
PREFIX: Final = "MPSLACK_"  # the app's own variables; MARKETPLACE_ and SLACK_ ones are shared with others

_TOKEN_PREFIXES: Final = {"slack_bot_token": "xoxb-", "slack_app_token": "xapp-"}
# What a token of the wrong kind is, told by its prefix (which is not the secret part).
_TOKEN_KINDS: Final = {
    "xoxb-": "a bot token",
    "xoxp-": "a user token",
    "xoxe-": "a refresh token",
    "xapp-": "an app-level token",
}
_DRIVERS: Final = {"sqlite": "aiosqlite", "postgresql": "asyncpg"}


def _hostname() -> str:
    # A container's hostname is its pod or container name: unique among live replicas, and a
    # Kubernetes StatefulSet keeps it across restarts.
    return (socket.gethostname().replace(SEPARATOR, "-") or "marketplace-slack")[:200]


class DatabaseUrl(SecretStr):
    """`MPSLACK_DATABASE_URL`: a secret (it may hold a password) that shows itself without the password.

    `repr`, `str` and logs see `postgresql+asyncpg://app:***@db/marketplace`; only `get_secret_value()`
    gives the URL the driver needs.
    """

    def _display(self) -> str:
        try:
            return make_url(self.get_secret_value()).render_as_string(hide_password=True)
        except ArgumentError:
            return "**********"


class Settings(BaseSettings):
    """Everything the app reads from its environment. Field names map to the variables below."""

    model_config = SettingsConfigDict(env_file=ENV_FILE, extra="ignore", populate_by_name=True)

    # Marketplace
    marketplace_url: AnyHttpUrl = Field(alias="MARKETPLACE_URL")
    marketplace_token: SecretStr = Field(alias="MARKETPLACE_TOKEN")
    marketplace_app_url: AnyHttpUrl = Field(
        default=AnyHttpUrl("https://app.immutacloud.com"), alias="MARKETPLACE_APP_URL"
    )
    marketplace_account_id: str | None = Field(default=None, alias="MARKETPLACE_ACCOUNT_ID")
    webhook_signing_key: SecretStr | None = Field(default=None, alias="MARKETPLACE_WEBHOOK_SIGNING_KEY")
    webhook_insecure: bool = Field(default=False, alias="MARKETPLACE_WEBHOOK_INSECURE")
    webhook_path: str = Field(default="/marketplace/webhook", alias="MARKETPLACE_WEBHOOK_PATH")

    # Slack
    slack_bot_token: SecretStr = Field(alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, alias="SLACK_APP_TOKEN")
    slack_api_url: AnyHttpUrl | None = Field(default=None, alias="SLACK_API_URL")
    default_channel: Annotated[str, AfterValidator(channel_id)] = Field(
        alias="MPSLACK_DEFAULT_CHANNEL", min_length=1
    )
    config_file: Path | None = Field(default=None, alias="MPSLACK_CONFIG_FILE")
    routes_file: Path | None = Field(default=None, alias="MPSLACK_ROUTES_FILE")  # the old name of the same

    # The app
    database_url: DatabaseUrl = Field(
        default=DatabaseUrl("sqlite+aiosqlite:///./marketplace-slack.db"), alias="MPSLACK_DATABASE_URL"
    )
    database_schema: str | None = Field(default=None, alias="MPSLACK_DATABASE_SCHEMA")  # PostgreSQL only
    encryption_keys: Annotated[list[SecretStr], NoDecode] = Field(alias="MPSLACK_ENCRYPTION_KEYS")
    # Where the Marketplace reaches this app: `doctor` looks for the webhook registered at it.
    public_url: AnyHttpUrl | None = Field(default=None, alias="MPSLACK_PUBLIC_URL")
    host: str = Field(default="0.0.0.0", alias="MPSLACK_HOST")  # noqa: S104 - a server in a container
    port: int = Field(default=3000, alias="MPSLACK_PORT", ge=0, le=65535)  # 0: any free port
    # /metrics on a port of its own, which only the scraper is let reach (and then not on MPSLACK_PORT,
    # which is exposed to Slack and the Marketplace); unset, it is served on MPSLACK_PORT.
    metrics_port: int | None = Field(default=None, alias="MPSLACK_METRICS_PORT", ge=0, le=65535)
    metrics_host: str | None = Field(default=None, alias="MPSLACK_METRICS_HOST")  # default: MPSLACK_HOST
    reconcile_seconds: int = Field(default=300, alias="MPSLACK_RECONCILE_SECONDS", ge=30)
    # How often due reminders and expiry notices are looked for; digests also have their own cron.
    tick_seconds: int = Field(default=60, alias="MPSLACK_TICK_SECONDS", ge=5, le=3600)
    # Slack posts about one message a second per channel: past this many new cards waiting for one
    # channel, a summary there says how many more are coming (every card is still posted).
    channel_backlog: int = Field(default=50, alias="MPSLACK_CHANNEL_BACKLOG", ge=1)
    # On SIGTERM or SIGINT, how long work in flight may go on before it is cancelled. Keep it below
    # the platform's own patience (Kubernetes' terminationGracePeriodSeconds, `docker stop -t`).
    shutdown_grace_seconds: float = Field(default=20, alias="MPSLACK_SHUTDOWN_GRACE_SECONDS", ge=0, le=3600)
    # Names this replica in the claims it holds; a restart under the same name resolves its own
    # earlier claims at once (infra/owners.py), so two live processes must never share one.
    instance: str = Field(default_factory=_hostname, alias="MPSLACK_INSTANCE", min_length=1, max_length=200)
    # What people hand over (clicks, commands, modals) runs at most this many at once, and at most
    # MPSLACK_BACKGROUND_QUEUE more wait their turn; past that a click is answered "busy, try again in
    # a minute" instead of queued, so the acks of the next clicks never wait behind a pile of work.
    # At a healthy Marketplace's pace (a click's work in about half a second) 16 turns clear 64 waiting
    # clicks in about 2 s, inside the 3 s a click's trigger id lasts to open its modal; a longer queue
    # would mostly hold clicks whose modal can no longer open.
    background_concurrency: int = Field(default=16, alias="MPSLACK_BACKGROUND_CONCURRENCY", ge=1, le=10000)
    background_queue: int = Field(default=64, alias="MPSLACK_BACKGROUND_QUEUE", ge=0, le=100000)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(default="INFO", alias="MPSLACK_LOG_LEVEL")
    log_format: Literal["json", "console"] = Field(default="json", alias="MPSLACK_LOG_FORMAT")

    @field_validator("encryption_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("encryption_keys")
    @classmethod
    def _keys_valid(cls, value: list[SecretStr]) -> list[SecretStr]:
        if not value:
            raise ValueError("at least one key is required")
        for number, key in enumerate(value, start=1):
            try:
                Fernet(key.get_secret_value())
            except ValueError:
                # Which key, never what it is: the message is printed.
                raise ValueError(
                    f"key {number} is not a Fernet key (32 url-safe base64-encoded bytes)"
                ) from None
        return value

    @field_validator("instance")
    @classmethod
    def _instance_name(cls, value: str) -> str:
        if SEPARATOR in value or value != value.strip():
            raise ValueError(f"it contains {SEPARATOR!r} or surrounding spaces")
        return value

    @field_validator("marketplace_url")
    @classmethod
    def _api_base(cls, value: AnyHttpUrl) -> AnyHttpUrl:
        # Without it every call 404s: the API lives under /marketplace on the tenant's host.
        if not (value.path or "").rstrip("/").endswith("/marketplace"):
            raise ValueError("its path does not end with /marketplace")
        return value

    @field_validator("slack_bot_token", "slack_app_token")
    @classmethod
    def _token_kind(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is None:
            return value
        wanted = _TOKEN_PREFIXES[str(info.field_name)]
        token = value.get_secret_value().strip()
        if not token.startswith(wanted):
            seen = next((kind for prefix, kind in _TOKEN_KINDS.items() if token.startswith(prefix)), None)
            raise ValueError(f"it does not start with {wanted}" + (f"; it is {seen}" if seen else ""))
        return value

    @field_validator("marketplace_token", "slack_signing_secret", "webhook_signing_key")
    @classmethod
    def _not_blank(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            raise ValueError("it is empty")
        return value

    @field_validator("database_url", mode="before")
    @classmethod
    def _database(cls, value: Any) -> Any:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if not isinstance(value, str):
            return value  # pydantic says what type it wants
        scheme, separator, rest = value.partition("://")
        if scheme in ("postgres", "postgresql"):
            # What hosting providers hand out; the app talks to PostgreSQL through asyncpg.
            value = f"postgresql+asyncpg://{rest}"
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError("it is not a database URL") from None
        if not separator or _DRIVERS.get(url.get_backend_name()) != url.get_driver_name():
            raise ValueError(f"{scheme}:// is not a supported database")
        return value

    @model_validator(mode="after")
    def _modes(self) -> Settings:
        if self.slack_app_token is None and self.slack_signing_secret is None:
            raise ValueError(
                "SLACK_SIGNING_SECRET is required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)"
            )
        if self.webhook_signing_key is None and not self.webhook_insecure:
            raise ValueError(
                "MARKETPLACE_WEBHOOK_SIGNING_KEY is required "
                "(or set MARKETPLACE_WEBHOOK_INSECURE=true to accept unsigned webhooks, never in production)"
            )
        if self.config_file and self.routes_file and self.config_file != self.routes_file:
            raise ValueError(
                "MPSLACK_CONFIG_FILE and MPSLACK_ROUTES_FILE (its old name) name different files; set one"
            )
        return self

    @property
    def config_path(self) -> Path | None:
        """The YAML configuration file, under either of its names."""
        return self.config_file or self.routes_file

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    def secret_values(self) -> list[SecretStr]:
        """Every secret in the settings, for the logs to redact (the database password included)."""
        password = make_url(self.database_url.get_secret_value()).password
        held = [
            self.marketplace_token,
            self.webhook_signing_key,
            self.slack_bot_token,
            self.slack_signing_secret,
            self.slack_app_token,
            *self.encryption_keys,
            SecretStr(str(password)) if password else None,
        ]
        return [secret for secret in held if secret is not None]


def load_settings(**overrides: Any) -> Settings:
    """Read and validate settings, or raise `ConfigError` with one line per problem."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(describe_errors(exc)) from None


def unknown_variables(names: Iterable[str]) -> list[str]:
    """A warning for each `MPSLACK_` variable the app does not read, with the nearest one it does."""
    known = sorted(f.alias for f in Settings.model_fields.values() if f.alias and f.alias.startswith(PREFIX))
    # Compared without the prefix, which every name shares and would make any two look alike.
    suffixes = {name.removeprefix(PREFIX): name for name in known}
    warnings = []
    for name in sorted({n.upper() for n in names if n.upper().startswith(PREFIX)} - set(known)):
        nearest = difflib.get_close_matches(name.removeprefix(PREFIX), suffixes, n=1, cutoff=0.6)
        hint = f"; did you mean {suffixes[nearest[0]]}?" if nearest else f"; the app reads {', '.join(known)}"
        warnings.append(f"{name} is not a setting of this app and is ignored{hint}")
    return warnings


def environment_names(env_file: str | None = ENV_FILE) -> set[str]:
    """The names set in the environment and in the `.env` file settings are read from."""
    names = set(os.environ)
    if env_file and Path(env_file).is_file():
        names |= set(DotEnvSettingsSource(Settings, env_file=env_file).env_vars)
    return names


def describe_errors(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors(include_input=False, include_url=False):
        location = str(error["loc"][0]) if error["loc"] else ""
        variable = _variable_for(location)
        field_name = _field_for(variable)
        if not variable:  # a cross-field rule: its message already names the variables
            lines.append(str(error["msg"]).removeprefix("Value error, "))
            continue
        message = str(error["msg"]).removeprefix("Value error, ")
        problem = "is missing" if error["type"] == "missing" else f"is invalid ({message})"
        expects = _EXPECTS.get(field_name)
        lines.append(f"{variable} {problem}" + (f": expected {expects}" if expects else ""))
    return "\n".join(lines)


def _field_for(variable: str) -> str:
    return next((name for name, f in Settings.model_fields.items() if f.alias == variable), variable)


def _variable_for(name: str) -> str:
    field = Settings.model_fields.get(name)
    if field is not None and field.alias:
        return field.alias
    if name in {f.alias for f in Settings.model_fields.values()}:
        return name
    return ""
