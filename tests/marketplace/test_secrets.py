"""A token never shows up in exception text, reprs or logs, whatever goes wrong."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable

import pytest
from structlog.testing import capture_logs

from marketplace_slack.marketplace.client import MarketplaceClient
from marketplace_slack.marketplace.errors import (
    APIConnectionError,
    MarketplaceError,
    ServerError,
    UnauthorizedError,
)

from .loopback import Reply, ScriptedServer, closed_port_url

TOKEN = "sbx_secret_123"
MakeClient = Callable[..., MarketplaceClient]


def _assert_clean(*texts: str) -> None:
    for text in texts:
        assert TOKEN not in text


async def _failure(client: MarketplaceClient, expected: type[MarketplaceError]) -> MarketplaceError:
    with pytest.raises(expected) as caught:
        await client.get_current_user()
    return caught.value


async def test_token_never_leaks(
    server: ScriptedServer, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    # A careless server that echoes the credentials it was sent in its error bodies.
    server.script(Reply(status=401, json={"message": f"invalid token Bearer {TOKEN}", "token": TOKEN}))
    server.script(Reply(status=500, text=f"stack trace ... Authorization: Bearer {TOKEN}"))
    caplog.set_level(logging.DEBUG)  # httpx and httpcore included
    client = make_client(server.base_url, TOKEN, max_retries=1)
    refused = make_client(closed_port_url(), TOKEN, max_retries=1)

    with capture_logs() as logs:
        unauthorized = await _failure(client, UnauthorizedError)
        server_error = await _failure(client, ServerError)
        unreachable = await _failure(refused, APIConnectionError)

    assert server.seen[0].headers["Authorization"] == f"Bearer {TOKEN}"  # the token was really sent
    assert "invalid token Bearer ***" in str(unauthorized)  # the server's message survives, scrubbed
    for error in (unauthorized, server_error, unreachable):
        _assert_clean(str(error), repr(error), repr(getattr(error, "body", None)))
        _assert_clean("".join(traceback.format_exception(error)))
    _assert_clean(repr(client), str(client), repr(client.with_token(TOKEN)))
    assert logs, "the client logged nothing; the assertion below would prove nothing"
    _assert_clean(repr(logs))
    assert caplog.records
    _assert_clean(caplog.text, repr([r.__dict__ for r in caplog.records]))


async def test_logs_name_the_operation_but_not_the_url_or_headers(
    server: ScriptedServer, make_client: MakeClient
) -> None:
    server.script(Reply(status=503), Reply(json={"approvalRecords": []}))
    with capture_logs() as logs:
        await make_client(server.base_url, TOKEN).get_access_request_records("req-42")
    retry, done = logs
    assert retry["event"] == "marketplace.retrying"
    assert retry["status"] == 503
    assert retry["attempt"] == 1
    assert done["event"] == "marketplace.request"
    assert done["path"] == "/api/access-request/{id}/records"  # the template, not the id
    assert done["method"] == "GET"
    assert done["attempt"] == 2
    assert isinstance(done["elapsed_ms"], float)
    assert "req-42" not in repr(logs)
    assert "headers" not in repr(logs).lower()


async def test_repr_of_a_token_client_is_safe() -> None:
    async with MarketplaceClient("https://example.invalid/marketplace", TOKEN) as client:
        assert repr(client) == (
            "MarketplaceClient(base_url='https://example.invalid/marketplace', authenticated=True)"
        )
        assert TOKEN not in repr(vars(client))
