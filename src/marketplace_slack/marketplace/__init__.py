"""Marketplace API: wire models, async client, errors and webhook verification."""

from marketplace_slack.marketplace.client import OPERATIONS, MarketplaceClient, Operation
from marketplace_slack.marketplace.errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    BadRequestError,
    ConflictError,
    ForbiddenError,
    MarketplaceError,
    NotFoundError,
    RateLimitError,
    ServerError,
    UnauthorizedError,
)

__all__ = [
    "OPERATIONS",
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "BadRequestError",
    "ConflictError",
    "ForbiddenError",
    "MarketplaceClient",
    "MarketplaceError",
    "NotFoundError",
    "Operation",
    "RateLimitError",
    "ServerError",
    "UnauthorizedError",
]
