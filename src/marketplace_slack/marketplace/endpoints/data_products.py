"""Data products: the products, their data sources, requests, members and columns."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Unpack

from marketplace_slack.marketplace.endpoints.access_requests import (
    AccessRequestFilters,
    DataProductRequestFilters,
    camel_filters,
)
from marketplace_slack.marketplace.models import (
    AccessRequest,
    AccessRequestStatus,
    AllDataSources,
    ColumnSortDirection,
    CreateAccessRequest,
    CreateDataProductRequest,
    CreateMaskingExceptionRequest,
    DataProduct,
    DataProductColumn,
    DataProductRequestForm,
    DataProductRole,
    DataProductSortBy,
    DataSourceWithStatus,
    OffsetPage,
    RecentDeterminations,
    RequestType,
    SortOrder,
    TokenPage,
    UpdateDataProductRequest,
    UpdateDataSourcesRequest,
)
from marketplace_slack.marketplace.operations import (
    CREATE_DATA_PRODUCT,
    DELETE_DATA_PRODUCT,
    GET_ALL_DATA_SOURCES,
    GET_DATA_PRODUCT_BY_ID,
    GET_DATA_PRODUCT_BY_NAME,
    GET_REQUEST_FORMS,
    RECENT_DETERMINATIONS,
    REQUEST_ACCESS,
    REQUEST_MASKING_EXCEPTION,
    REVOKE_ACCESS,
    SEARCH_DATA_PRODUCT_ACCESS_REQUESTS,
    SEARCH_DATA_PRODUCT_COLUMNS,
    SEARCH_DATA_PRODUCT_MEMBERS,
    SEARCH_DATA_PRODUCTS,
    SEARCH_DATA_SOURCES,
    UPDATE_DATA_PRODUCT,
    UPDATE_DATA_SOURCES,
)
from marketplace_slack.marketplace.pagination import iter_offset_pages, iter_token_pages
from marketplace_slack.marketplace.transport import Transport


class DataProductEndpoints(Transport):
    """Data products: the products, their data sources, requests, members and columns."""

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
        params = {**camel_filters(filters), "offset": offset, "limit": limit}
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
        params = {**camel_filters(filters), "offset": offset, "limit": limit}
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
