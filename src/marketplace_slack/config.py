"""Settings, read from the environment (and `.env`) and validated once at start-up.

A missing or malformed setting stops start-up with one line per problem naming the environment
variable and what it expects; secrets are `SecretStr` so they never print.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from cryptography.fernet import Fernet
from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class ConfigError(Exception):
    """Start-up configuration is unusable; the message is safe to print (it never holds a secret)."""


# What each variable expects, for the one-line errors. Keys are field names.
_EXPECTS: dict[str, str] = {
    "marketplace_url": "the Marketplace API base URL including /marketplace, e.g. https://na.api.immutacloud.com/marketplace",
    "marketplace_token": "the app's own Marketplace personal access token (reads, registers webhooks)",
    "slack_bot_token": "the Slack bot token (xoxb-...)",
    "slack_signing_secret": "the Slack app's signing secret (HTTP mode)",
    "encryption_keys": "one or more comma-separated Fernet keys (make one with `marketplace-slack gen-key`)",
    "default_channel": "a Slack channel id for request cards, e.g. C0123456789",
    "webhook_signing_key": "the key the Marketplace signs webhooks with",
    "port": "a TCP port number",
    "reconcile_seconds": "a number of seconds (at least 30)",
    "tick_seconds": "a number of seconds (5 to 3600)",
    "channel_backlog": "a number of new cards (at least 1)",
    "config_file": "the path of the YAML configuration file (routes, reminders, digests, expiry)",
}


class Settings(BaseSettings):
    """Everything the app reads from its environment. Field names map to the variables below."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

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
    default_channel: str = Field(alias="MPSLACK_DEFAULT_CHANNEL", min_length=1)
    config_file: Path | None = Field(default=None, alias="MPSLACK_CONFIG_FILE")
    routes_file: Path | None = Field(default=None, alias="MPSLACK_ROUTES_FILE")  # the old name of the same

    # The app
    database_url: str = Field(
        default="sqlite+aiosqlite:///./marketplace-slack.db", alias="MPSLACK_DATABASE_URL"
    )
    database_schema: str | None = Field(default=None, alias="MPSLACK_DATABASE_SCHEMA")  # PostgreSQL only
    encryption_keys: Annotated[list[SecretStr], NoDecode] = Field(alias="MPSLACK_ENCRYPTION_KEYS")
    host: str = Field(default="0.0.0.0", alias="MPSLACK_HOST")  # noqa: S104 - a server in a container
    port: int = Field(default=3000, alias="MPSLACK_PORT", ge=0, le=65535)  # 0: any free port
    reconcile_seconds: int = Field(default=300, alias="MPSLACK_RECONCILE_SECONDS", ge=30)
    # How often due reminders and expiry notices are looked for; digests also have their own cron.
    tick_seconds: int = Field(default=60, alias="MPSLACK_TICK_SECONDS", ge=5, le=3600)
    # Slack posts about one message a second per channel: past this many new cards waiting for one
    # channel, a summary there says how many more are coming (every card is still posted).
    channel_backlog: int = Field(default=50, alias="MPSLACK_CHANNEL_BACKLOG", ge=1)
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


def load_settings(**overrides: Any) -> Settings:
    """Read and validate settings, or raise `ConfigError` with one line per problem."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(describe_errors(exc)) from None


def describe_errors(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors(include_input=False, include_url=False):
        location = str(error["loc"][0]) if error["loc"] else ""
        variable = _variable_for(location)
        field_name = _field_for(variable)
        if not variable:  # a cross-field rule: its message already names the variables
            lines.append(str(error["msg"]).removeprefix("Value error, "))
            continue
        problem = "is missing" if error["type"] == "missing" else f"is invalid ({error['msg']})"
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
