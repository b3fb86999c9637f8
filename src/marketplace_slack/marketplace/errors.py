"""Errors raised by the Marketplace client.

::

    MarketplaceError                      anything this package raises
    ├── APIConnectionError                no HTTP response (refused, reset, DNS, TLS...)
    │   └── APITimeoutError               connect/read/write/pool timeout
    ├── APIResponseValidationError        a 2xx whose body is not what the spec promises
    └── APIStatusError                    the server answered with an error status (other 4xx)
        ├── BadRequestError               400, 422: the request is invalid
        ├── UnauthorizedError             401: missing, expired or revoked token
        ├── ForbiddenError                403: authenticated, but not allowed (e.g. not an approver)
        ├── NotFoundError                 404
        ├── ConflictError                 409: state changed (e.g. the record is already decided)
        ├── RateLimitError                429; ``retry_after`` in seconds when the server said
        └── ServerError                   5xx

:func:`error_for_status` is the one place that maps a status code to a class. Status errors carry
``status_code``, the server's ``message`` (the JSON body's ``message``, else its text, truncated)
and the parsed ``body``; the client scrubs the caller's token out of both before raising.
No error holds request headers, so a token cannot leak through ``str()``/``repr()``.
"""

from __future__ import annotations

from typing import Any

MAX_MESSAGE_CHARS = 500


class MarketplaceError(Exception):
    """Base of every error raised by the Marketplace client."""


class APIConnectionError(MarketplaceError):
    """The request got no HTTP response (connection refused or dropped, DNS, TLS...)."""

    def __init__(self, message: str, *, method: str, path: str) -> None:
        super().__init__(f"{message} ({method} {path})")
        self.method = method
        self.path = path


class APITimeoutError(APIConnectionError):
    """The request timed out (connect, read, write or waiting for a pooled connection)."""


class APIResponseValidationError(MarketplaceError):
    """A successful response whose body does not match the wire model."""

    def __init__(self, message: str, *, method: str, path: str, status_code: int) -> None:
        super().__init__(f"{message} ({method} {path} -> {status_code})")
        self.method = method
        self.path = path
        self.status_code = status_code


class APIStatusError(MarketplaceError):
    """The server answered with an error status; subclasses name the common ones."""

    def __init__(
        self,
        status_code: int,
        message: str,
        body: Any = None,
        *,
        method: str = "",
        path: str = "",
    ) -> None:
        where = f" ({method} {path})" if method else ""
        super().__init__(f"{status_code}: {message}{where}")
        self.status_code = status_code
        self.message = message
        self.body = body
        self.method = method
        self.path = path

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code}, message={self.message!r})"


class BadRequestError(APIStatusError):
    """400 or 422: the server rejected the request as invalid."""


class UnauthorizedError(APIStatusError):
    """401: the token is missing, expired or revoked."""


class ForbiddenError(APIStatusError):
    """403: the caller may not do this (e.g. decide a record they are not an approver of)."""


class NotFoundError(APIStatusError):
    """404: no such resource, or the caller may not see it."""


class ConflictError(APIStatusError):
    """409: the resource is not in a state that allows this (e.g. already decided)."""


class RateLimitError(APIStatusError):
    """429: too many requests. ``retry_after`` is the server's requested wait in seconds, if any."""

    def __init__(
        self,
        status_code: int,
        message: str,
        body: Any = None,
        *,
        method: str = "",
        path: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(status_code, message, body, method=method, path=path)
        self.retry_after = retry_after


class ServerError(APIStatusError):
    """5xx: the server failed; GET/PUT/DELETE were already retried before this is raised."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    422: BadRequestError,
    429: RateLimitError,
}


def error_class_for_status(status_code: int) -> type[APIStatusError]:
    """The exception class for an HTTP error status."""
    if status_code in _BY_STATUS:
        return _BY_STATUS[status_code]
    if status_code >= 500:
        return ServerError
    return APIStatusError


def error_for_status(
    status_code: int,
    body: Any,
    *,
    method: str = "",
    path: str = "",
    retry_after: float | None = None,
    redact: tuple[str, ...] = (),
) -> APIStatusError:
    """Build the error for an error response; ``redact`` lists secrets to scrub from it."""
    message = _scrub(_message_of(body, status_code), redact)
    body = _scrub_body(body, redact)
    cls = error_class_for_status(status_code)
    if cls is RateLimitError:
        return RateLimitError(status_code, message, body, method=method, path=path, retry_after=retry_after)
    return cls(status_code, message, body, method=method, path=path)


def _message_of(body: Any, status_code: int) -> str:
    if isinstance(body, dict):
        for key in ("message", "error", "detail"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return _truncate(value)
            if isinstance(value, list) and value:  # validation frameworks send a list of messages
                return _truncate("; ".join(str(item) for item in value))
    if isinstance(body, str) and body.strip():
        return _truncate(body.strip())
    return f"HTTP {status_code}"


def _truncate(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 1] + "…"


def _scrub(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def _scrub_body(body: Any, secrets: tuple[str, ...]) -> Any:
    # A server that echoes the Authorization header into its error body must not put the token
    # into our exception.
    if not any(secrets):
        return body
    if isinstance(body, str):
        return _scrub(body, secrets)
    if isinstance(body, dict):
        return {key: _scrub_body(value, secrets) for key, value in body.items()}
    if isinstance(body, list):
        return [_scrub_body(item, secrets) for item in body]
    return body
