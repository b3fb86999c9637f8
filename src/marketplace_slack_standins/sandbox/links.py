"""Deep links into the Marketplace app, in the format the catalog-integration guide gives.

The guide writes the request-access link as ``...?type={access type}?accountId={account}`` with a
second ``?``, which is not a valid query string; these helpers join the parameters with ``&``.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

APP_URL = "https://app.immutacloud.com"
ACCESS_TYPES = ("data-access", "masking-exception")


def product_details_link(product_id: str, *, app_url: str = APP_URL) -> str:
    """The data product's details page."""
    return f"{app_url}/marketplace/data-product/{quote(product_id, safe='')}/details"


def request_access_link(
    product: str, *, account_id: str, access_type: str = "data-access", app_url: str = APP_URL
) -> str:
    """The request-access page for a product given by id or by name."""
    if access_type not in ACCESS_TYPES:
        raise ValueError(f"access_type must be one of {ACCESS_TYPES}")
    query = urlencode({"type": access_type, "accountId": account_id})
    return f"{app_url}/marketplace/data-product/{quote(product, safe='')}/request-access?{query}"
