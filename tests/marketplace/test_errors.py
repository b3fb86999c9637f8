"""The one mapping from HTTP status to exception, and the messages errors carry."""

from __future__ import annotations

import pytest

from marketplace_slack.marketplace.errors import (
    MAX_MESSAGE_CHARS,
    APIConnectionError,
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
    error_for_status,
)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (422, BadRequestError),
        (401, UnauthorizedError),
        (403, ForbiddenError),
        (404, NotFoundError),
        (409, ConflictError),
        (429, RateLimitError),
        (500, ServerError),
        (503, ServerError),
        (599, ServerError),
        (405, APIStatusError),
        (418, APIStatusError),
    ],
)
def test_status_maps_to_one_class(status: int, cls: type[APIStatusError]) -> None:
    error = error_for_status(status, None)
    assert type(error) is cls
    assert error.status_code == status
    assert isinstance(error, MarketplaceError)


def test_the_tree() -> None:
    assert issubclass(APITimeoutError, APIConnectionError)
    assert issubclass(APIConnectionError, MarketplaceError)
    for cls in (
        BadRequestError,
        UnauthorizedError,
        ForbiddenError,
        NotFoundError,
        ConflictError,
        RateLimitError,
    ):
        assert issubclass(cls, APIStatusError)
    assert issubclass(ServerError, APIStatusError)


def test_message_comes_from_the_json_body() -> None:
    body = {"statusCode": 403, "error": "Forbidden", "message": "You are not an approver of this record"}
    error = error_for_status(403, body, method="PUT", path="/api/approval-record/{id}")
    assert error.message == "You are not an approver of this record"
    assert error.body == body
    assert "You are not an approver" in str(error)
    assert "PUT /api/approval-record/{id}" in str(error)


def test_message_falls_back_to_error_then_text_then_status() -> None:
    assert error_for_status(409, {"error": "Conflict"}).message == "Conflict"
    assert error_for_status(400, {"message": ["name is required", "limit must be > 0"]}).message == (
        "name is required; limit must be > 0"
    )
    assert error_for_status(502, "<html>Bad gateway</html>").message == "<html>Bad gateway</html>"
    assert error_for_status(500, "").message == "HTTP 500"


def test_long_messages_are_truncated() -> None:
    error = error_for_status(500, {"message": "x" * 5000})
    assert len(error.message) == MAX_MESSAGE_CHARS


def test_rate_limit_carries_retry_after() -> None:
    error = error_for_status(429, {"message": "slow down"}, retry_after=2.5)
    assert isinstance(error, RateLimitError)
    assert error.retry_after == 2.5


def test_secrets_are_scrubbed_from_message_and_body() -> None:
    body = {"message": "bad token sbx_secret_123", "echo": {"authorization": "Bearer sbx_secret_123"}}
    error = error_for_status(401, body, redact=("sbx_secret_123",))
    assert "sbx_secret_123" not in str(error)
    assert "sbx_secret_123" not in repr(error)
    assert "sbx_secret_123" not in repr(error.body)
    assert error.message == "bad token ***"
