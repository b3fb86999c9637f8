"""Unfurls: a Marketplace data-product link pasted in Slack shows the product, with Request access.

Slack sends `link_shared` for links on the app's unfurl domains (manifest.yml). Only links to a data
product on the configured Marketplace app host are unfurled; anything else is left as Slack shows it.
The product is read with the app's own account, so an unlinked person's link unfurls too, and what it
shows is what any Marketplace user sees of a product in the catalogue: name, description, domain, and
who reviews requests. A link the app cannot read (gone, or the Marketplace down) is left plain.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol
from urllib.parse import unquote, urlsplit

import structlog

from marketplace_slack.domain.forms import ProductChoice
from marketplace_slack.marketplace.consumer import ConsumerGateway
from marketplace_slack.marketplace.errors import MarketplaceError

log = structlog.get_logger(__name__)

_PRODUCT_PATH = re.compile(r"^(?:/[^/]+)*/marketplace/data-product/([^/?#]+)(?:/[^?#]*)?$")
MAX_UNFURLS = 5  # Slack itself sends at most a handful of links per message


class UnfurlSlack(Protocol):
    async def unfurl(
        self,
        *,
        channel: str,
        ts: str,
        unfurl_id: str | None,
        source: str | None,
        products: dict[str, ProductChoice],
    ) -> None:
        """Attach an unfurl to each url of `products` in the message (`chat.unfurl`)."""
        ...


class Unfurls:
    def __init__(self, *, consumer: ConsumerGateway, slack: UnfurlSlack, app_url: str) -> None:
        self._consumer = consumer
        self._slack = slack
        self._host = (urlsplit(app_url).hostname or "").lower()

    def product_id(self, url: str) -> str | None:
        """The data product a link points to, when it is one on the Marketplace app's host."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or (parts.hostname or "").lower() != self._host:
            return None
        match = _PRODUCT_PATH.match(parts.path)
        return unquote(match.group(1)) if match else None

    async def link_shared(
        self, *, channel: str, ts: str, unfurl_id: str | None, source: str | None, urls: Sequence[str]
    ) -> None:
        products: dict[str, ProductChoice] = {}
        for url in list(dict.fromkeys(urls))[:MAX_UNFURLS]:
            product_id = self.product_id(url)
            if product_id is None:
                continue
            try:
                products[url] = await self._consumer.product_card(product_id)
            except MarketplaceError as exc:
                log.info("unfurl_skipped", error=type(exc).__name__)
        if products:
            await self._slack.unfurl(
                channel=channel, ts=ts, unfurl_id=unfurl_id, source=source, products=products
            )
