"""Async client for the Immuta Marketplace API.

One method per API operation, named after the spec's ``operationId`` in snake_case (see
:data:`OPERATIONS`), returning the wire model of that operation's response schema (envelopes such
as ``ApprovalRecords`` included; ``None`` for empty responses). Searches return one page, and
``iter_*`` methods walk all pages. Retries follow :mod:`.retry`; errors are the tree in :mod:`.errors`.

The token is a personal access token of whoever the app acts for. :meth:`MarketplaceClient.with_token`
makes a client for another user that shares the connection pool.
"""

from __future__ import annotations

import asyncio
import copy
import random
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from types import TracebackType
from typing import Any, Final, Self, TypedDict, TypeVar, Unpack
from urllib.parse import quote

import httpx
import structlog
from pydantic import SecretStr, TypeAdapter, ValidationError
from pydantic.alias_generators import to_camel

from marketplace_slack import __version__
from marketplace_slack.marketplace.errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    MarketplaceError,
    error_for_status,
)
from marketplace_slack.marketplace.models import (
    AccessRequest,
    AccessRequestRole,
    AccessRequestSortBy,
    AccessRequestStatus,
    AllDataSources,
    ApprovalRecord,
    ApprovalRecords,
    AssetType,
    AssociatedRequestForm,
    CatalogSortBy,
    ColumnSortDirection,
    CreateAccessRequest,
    CreateDataProductRequest,
    CreateDataUseAgreementRequest,
    CreateMaskingExceptionRequest,
    CreateRequestFormRequest,
    CreateWebhookRequest,
    CurrentUser,
    DataProduct,
    DataProductColumn,
    DataProductRequestForm,
    DataProductRole,
    DataProductSortBy,
    DataSourceWithStatus,
    DataUseAgreement,
    Domain,
    DomainList,
    FrontendSettings,
    ImmutaAttributeList,
    ImmutaDataSource,
    ImmutaGroupList,
    ImmutaTag,
    ImmutaUserList,
    LinkedDataProduct,
    MaskingExceptionColumn,
    OffsetPage,
    RecentDeterminations,
    RequestedColumn,
    RequestForm,
    RequestFormSummary,
    RequestType,
    ReviewStatusFilter,
    RiskAssessment,
    SortOrder,
    TokenPage,
    UpdateApprovalRecordRequest,
    UpdateDataProductRequest,
    UpdateDataSourcesRequest,
    UpdateDataUseAgreementRequest,
    UpdateRequestFormRequest,
    UpdateUserPreferencesRequest,
    UpdateUserPreferencesResponse,
    UpdateWebhookRequest,
    UserPreference,
    Webhook,
    WebhookDelivery,
    WebhookTestResult,
    WireModel,
)
from marketplace_slack.marketplace.pagination import iter_offset_pages, iter_token_pages
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

# --------------------------------------------------------------------------------------------------
# The operation table: every API operation this client implements, and the method that does.
# --------------------------------------------------------------------------------------------------

# Where the client method is not simply snake_case(operationId).
_METHOD_NAMES: Final = {"user": "get_current_user"}


@dataclass(frozen=True)
class Operation:
    """One API operation: ``method`` + ``path`` template (relative to the ``/marketplace`` base)."""

    operation_id: str
    method: str
    path: str

    @property
    def client_method(self) -> str:
        """Name of the :class:`MarketplaceClient` method that performs this operation."""
        return _METHOD_NAMES.get(self.operation_id) or _snake(self.operation_id)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


OPERATIONS: dict[str, Operation] = {}
"""Every operation the client covers, keyed by ``operationId``."""


def _op(operation_id: str, method: str, path: str) -> Operation:
    operation = Operation(operation_id, method, path)
    OPERATIONS[operation_id] = operation
    return operation


# Access requests and approval records.
SEARCH_ACCESS_REQUESTS = _op("searchAccessRequests", "GET", "/api/access-request")
GET_APPROVED_MASKING_EXCEPTION_COLUMNS = _op(
    "getApprovedMaskingExceptionColumns", "GET", "/api/access-request/approved-masking-exception-columns"
)
GET_ACCESS_REQUEST_BY_ID = _op("getAccessRequestById", "GET", "/api/access-request/{id}")
CANCEL_ACCESS_REQUEST = _op("cancelAccessRequest", "DELETE", "/api/access-request/{id}")
GET_ACCESS_REQUEST_RECORDS = _op("getAccessRequestRecords", "GET", "/api/access-request/{id}/records")
GET_RISK_ASSESSMENT = _op("getRiskAssessment", "GET", "/api/access-request/{id}/risk-assessment")
SEARCH_ACCESS_REQUEST_MASKING_EXCEPTION_COLUMNS = _op(
    "searchAccessRequestMaskingExceptionColumns", "GET", "/api/access-request/{id}/masking-exception-columns"
)
UPDATE_APPROVAL_RECORD = _op("updateApprovalRecord", "PUT", "/api/approval-record/{id}")
# Data products.
SEARCH_DATA_PRODUCTS = _op("searchDataProducts", "GET", "/api/data-product")
CREATE_DATA_PRODUCT = _op("createDataProduct", "POST", "/api/data-product")
GET_DATA_PRODUCT_BY_ID = _op("getDataProductById", "GET", "/api/data-product/{id}")
UPDATE_DATA_PRODUCT = _op("updateDataProduct", "PUT", "/api/data-product/{id}")
DELETE_DATA_PRODUCT = _op("deleteDataProduct", "DELETE", "/api/data-product/{id}")
GET_DATA_PRODUCT_BY_NAME = _op("getDataProductByName", "GET", "/api/data-product/{name}/byName")
UPDATE_DATA_SOURCES = _op("updateDataSources", "PUT", "/api/data-product/{id}/datasources")
SEARCH_DATA_SOURCES = _op("searchDataSources", "GET", "/api/data-product/{id}/datasources")
GET_ALL_DATA_SOURCES = _op("getAllDataSources", "GET", "/api/data-product/{id}/datasources/all")
SEARCH_DATA_PRODUCT_ACCESS_REQUESTS = _op(
    "searchDataProductAccessRequests", "GET", "/api/data-product/{id}/request"
)
REQUEST_ACCESS = _op("requestAccess", "POST", "/api/data-product/{id}/request")
SEARCH_DATA_PRODUCT_MEMBERS = _op("searchDataProductMembers", "GET", "/api/data-product/{id}/members")
REQUEST_MASKING_EXCEPTION = _op(
    "requestMaskingException", "POST", "/api/data-product/{id}/request/masking-exception"
)
REVOKE_ACCESS = _op("revokeAccess", "DELETE", "/api/data-product/{id}/request/{requestId}")
RECENT_DETERMINATIONS = _op("recentDeterminations", "GET", "/api/data-product/{id}/recent-determinations")
GET_REQUEST_FORMS = _op("getRequestForms", "GET", "/api/data-product/{id}/request-forms")
SEARCH_DATA_PRODUCT_COLUMNS = _op("searchDataProductColumns", "GET", "/api/data-product/{id}/columns")
# Metadata.
GET_AVAILABLE_DOMAINS = _op("getAvailableDomains", "GET", "/api/metadata/domain")
GET_DOMAIN = _op("getDomain", "GET", "/api/metadata/domain/{id}")
GET_DOMAIN_DATA_SOURCES = _op("getDomainDataSources", "GET", "/api/metadata/domain/{id}/datasources")
GET_IMMUTA_USERS = _op("getImmutaUsers", "GET", "/api/metadata/users")
GET_IMMUTA_GROUPS = _op("getImmutaGroups", "GET", "/api/metadata/groups")
GET_IMMUTA_ATTRIBUTES = _op("getImmutaAttributes", "GET", "/api/metadata/attributes")
GET_IMMUTA_TAGS = _op("getImmutaTags", "GET", "/api/metadata/tags")
# Notifications and webhooks.
GET_USER_PREFERENCES = _op("getUserPreferences", "GET", "/api/notification/user-preferences")
UPDATE_USER_PREFERENCES = _op("updateUserPreferences", "PUT", "/api/notification/user-preferences")
GET_WEBHOOKS = _op("getWebhooks", "GET", "/api/notification/webhook")
CREATE_WEBHOOK = _op("createWebhook", "POST", "/api/notification/webhook")
GET_WEBHOOK = _op("getWebhook", "GET", "/api/notification/webhook/{id}")
UPDATE_WEBHOOK = _op("updateWebhook", "PUT", "/api/notification/webhook/{id}")
DELETE_WEBHOOK = _op("deleteWebhook", "DELETE", "/api/notification/webhook/{id}")
GET_WEBHOOK_HISTORY = _op("getWebhookHistory", "GET", "/api/notification/webhook/{id}/history")
TEST_WEBHOOK = _op("testWebhook", "POST", "/api/notification/webhook/{id}/test")
TEST_WEBHOOK_CONFIG = _op("testWebhookConfig", "POST", "/api/notification/webhook/test")
# Data use agreements.
CREATE_DATA_USE_AGREEMENT = _op("createDataUseAgreement", "POST", "/api/data-use-agreement")
SEARCH_DATA_USE_AGREEMENTS = _op("searchDataUseAgreements", "GET", "/api/data-use-agreement")
GET_DATA_USE_AGREEMENT_BY_ID = _op("getDataUseAgreementById", "GET", "/api/data-use-agreement/{id}")
UPDATE_DATA_USE_AGREEMENT = _op("updateDataUseAgreement", "PUT", "/api/data-use-agreement/{id}")
DELETE_DATA_USE_AGREEMENT = _op("deleteDataUseAgreement", "DELETE", "/api/data-use-agreement/{id}")
GET_ASSOCIATED_REQUEST_FORMS = _op(
    "getAssociatedRequestForms", "GET", "/api/data-use-agreement/{id}/request-forms"
)
# Request forms.
CREATE_REQUEST_FORM = _op("createRequestForm", "POST", "/api/request-form")
SEARCH_REQUEST_FORMS = _op("searchRequestForms", "GET", "/api/request-form")
GET_REQUEST_FORM_BY_ID = _op("getRequestFormById", "GET", "/api/request-form/{id}")
UPDATE_REQUEST_FORM = _op("updateRequestForm", "PUT", "/api/request-form/{id}")
DELETE_REQUEST_FORM_BY_ID = _op("deleteRequestFormById", "DELETE", "/api/request-form/{id}")
GET_REQUEST_FORM_BY_VERSION = _op("getRequestFormByVersion", "GET", "/api/request-form/version/{version}")
GET_DATA_PRODUCTS = _op("getDataProducts", "GET", "/api/request-form/{id}/data-products")
# Auth and settings.
GET_CURRENT_USER = _op("user", "GET", "/api/auth/user")
GET_FRONTEND_SETTINGS = _op("getFrontendSettings", "GET", "/api/settings/frontend")


# --------------------------------------------------------------------------------------------------
# Query parameters shared by the access-request searches.
# --------------------------------------------------------------------------------------------------


class AccessRequestFilters(TypedDict, total=False):
    """Filters common to the access-request searches (snake_case; sent as camelCase; ``None``: unset)."""

    search_text: str | None
    status: Sequence[AccessRequestStatus | str] | None
    type: Sequence[RequestType | str] | None
    user_ids: Sequence[str] | None
    expiration: bool | None
    data_product_id: str | None
    asset_id: str | None
    asset_type: Sequence[AssetType | str] | None
    target_type: Sequence[str] | None
    review_status: Sequence[ReviewStatusFilter | str] | None
    sort_order: SortOrder | str | None
    sort_by: AccessRequestSortBy | str | None


class DataProductRequestFilters(AccessRequestFilters, total=False):
    """Filters of a data product's request search."""

    include_temporary: bool | None
    # In the vendor's API reference (default true), though not in its OpenAPI spec.
    historical: bool | None


class AccessRequestSearchFilters(DataProductRequestFilters, total=False):
    """Filters of ``GET /api/access-request``; ``role`` picks requests the caller made or manages."""

    role: Sequence[AccessRequestRole | str] | None


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


def _camel_filters(filters: Mapping[str, Any]) -> dict[str, Any]:
    return {to_camel(name): value for name, value in filters.items()}


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


# --------------------------------------------------------------------------------------------------
# The client.
# --------------------------------------------------------------------------------------------------


class MarketplaceClient:
    """Async client for the Marketplace API at ``base_url`` (including ``/marketplace``).

    Use as ``async with MarketplaceClient(url, token) as client: ...`` or call :meth:`aclose`.
    ``sleep`` and ``rng`` are injectable so tests can record backoff delays instead of waiting.
    """

    def __init__(
        self,
        base_url: str,
        token: SecretStr | str | None = None,
        *,
        http: httpx.AsyncClient | None = None,
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
        self._http = (
            http
            if http is not None
            else httpx.AsyncClient(timeout=self._timeout, headers={"User-Agent": USER_AGENT})
        )

    @property
    def base_url(self) -> str:
        return self._base_url

    def with_token(self, token: SecretStr | str) -> MarketplaceClient:
        """A client acting as another user (their token); it shares this client's connection pool.

        Closing the returned client does not close the pool; close the original.
        """
        clone = copy.copy(self)
        clone._token = SecretStr(token) if isinstance(token, str) else token
        clone._auth = _BearerAuth(clone._token)
        clone._owns_http = False
        return clone

    async def aclose(self) -> None:
        """Close the HTTP client if this client created it."""
        if self._owns_http:
            await self._http.aclose()

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
        return f"MarketplaceClient(base_url={self._base_url!r}, authenticated={authenticated})"

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
            response = await self._http.request(
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

    # ---------------------------------------------------------------------------------------------
    # Access requests and approval records.
    # ---------------------------------------------------------------------------------------------

    async def search_access_requests(
        self, *, offset: int = 0, limit: int = 10, **filters: Unpack[AccessRequestSearchFilters]
    ) -> OffsetPage[AccessRequest]:
        """One page of the access requests the caller can see or manage."""
        params = {**_camel_filters(filters), "offset": offset, "limit": limit}
        return await self._call(SEARCH_ACCESS_REQUESTS, OffsetPage[AccessRequest], params=params)

    def iter_access_requests(
        self, *, page_size: int = 50, **filters: Unpack[AccessRequestSearchFilters]
    ) -> AsyncIterator[AccessRequest]:
        """Every access request matching ``filters``, across pages."""
        return iter_offset_pages(
            lambda offset, limit: self.search_access_requests(offset=offset, limit=limit, **filters),
            page_size=page_size,
        )

    async def get_approved_masking_exception_columns(self, user_id: str) -> list[RequestedColumn]:
        """The columns ``user_id`` (a global user id) holds approved masking exceptions for."""
        return await self._call(
            GET_APPROVED_MASKING_EXCEPTION_COLUMNS, list[RequestedColumn], params={"userId": user_id}
        )

    async def get_access_request_by_id(self, id: str) -> AccessRequest:
        """One access request."""
        return await self._call(GET_ACCESS_REQUEST_BY_ID, AccessRequest, path={"id": id})

    get_access_request = get_access_request_by_id

    async def cancel_access_request(self, id: str) -> None:
        """Cancel a pending request (the requester's action); pending and blocked records cancel too."""
        await self._send(CANCEL_ACCESS_REQUEST, path={"id": id})

    async def get_access_request_records(self, id: str) -> ApprovalRecords:
        """The approval records (review stages) of a request, in ``.approval_records``."""
        return await self._call(GET_ACCESS_REQUEST_RECORDS, ApprovalRecords, path={"id": id})

    async def get_risk_assessment(self, id: str) -> RiskAssessment:
        """The risk assessment of a request (only ``approval_risk`` while it is still pending)."""
        return await self._call(GET_RISK_ASSESSMENT, RiskAssessment, path={"id": id})

    async def search_access_request_masking_exception_columns(
        self, id: str, *, offset: int = 0, limit: int = 10
    ) -> OffsetPage[MaskingExceptionColumn]:
        """One page of the columns a masking-exception request asks for."""
        return await self._call(
            SEARCH_ACCESS_REQUEST_MASKING_EXCEPTION_COLUMNS,
            OffsetPage[MaskingExceptionColumn],
            path={"id": id},
            params={"offset": offset, "limit": limit},
        )

    def iter_access_request_masking_exception_columns(
        self, id: str, *, page_size: int = 50
    ) -> AsyncIterator[MaskingExceptionColumn]:
        """Every column a masking-exception request asks for."""
        return iter_offset_pages(
            lambda offset, limit: self.search_access_request_masking_exception_columns(
                id, offset=offset, limit=limit
            ),
            page_size=page_size,
        )

    async def update_approval_record(self, id: str, body: UpdateApprovalRecordRequest) -> ApprovalRecord:
        """Decide an approval record as one of its approvers (approve, optionally for a time; deny)."""
        return await self._call(UPDATE_APPROVAL_RECORD, ApprovalRecord, path={"id": id}, body=body)

    # ---------------------------------------------------------------------------------------------
    # Data products.
    # ---------------------------------------------------------------------------------------------

    async def search_data_products(
        self,
        *,
        next_token: str | None = None,
        limit: int = 10,
        sort_order: SortOrder | str | None = None,
        sort_by: DataProductSortBy | str | None = None,
        name_filter: str | None = None,
        status_filter: Sequence[AccessRequestStatus | str] | None = None,
        role_filter: Sequence[DataProductRole | str] | None = None,
        expiration: bool | None = None,
    ) -> TokenPage[DataProduct]:
        """One page of data products; pass the page's ``meta.next_token`` for the next one."""
        params = {
            "nextToken": next_token,
            "limit": limit,
            "sortOrder": sort_order,
            "sortBy": sort_by,
            "nameFilter": name_filter,
            "statusFilter": status_filter,
            "roleFilter": role_filter,
            "expiration": expiration,
        }
        return await self._call(SEARCH_DATA_PRODUCTS, TokenPage[DataProduct], params=params)

    def iter_data_products(
        self,
        *,
        page_size: int = 50,
        sort_order: SortOrder | str | None = None,
        sort_by: DataProductSortBy | str | None = None,
        name_filter: str | None = None,
        status_filter: Sequence[AccessRequestStatus | str] | None = None,
        role_filter: Sequence[DataProductRole | str] | None = None,
        expiration: bool | None = None,
    ) -> AsyncIterator[DataProduct]:
        """Every data product matching the filters, across pages."""
        return iter_token_pages(
            lambda token: self.search_data_products(
                next_token=token,
                limit=page_size,
                sort_order=sort_order,
                sort_by=sort_by,
                name_filter=name_filter,
                status_filter=status_filter,
                role_filter=role_filter,
                expiration=expiration,
            )
        )

    async def create_data_product(self, body: CreateDataProductRequest) -> DataProduct:
        """Create a data product."""
        return await self._call(CREATE_DATA_PRODUCT, DataProduct, body=body)

    async def get_data_product_by_id(self, id: str) -> DataProduct:
        """One data product."""
        return await self._call(GET_DATA_PRODUCT_BY_ID, DataProduct, path={"id": id})

    async def update_data_product(self, id: str, body: UpdateDataProductRequest) -> DataProduct:
        """Change a data product."""
        return await self._call(UPDATE_DATA_PRODUCT, DataProduct, path={"id": id}, body=body)

    async def delete_data_product(self, id: str) -> None:
        """Delete a data product."""
        await self._send(DELETE_DATA_PRODUCT, path={"id": id})

    async def get_data_product_by_name(self, name: str) -> DataProduct:
        """The data product called ``name``."""
        return await self._call(GET_DATA_PRODUCT_BY_NAME, DataProduct, path={"name": name})

    async def update_data_sources(self, id: str, body: UpdateDataSourcesRequest) -> DataProduct:
        """Replace the data sources of a data product."""
        return await self._call(UPDATE_DATA_SOURCES, DataProduct, path={"id": id}, body=body)

    async def search_data_sources(
        self,
        id: str,
        *,
        next_token: str | None = None,
        limit: int = 10,
        user: str | None = None,
        name_filter: str | None = None,
    ) -> TokenPage[DataSourceWithStatus]:
        """One page of a product's data sources, with ``user``'s (default: caller's) subscription."""
        params = {"nextToken": next_token, "limit": limit, "user": user, "nameFilter": name_filter}
        return await self._call(
            SEARCH_DATA_SOURCES, TokenPage[DataSourceWithStatus], path={"id": id}, params=params
        )

    def iter_data_sources(
        self, id: str, *, page_size: int = 50, user: str | None = None, name_filter: str | None = None
    ) -> AsyncIterator[DataSourceWithStatus]:
        """Every data source of a product, across pages."""
        return iter_token_pages(
            lambda token: self.search_data_sources(
                id, next_token=token, limit=page_size, user=user, name_filter=name_filter
            )
        )

    async def get_all_data_sources(self, id: str) -> AllDataSources:
        """The ids of all of a product's data sources, unpaginated."""
        return await self._call(GET_ALL_DATA_SOURCES, AllDataSources, path={"id": id})

    async def search_data_product_access_requests(
        self, id: str, *, offset: int = 0, limit: int = 10, **filters: Unpack[DataProductRequestFilters]
    ) -> OffsetPage[AccessRequest]:
        """One page of the access requests for a data product."""
        params = {**_camel_filters(filters), "offset": offset, "limit": limit}
        return await self._call(
            SEARCH_DATA_PRODUCT_ACCESS_REQUESTS, OffsetPage[AccessRequest], path={"id": id}, params=params
        )

    def iter_data_product_access_requests(
        self, id: str, *, page_size: int = 50, **filters: Unpack[DataProductRequestFilters]
    ) -> AsyncIterator[AccessRequest]:
        """Every access request for a data product, across pages."""
        return iter_offset_pages(
            lambda offset, limit: self.search_data_product_access_requests(
                id, offset=offset, limit=limit, **filters
            ),
            page_size=page_size,
        )

    async def request_access(self, id: str, body: CreateAccessRequest) -> AccessRequest:
        """Request access to data product ``id``. Never retried once it may have reached the server."""
        return await self._call(REQUEST_ACCESS, AccessRequest, path={"id": id}, body=body)

    async def search_data_product_members(
        self, id: str, *, offset: int = 0, limit: int = 10, **filters: Unpack[AccessRequestFilters]
    ) -> OffsetPage[AccessRequest]:
        """One page of a product's members: the requests that give (or gave) someone access."""
        params = {**_camel_filters(filters), "offset": offset, "limit": limit}
        return await self._call(
            SEARCH_DATA_PRODUCT_MEMBERS, OffsetPage[AccessRequest], path={"id": id}, params=params
        )

    def iter_data_product_members(
        self, id: str, *, page_size: int = 50, **filters: Unpack[AccessRequestFilters]
    ) -> AsyncIterator[AccessRequest]:
        """Every member of a data product, across pages."""
        return iter_offset_pages(
            lambda offset, limit: self.search_data_product_members(id, offset=offset, limit=limit, **filters),
            page_size=page_size,
        )

    async def request_masking_exception(self, id: str, body: CreateMaskingExceptionRequest) -> AccessRequest:
        """Request unmasked access to columns of data product ``id``. Not retried (it creates)."""
        return await self._call(REQUEST_MASKING_EXCEPTION, AccessRequest, path={"id": id}, body=body)

    async def revoke_access(self, id: str, request_id: str) -> None:
        """Revoke the access granted by request ``request_id`` on data product ``id``."""
        await self._send(REVOKE_ACCESS, path={"id": id, "requestId": request_id})

    async def recent_determinations(
        self, id: str, *, type: RequestType | str | None = None
    ) -> RecentDeterminations:
        """Recent manual decisions on a product's requests (of one request type, default data access)."""
        return await self._call(
            RECENT_DETERMINATIONS, RecentDeterminations, path={"id": id}, params={"type": type}
        )

    async def get_request_forms(self, id: str) -> list[DataProductRequestForm]:
        """The request forms of a data product, one per request type."""
        return await self._call(GET_REQUEST_FORMS, list[DataProductRequestForm], path={"id": id})

    async def search_data_product_columns(
        self,
        id: str,
        *,
        offset: int = 0,
        limit: int = 10,
        sort_order: SortOrder | str | None = None,
        search_text: str | None = None,
        masked_only: bool | None = None,
        tag_ids: Sequence[str] | None = None,
        dir: ColumnSortDirection | str | None = None,
        data_source_ids: Sequence[str] | None = None,
    ) -> OffsetPage[DataProductColumn]:
        """One page of the columns of a product's data sources (``masked_only``: masked ones)."""
        params = {
            "offset": offset,
            "limit": limit,
            "sortOrder": sort_order,
            "searchText": search_text,
            "maskedOnly": masked_only,
            "tagIds": tag_ids,
            "dir": dir,
            "dataSourceIds": data_source_ids,
        }
        return await self._call(
            SEARCH_DATA_PRODUCT_COLUMNS, OffsetPage[DataProductColumn], path={"id": id}, params=params
        )

    def iter_data_product_columns(
        self,
        id: str,
        *,
        page_size: int = 50,
        search_text: str | None = None,
        masked_only: bool | None = None,
    ) -> AsyncIterator[DataProductColumn]:
        """Every column of a product's data sources, across pages."""
        return iter_offset_pages(
            lambda offset, limit: self.search_data_product_columns(
                id, offset=offset, limit=limit, search_text=search_text, masked_only=masked_only
            ),
            page_size=page_size,
        )

    # ---------------------------------------------------------------------------------------------
    # Metadata.
    # ---------------------------------------------------------------------------------------------

    async def get_available_domains(self) -> DomainList:
        """The domains the caller can see."""
        return await self._call(GET_AVAILABLE_DOMAINS, DomainList)

    async def get_domain(self, id: str) -> Domain:
        """One domain."""
        return await self._call(GET_DOMAIN, Domain, path={"id": id})

    async def get_domain_data_sources(
        self,
        id: str,
        *,
        offset: int = 0,
        limit: int = 10,
        search_text: str | None = None,
        data_source_ids: Sequence[int] | None = None,
    ) -> OffsetPage[ImmutaDataSource]:
        """One page of the data sources in a domain."""
        params = {
            "offset": offset,
            "limit": limit,
            "searchText": search_text,
            "dataSourceIds": data_source_ids,
        }
        return await self._call(
            GET_DOMAIN_DATA_SOURCES, OffsetPage[ImmutaDataSource], path={"id": id}, params=params
        )

    def iter_domain_data_sources(
        self, id: str, *, page_size: int = 50, search_text: str | None = None
    ) -> AsyncIterator[ImmutaDataSource]:
        """Every data source in a domain, across pages."""
        return iter_offset_pages(
            lambda offset, limit: self.get_domain_data_sources(
                id, offset=offset, limit=limit, search_text=search_text
            ),
            page_size=page_size,
        )

    async def get_immuta_users(
        self,
        *,
        limit: int | None = None,
        filter: str | None = None,
        global_user_id: Sequence[str] | None = None,
    ) -> ImmutaUserList:
        """Immuta users matching ``filter`` or with the given global user ids."""
        params = {"limit": limit, "filter": filter, "globalUserId": global_user_id}
        return await self._call(GET_IMMUTA_USERS, ImmutaUserList, params=params)

    async def get_immuta_groups(
        self, *, limit: int | None = None, filter: str | None = None
    ) -> ImmutaGroupList:
        """Immuta groups matching ``filter``."""
        return await self._call(GET_IMMUTA_GROUPS, ImmutaGroupList, params={"limit": limit, "filter": filter})

    async def get_immuta_attributes(
        self, *, search: str | None = None, type: str | None = None
    ) -> ImmutaAttributeList:
        """User attributes (key/value pairs) matching ``search``."""
        return await self._call(
            GET_IMMUTA_ATTRIBUTES, ImmutaAttributeList, params={"search": search, "type": type}
        )

    async def get_immuta_tags(
        self, *, search_text: str | None = None, fuzzy_search: bool | None = None, limit: int | None = None
    ) -> list[ImmutaTag]:
        """Immuta tags matching ``search_text``."""
        params = {"searchText": search_text, "fuzzySearch": fuzzy_search, "limit": limit}
        return await self._call(GET_IMMUTA_TAGS, list[ImmutaTag], params=params)

    # ---------------------------------------------------------------------------------------------
    # Notifications and webhooks.
    # ---------------------------------------------------------------------------------------------

    async def get_user_preferences(self) -> list[UserPreference]:
        """The caller's notification preferences, per provider."""
        return await self._call(GET_USER_PREFERENCES, list[UserPreference])

    async def update_user_preferences(
        self, body: UpdateUserPreferencesRequest
    ) -> UpdateUserPreferencesResponse:
        """Change the caller's notification preferences."""
        return await self._call(UPDATE_USER_PREFERENCES, UpdateUserPreferencesResponse, body=body)

    async def get_webhooks(self) -> list[Webhook]:
        """The registered webhooks."""
        return await self._call(GET_WEBHOOKS, list[Webhook])

    async def create_webhook(self, body: CreateWebhookRequest) -> Webhook:
        """Register a webhook. Not retried once it may have reached the server."""
        return await self._call(CREATE_WEBHOOK, Webhook, body=body)

    async def get_webhook(self, id: str) -> Webhook:
        """One webhook."""
        return await self._call(GET_WEBHOOK, Webhook, path={"id": id})

    async def update_webhook(self, id: str, body: UpdateWebhookRequest) -> Webhook:
        """Change a webhook's URL, TLS verification or signing key."""
        return await self._call(UPDATE_WEBHOOK, Webhook, path={"id": id}, body=body)

    async def delete_webhook(self, id: str) -> None:
        """Remove a webhook."""
        await self._send(DELETE_WEBHOOK, path={"id": id})

    async def get_webhook_history(
        self, id: str, *, offset: int = 0, limit: int = 10
    ) -> OffsetPage[WebhookDelivery]:
        """One page of a webhook's delivery history."""
        return await self._call(
            GET_WEBHOOK_HISTORY,
            OffsetPage[WebhookDelivery],
            path={"id": id},
            params={"offset": offset, "limit": limit},
        )

    def iter_webhook_history(self, id: str, *, page_size: int = 50) -> AsyncIterator[WebhookDelivery]:
        """A webhook's whole delivery history, across pages."""
        return iter_offset_pages(
            lambda offset, limit: self.get_webhook_history(id, offset=offset, limit=limit),
            page_size=page_size,
        )

    async def test_webhook(self, id: str) -> WebhookTestResult:
        """Send a test delivery to a registered webhook."""
        return await self._call(TEST_WEBHOOK, WebhookTestResult, path={"id": id})

    async def test_webhook_config(self, body: CreateWebhookRequest) -> WebhookTestResult:
        """Send a test delivery to a webhook configuration before registering it."""
        return await self._call(TEST_WEBHOOK_CONFIG, WebhookTestResult, body=body)

    # ---------------------------------------------------------------------------------------------
    # Data use agreements.
    # ---------------------------------------------------------------------------------------------

    async def create_data_use_agreement(self, body: CreateDataUseAgreementRequest) -> DataUseAgreement:
        """Create a data use agreement."""
        return await self._call(CREATE_DATA_USE_AGREEMENT, DataUseAgreement, body=body)

    async def search_data_use_agreements(
        self,
        *,
        offset: int = 0,
        limit: int = 10,
        sort_order: SortOrder | str | None = None,
        sort_by: CatalogSortBy | str | None = None,
        name_filter: str | None = None,
        exact_match: bool | None = None,
    ) -> OffsetPage[DataUseAgreement]:
        """One page of data use agreements."""
        params = {
            "offset": offset,
            "limit": limit,
            "sortOrder": sort_order,
            "sortBy": sort_by,
            "nameFilter": name_filter,
            "exactMatch": exact_match,
        }
        return await self._call(SEARCH_DATA_USE_AGREEMENTS, OffsetPage[DataUseAgreement], params=params)

    def iter_data_use_agreements(
        self, *, page_size: int = 50, name_filter: str | None = None
    ) -> AsyncIterator[DataUseAgreement]:
        """Every data use agreement, across pages."""
        return iter_offset_pages(
            lambda offset, limit: self.search_data_use_agreements(
                offset=offset, limit=limit, name_filter=name_filter
            ),
            page_size=page_size,
        )

    async def get_data_use_agreement_by_id(self, id: str) -> DataUseAgreement:
        """One data use agreement."""
        return await self._call(GET_DATA_USE_AGREEMENT_BY_ID, DataUseAgreement, path={"id": id})

    async def update_data_use_agreement(
        self, id: str, body: UpdateDataUseAgreementRequest
    ) -> DataUseAgreement:
        """Change a data use agreement."""
        return await self._call(UPDATE_DATA_USE_AGREEMENT, DataUseAgreement, path={"id": id}, body=body)

    async def delete_data_use_agreement(self, id: str) -> None:
        """Delete a data use agreement."""
        await self._send(DELETE_DATA_USE_AGREEMENT, path={"id": id})

    async def get_associated_request_forms(self, id: str) -> list[AssociatedRequestForm]:
        """The request forms that include a data use agreement."""
        return await self._call(GET_ASSOCIATED_REQUEST_FORMS, list[AssociatedRequestForm], path={"id": id})

    # ---------------------------------------------------------------------------------------------
    # Request forms.
    # ---------------------------------------------------------------------------------------------

    async def create_request_form(self, body: CreateRequestFormRequest) -> RequestForm:
        """Create a request form."""
        return await self._call(CREATE_REQUEST_FORM, RequestForm, body=body)

    async def search_request_forms(
        self,
        *,
        offset: int = 0,
        limit: int = 10,
        sort_order: SortOrder | str | None = None,
        sort_by: CatalogSortBy | str | None = None,
        name_filter: str | None = None,
        exact_match: bool | None = None,
    ) -> OffsetPage[RequestFormSummary]:
        """One page of request forms."""
        params = {
            "offset": offset,
            "limit": limit,
            "sortOrder": sort_order,
            "sortBy": sort_by,
            "nameFilter": name_filter,
            "exactMatch": exact_match,
        }
        return await self._call(SEARCH_REQUEST_FORMS, OffsetPage[RequestFormSummary], params=params)

    def iter_request_forms(
        self, *, page_size: int = 50, name_filter: str | None = None
    ) -> AsyncIterator[RequestFormSummary]:
        """Every request form, across pages."""
        return iter_offset_pages(
            lambda offset, limit: self.search_request_forms(
                offset=offset, limit=limit, name_filter=name_filter
            ),
            page_size=page_size,
        )

    async def get_request_form_by_id(self, id: str) -> RequestForm:
        """The current version of a request form."""
        return await self._call(GET_REQUEST_FORM_BY_ID, RequestForm, path={"id": id})

    async def update_request_form(self, id: str, body: UpdateRequestFormRequest) -> RequestForm:
        """Change a request form (this makes a new version)."""
        return await self._call(UPDATE_REQUEST_FORM, RequestForm, path={"id": id}, body=body)

    async def delete_request_form_by_id(self, id: str) -> None:
        """Delete a request form."""
        await self._send(DELETE_REQUEST_FORM_BY_ID, path={"id": id})

    async def get_request_form_by_version(self, version: str) -> RequestForm:
        """A request form as it was at ``version`` (an access request's ``form_version``)."""
        return await self._call(GET_REQUEST_FORM_BY_VERSION, RequestForm, path={"version": version})

    async def get_data_products(self, id: str) -> list[LinkedDataProduct]:
        """The data products that use request form ``id``."""
        return await self._call(GET_DATA_PRODUCTS, list[LinkedDataProduct], path={"id": id})

    # ---------------------------------------------------------------------------------------------
    # Auth and settings.
    # ---------------------------------------------------------------------------------------------

    async def get_current_user(self) -> CurrentUser:
        """Who the token belongs to, with their permissions and groups (``GET /api/auth/user``)."""
        return await self._call(GET_CURRENT_USER, CurrentUser)

    async def get_frontend_settings(self) -> FrontendSettings:
        """Branding (theme colours and logos) and feature-flag settings."""
        return await self._call(GET_FRONTEND_SETTINGS, FrontendSettings)


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


__all__ = [
    "OPERATIONS",
    "AccessRequestFilters",
    "AccessRequestSearchFilters",
    "DataProductRequestFilters",
    "MarketplaceClient",
    "Operation",
]
