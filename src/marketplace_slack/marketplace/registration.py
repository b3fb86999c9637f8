"""`marketplace-slack register-webhook`: point the Marketplace's webhooks at this app, exactly once."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import SecretStr

from marketplace_slack.marketplace import models as wire
from marketplace_slack.marketplace.client import MarketplaceClient


@dataclass(frozen=True, slots=True)
class Registration:
    webhook_id: str
    created: bool  # False: a webhook for this URL existed and was updated in place
    test_status: str
    test_http_status: int
    test_error: str | None

    @property
    def test_passed(self) -> bool:
        return self.test_status in ("SUCCESS", "1")

    def describe(self) -> str:
        action = "registered" if self.created else "already registered; signing key updated"
        test = (
            "passed"
            if self.test_passed
            else f"FAILED (HTTP {self.test_http_status}: {self.test_error or 'no message'})"
        )
        return f"Webhook {self.webhook_id} {action}. Test delivery {test}."


async def registered_webhook(client: MarketplaceClient, url: str) -> wire.Webhook | None:
    """The webhook registered for `url` (a trailing slash aside), if any."""
    return next((w for w in await client.get_webhooks() if w.url.rstrip("/") == url.rstrip("/")), None)


async def register_webhook(
    client: MarketplaceClient, url: str, signing_key: SecretStr, *, verify_tls: bool = True
) -> Registration:
    """Create the webhook for `url`, or update the one that exists, then run a test delivery."""
    key = signing_key.get_secret_value()
    existing = await registered_webhook(client, url)
    if existing is None:
        webhook = await client.create_webhook(
            wire.CreateWebhookRequest(url=url, verify_tls=verify_tls, signing_key=key)
        )
        created = True
    else:
        # The stored key is write-only (shown as a boolean), so set it again rather than trust it matches.
        webhook = await client.update_webhook(
            existing.id, wire.UpdateWebhookRequest(url=url, verify_tls=verify_tls, signing_key=key)
        )
        created = False
    result = await client.test_webhook(webhook.id)
    return Registration(
        webhook_id=webhook.id,
        created=created,
        test_status=str(getattr(result.status, "value", result.status)),
        test_http_status=result.http_status_code,
        test_error=result.error_message,
    )
