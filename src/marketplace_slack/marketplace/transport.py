"""The transport every Marketplace operation goes through: a connection pool per lane, the caller's
token, retries (:mod:`.retry`), errors (:mod:`.errors`), and parsing into wire models.

Interactive work (a click, a modal) and background work (reconciliation, reminder ticks, webhooks)
each have a pool of their own (`infra.tasks.Lane` says which is running), so a reconciliation holding
every connection of a slow tenant never leaves a click waiting for one."""

from __future__ import annotations

import asyncio
import copy
import random
import re
import time
from collections.abc import Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass
from enum import Enum
from http.cookiejar import CookieJar, DefaultCookiePolicy
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote

import httpx
import structlog
from pydantic import SecretStr, TypeAdapter, ValidationError

from marketplace_slack import __version__
from marketplace_slack.infra.tasks import Lane, current_lane
from marketplace_slack.marketplace.errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    MarketplaceError,
    error_for_status,
)
from marketplace_slack.marketplace.models import WireModel
from marketplace_slack.marketplace.operations import Operation
from marketplace_slack.marketplace.retry import (
    RetryPolicy,
    retry_after_of,
    status_is_retryable,
    transport_error_is_retryable,
)

_log = structlog.get_logger(__name__)

T = TypeVar("T")

MAX_ERROR_BODY_CHARS = 2000
USER_AGENT = f"marketplace-slack/{__version__}"


# Background work is throttled (reconciliation's own concurrency) and nobody waits on it in Slack:
# fewer connections for it leave the tenant's capacity to the interactive pool (httpx's default, 100).
BACKGROUND_LIMITS = httpx.Limits(max_connections=20, max_keepalive_connections=10)


def new_http_client(
    timeout: httpx.Timeout | float = 10.0, *, limits: httpx.Limits | None = None
) -> httpx.AsyncClient:
    """A connection pool every identity's calls share, with a cookie jar that keeps nothing.

    The app's token and every steward's token go through one pool; a cookie a tenant sets on one
    identity's answer (a web session, a load balancer's affinity) must never ride along with another's.
    """
    jar = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
    return httpx.AsyncClient(
        timeout=timeout,
        headers={"User-Agent": USER_AGENT},
        cookies=jar,
        limits=limits or httpx.Limits(max_connections=100, max_keepalive_connections=20),
    )


def _query(params: Mapping[str, Any]) -> dict[str, str | list[str]]:
    """Wire query parameters: ``None`` dropped, enums by value, arrays as repeated keys."""
    query: dict[str, str | list[str]] = {}
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, str | Enum | bool | int | float):
            query[name] = _scalar(value)
        else:
            query[name] = [_scalar(item) for item in value]
    return query


def _scalar(value: str | Enum | bool | int | float) -> str:
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def _adapter(response_type: type[T]) -> TypeAdapter[T]:
    # Building a TypeAdapter is costly; build each once, on first use rather than at import.
    adapter = _ADAPTERS.get(response_type)
    if adapter is None:
        adapter = _ADAPTERS[response_type] = TypeAdapter(response_type)
    return adapter


@dataclass(frozen=True)
class _Failure:
    """A failed attempt: the error to raise if we give up, and whether a retry is safe."""

    error: MarketplaceError
    retryable: bool
    retry_after: float | None = None
    status_code: int | None = None  # None: no response at all


class _BearerAuth(httpx.Auth):
    """Adds the token per request, so it never sits in a headers dict a traceback could print."""

    def __init__(self, token: SecretStr) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token.get_secret_value()}"
        yield request

    def __repr__(self) -> str:
        return "_BearerAuth(token='**********')"


class Transport:
    """The connection, token and retry policy behind :class:`~.client.MarketplaceClient`, and the two
    ways an operation is performed: :meth:`_call` (parse the body) and :meth:`_send` (no body)."""

    def __init__(
        self,
        base_url: str,
        token: SecretStr | str | None = None,
        *,
        http: httpx.AsyncClient | None = None,
        background_http: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
        max_retries: int = 3,
        backoff_base: float = 0.25,
        backoff_max: float = 8.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._token = SecretStr(token) if isinstance(token, str) else token
        self._auth = _BearerAuth(self._token) if self._token is not None else None
        self._timeout = httpx.Timeout(timeout)
        self._retry = RetryPolicy(max_retries=max_retries, backoff_base=backoff_base, backoff_max=backoff_max)
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._owns_http = http is None
        self._http = http if http is not None else new_http_client(self._timeout)
        # Without a pool of its own for background work (a CLI command, a test), both lanes share one.
        self._background_http = background_http if background_http is not None else self._http

    @property
    def base_url(self) -> str:
        return self._base_url

    def with_token(self, token: SecretStr | str) -> Self:
        """A client acting as another user (their token); it shares this client's connection pool.

        Closing the returned client does not close the pool; close the original.
        """
        clone = copy.copy(self)
        clone._token = SecretStr(token) if isinstance(token, str) else token
        clone._auth = _BearerAuth(clone._token)
        clone._owns_http = False
        return clone

    async def aclose(self) -> None:
        """Close the HTTP client if this client created it (pools it was given are their maker's)."""
        if self._owns_http:
            await self._http.aclose()

    def _pool(self) -> httpx.AsyncClient:
        return self._background_http if current_lane() is Lane.BACKGROUND else self._http

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        authenticated = self._token is not None
        return f"{type(self).__name__}(base_url={self._base_url!r}, authenticated={authenticated})"

    # ---------------------------------------------------------------------------------------------
    # Transport: one request, with retries, mapped to models or errors.
    # ---------------------------------------------------------------------------------------------

    async def _call(
        self,
        op: Operation,
        response_type: type[T],
        *,
        path: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        body: WireModel | None = None,
    ) -> T:
        """Perform ``op`` and parse its JSON body as ``response_type`` (a model, page or list of them).

        Operations that answer with no body use :meth:`_send` and ignore the response.
        """
        response = await self._send(op, path=path, params=params, body=body)
        try:
            return _adapter(response_type).validate_json(response.content)
        except ValidationError as exc:
            # Say where, not what: the body may hold personal data and pydantic echoes inputs.
            raise APIResponseValidationError(
                f"response does not match the API model ({exc.error_count()} errors)",
                method=op.method,
                path=op.path,
                status_code=response.status_code,
            ) from None

    async def _send(
        self,
        op: Operation,
        *,
        path: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        body: WireModel | None = None,
    ) -> httpx.Response:
        """Perform ``op``, retrying where that is safe; the successful response, or its error raised."""
        url = self._base_url + self._fill(op.path, path or {})
        query = _query(params or {})
        json_body = body.model_dump(mode="json", exclude_unset=True) if body is not None else None
        retry = 0
        while True:
            started = time.perf_counter()
            outcome = await self._attempt(op, url, query, json_body)
            fields = {
                "operation": op.operation_id,
                "method": op.method,
                "path": op.path,
                "status": outcome.status_code,
                "attempt": retry + 1,
                "elapsed_ms": _ms_since(started),
            }
            if isinstance(outcome, httpx.Response):
                _log.debug("marketplace.request", **fields)
                return outcome
            if not outcome.retryable or retry >= self._retry.max_retries:
                _log.info("marketplace.request_failed", error=type(outcome.error).__name__, **fields)
                raise outcome.error
            delay = self._retry.delay(retry, self._rng, outcome.retry_after)
            _log.warning(
                "marketplace.retrying", error=type(outcome.error).__name__, delay_s=round(delay, 3), **fields
            )
            await self._sleep(delay)
            retry += 1

    async def _attempt(
        self, op: Operation, url: str, query: dict[str, str | list[str]], json_body: Any
    ) -> httpx.Response | _Failure:
        """One try: the successful response, or what went wrong and whether trying again is safe."""
        try:
            response = await self._pool().request(
                op.method,
                url,
                params=query,
                json=json_body,
                headers={"Accept": "application/json"},
                auth=self._auth if self._auth is not None else httpx.USE_CLIENT_DEFAULT,
                timeout=self._timeout,
            )
        except httpx.TransportError as exc:
            return _Failure(
                error=self._connection_error(op, exc),
                retryable=transport_error_is_retryable(op.method, exc),
            )
        if response.is_success:
            return response
        retry_after = retry_after_of(response)
        return _Failure(
            error=self._status_error(op, response, retry_after),
            retryable=status_is_retryable(op.method, response.status_code),
            retry_after=retry_after,
            status_code=response.status_code,
        )

    @staticmethod
    def _fill(template: str, values: Mapping[str, str]) -> str:
        def substitute(match: re.Match[str]) -> str:
            # Quote everything: ids are opaque and product names (byName) contain spaces and slashes.
            return quote(str(values[match.group(1)]), safe="")

        return re.sub(r"\{(\w+)\}", substitute, template)

    def _secrets(self) -> tuple[str, ...]:
        return (self._token.get_secret_value(),) if self._token is not None else ()

    def _connection_error(self, op: Operation, exc: httpx.TransportError) -> APIConnectionError:
        detail = str(exc) or type(exc).__name__
        for secret in self._secrets():
            detail = detail.replace(secret, "***")
        cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
        error = cls(detail, method=op.method, path=op.path)
        error.__cause__ = exc
        return error

    def _status_error(
        self, op: Operation, response: httpx.Response, retry_after: float | None
    ) -> APIStatusError:
        body: Any
        try:
            body = response.json()
        except ValueError:
            body = response.text[:MAX_ERROR_BODY_CHARS]
        return error_for_status(
            response.status_code,
            body,
            method=op.method,
            path=op.path,
            retry_after=retry_after,
            redact=self._secrets(),
        )


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
