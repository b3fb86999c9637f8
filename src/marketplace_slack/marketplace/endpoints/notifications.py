"""Notification preferences and webhooks."""

from __future__ import annotations

from collections.abc import AsyncIterator

from marketplace_slack.marketplace.models import (
    CreateWebhookRequest,
    OffsetPage,
    UpdateUserPreferencesRequest,
    UpdateUserPreferencesResponse,
    UpdateWebhookRequest,
    UserPreference,
    Webhook,
    WebhookDelivery,
    WebhookTestResult,
)
from marketplace_slack.marketplace.operations import (
    CREATE_WEBHOOK,
    DELETE_WEBHOOK,
    GET_USER_PREFERENCES,
    GET_WEBHOOK,
    GET_WEBHOOK_HISTORY,
    GET_WEBHOOKS,
    TEST_WEBHOOK,
    TEST_WEBHOOK_CONFIG,
    UPDATE_USER_PREFERENCES,
    UPDATE_WEBHOOK,
)
from marketplace_slack.marketplace.pagination import iter_offset_pages
from marketplace_slack.marketplace.transport import Transport


class NotificationEndpoints(Transport):
    """Notification preferences and webhooks."""

    async def get_user_preferences(self) -> list[UserPreference]:
        """The caller's notification preferences, per provider."""
        return await self._call(GET_USER_PREFERENCES, list[UserPreference])

    async def update_user_preferences(
        self, body: UpdateUserPreferencesRequest
    ) -> UpdateUserPreferencesResponse:
        """Change the caller's notification preferences."""
        return await self._call(UPDATE_USER_PREFERENCES, UpdateUserPreferencesResponse, body=body)

    async def get_webhooks(self) -> list[Webhook]:
        """The registered webhooks."""
        return await self._call(GET_WEBHOOKS, list[Webhook])

    async def create_webhook(self, body: CreateWebhookRequest) -> Webhook:
        """Register a webhook. Not retried once it may have reached the server."""
        return await self._call(CREATE_WEBHOOK, Webhook, body=body)

    async def get_webhook(self, id: str) -> Webhook:
        """One webhook."""
        return await self._call(GET_WEBHOOK, Webhook, path={"id": id})

    async def update_webhook(self, id: str, body: UpdateWebhookRequest) -> Webhook:
        """Change a webhook's URL, TLS verification or signing key."""
        return await self._call(UPDATE_WEBHOOK, Webhook, path={"id": id}, body=body)

    async def delete_webhook(self, id: str) -> None:
        """Remove a webhook."""
        await self._send(DELETE_WEBHOOK, path={"id": id})

    async def get_webhook_history(
        self, id: str, *, offset: int = 0, limit: int = 10
    ) -> OffsetPage[WebhookDelivery]:
        """One page of a webhook's delivery history."""
        return await self._call(
            GET_WEBHOOK_HISTORY,
            OffsetPage[WebhookDelivery],
            path={"id": id},
            params={"offset": offset, "limit": limit},
        )

    def iter_webhook_history(self, id: str, *, page_size: int = 50) -> AsyncIterator[WebhookDelivery]:
        """A webhook's whole delivery history, across pages."""
        return iter_offset_pages(
            lambda offset, limit: self.get_webhook_history(id, offset=offset, limit=limit),
            page_size=page_size,
        )

    async def test_webhook(self, id: str) -> WebhookTestResult:
        """Send a test delivery to a registered webhook."""
        return await self._call(TEST_WEBHOOK, WebhookTestResult, path={"id": id})

    async def test_webhook_config(self, body: CreateWebhookRequest) -> WebhookTestResult:
        """Send a test delivery to a webhook configuration before registering it."""
        return await self._call(TEST_WEBHOOK_CONFIG, WebhookTestResult, body=body)
