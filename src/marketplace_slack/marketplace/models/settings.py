"""The Marketplace app's frontend settings: branding and feature flags."""

from __future__ import annotations

from marketplace_slack.marketplace.models.base import ResponseModel


class Theme(ResponseModel):
    primary_color: str | None = None
    accent_color: str | None = None
    light_mode_image: str | None = None
    dark_mode_image: str | None = None


class FeatureFlags(ResponseModel):
    statsig_client_key: str | None = None
    statsig_environment: str | None = None


class FrontendSettings(ResponseModel):
    theme: Theme | None = None
    feature_flags: FeatureFlags | None = None
