"""Steward tokens share no cookie jar: a session cookie one identity was given is never sent with another's.

The sandbox sets a per-user session cookie on every answer (as a tenant behind a load balancer or with a
web session does) and refuses a request whose cookie belongs to someone other than its bearer token.
"""

from __future__ import annotations

from typing import Any

import httpx

from marketplace_slack.marketplace.client import MarketplaceClient
from marketplace_slack.marketplace.transport import new_http_client


async def _alternate(app: MarketplaceClient, sandbox: Any) -> list[str]:
    sara = app.with_token(sandbox.token_for("sara"))
    omar = app.with_token(sandbox.token_for("omar"))
    names = []
    for client in (app, sara, omar, sara, app):
        names.append((await client.get_current_user()).username)
    return names


async def test_a_shared_pool_carries_no_cookies_between_identities(sandbox: Any) -> None:
    async with new_http_client() as http:
        app = MarketplaceClient(sandbox.base_url, sandbox.token_for("admin"), http=http)
        assert await _alternate(app, sandbox) == ["admin", "sara", "omar", "sara", "admin"]
        assert len(http.cookies) == 0


async def test_a_client_that_makes_its_own_pool_carries_none_either(sandbox: Any) -> None:
    async with MarketplaceClient(sandbox.base_url, sandbox.token_for("admin")) as app:
        assert await _alternate(app, sandbox) == ["admin", "sara", "omar", "sara", "admin"]


async def test_the_sandbox_refuses_a_cookie_of_another_identity(sandbox: Any) -> None:
    # What the two tests above guard against, shown with a plain client that keeps cookies.
    async with httpx.AsyncClient(base_url=sandbox.base_url) as plain:
        first = await plain.get(
            "/api/auth/user", headers={"Authorization": f"Bearer {sandbox.token_for('sara')}"}
        )
        assert first.status_code == 200 and plain.cookies
        second = await plain.get(
            "/api/auth/user", headers={"Authorization": f"Bearer {sandbox.token_for('omar')}"}
        )
        assert second.status_code == 401
