"""Notification preferences and webhooks."""

from __future__ import annotations

from marketplace_slack.marketplace.models.base import ApiDateTime, ResponseModel
from marketplace_slack.marketplace.models.enums import OpenWebhookTestStatus


class NotificationTypePreference(ResponseModel):
    notification_type: str
    enabled: bool


class ProviderMetadata(ResponseModel):
    auth_verified: bool | None = None
    teams_store_url: str | None = None


class UserPreference(ResponseModel):
    """The caller's notification settings for one provider (email, Slack, Teams...)."""

    provider: str
    enabled: bool
    type_preferences: list[NotificationTypePreference]
    metadata: ProviderMetadata | None = None


class ProviderPreferences(ResponseModel):
    provider: str
    type_preferences: list[NotificationTypePreference]


class UpdateUserPreferencesResponse(ResponseModel):
    recipient_id: str
    preferences: list[ProviderPreferences]


class Webhook(ResponseModel):
    """A registered webhook. ``signing_key`` only says whether one is set; the key is never returned."""

    id: str
    url: str
    verify_tls: bool = True
    signing_key: bool = False
    suppressed: bool = False


class WebhookTestResult(ResponseModel):
    """``status`` is a :class:`WebhookTestStatus` or, from some servers, its ordinal ``0``-``2``."""

    status: OpenWebhookTestStatus
    http_status_code: int
    error_message: str | None = None


class WebhookDelivery(ResponseModel):
    """One delivery attempt in a webhook's history."""

    webhook_id: str
    delivery_id: str
    status: str
    http_status_code: int
    created_at: ApiDateTime
    message: str
