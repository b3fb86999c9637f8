"""Async client for the Immuta Marketplace API.

One method per API operation, named after the spec's ``operationId`` in snake_case (see
:data:`OPERATIONS`), returning the wire model of that operation's response schema (envelopes such
as ``ApprovalRecords`` included; ``None`` for empty responses). Searches return one page, and
``iter_*`` methods walk all pages. Retries follow :mod:`.retry`; errors are the tree in :mod:`.errors`.

The token is a personal access token of whoever the app acts for. :meth:`MarketplaceClient.with_token`
makes a client for another user that shares the connection pool.

The operations are written by area of the API in :mod:`.endpoints`, over the one :class:`.Transport`
every request goes through; :class:`MarketplaceClient` puts them together.
"""

from __future__ import annotations

from marketplace_slack.marketplace.endpoints.access_requests import (
    AccessRequestEndpoints,
    AccessRequestFilters,
    AccessRequestSearchFilters,
    DataProductRequestFilters,
)
from marketplace_slack.marketplace.endpoints.catalog import CatalogEndpoints
from marketplace_slack.marketplace.endpoints.data_products import DataProductEndpoints
from marketplace_slack.marketplace.endpoints.forms import FormEndpoints
from marketplace_slack.marketplace.endpoints.notifications import NotificationEndpoints
from marketplace_slack.marketplace.operations import OPERATIONS, Operation


class MarketplaceClient(
    AccessRequestEndpoints, DataProductEndpoints, FormEndpoints, CatalogEndpoints, NotificationEndpoints
):
    """Async client for the Marketplace API at ``base_url`` (including ``/marketplace``).

    Use as ``async with MarketplaceClient(url, token) as client: ...`` or call :meth:`aclose`.
    ``sleep`` and ``rng`` are injectable so tests can record backoff delays instead of waiting.
    """


__all__ = [
    "OPERATIONS",
    "AccessRequestFilters",
    "AccessRequestSearchFilters",
    "DataProductRequestFilters",
    "MarketplaceClient",
    "Operation",
]
