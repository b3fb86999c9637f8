"""Access requests and approval records, and the filters of the access-request searches."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, TypedDict, Unpack

from pydantic.alias_generators import to_camel

from marketplace_slack.marketplace.models import (
    AccessRequest,
    AccessRequestRole,
    AccessRequestSortBy,
    AccessRequestStatus,
    ApprovalRecord,
    ApprovalRecords,
    AssetType,
    MaskingExceptionColumn,
    OffsetPage,
    RequestedColumn,
    RequestType,
    ReviewStatusFilter,
    RiskAssessment,
    SortOrder,
    UpdateApprovalRecordRequest,
)
from marketplace_slack.marketplace.operations import (
    CANCEL_ACCESS_REQUEST,
    GET_ACCESS_REQUEST_BY_ID,
    GET_ACCESS_REQUEST_RECORDS,
    GET_APPROVED_MASKING_EXCEPTION_COLUMNS,
    GET_RISK_ASSESSMENT,
    SEARCH_ACCESS_REQUEST_MASKING_EXCEPTION_COLUMNS,
    SEARCH_ACCESS_REQUESTS,
    UPDATE_APPROVAL_RECORD,
)
from marketplace_slack.marketplace.pagination import iter_offset_pages
from marketplace_slack.marketplace.transport import Transport

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


def camel_filters(filters: Mapping[str, Any]) -> dict[str, Any]:
    """The filters under their wire (camelCase) names."""
    return {to_camel(name): value for name, value in filters.items()}


class AccessRequestEndpoints(Transport):
    """Access requests and approval records, and the filters of the access-request searches."""

    async def search_access_requests(
        self, *, offset: int = 0, limit: int = 10, **filters: Unpack[AccessRequestSearchFilters]
    ) -> OffsetPage[AccessRequest]:
        """One page of the access requests the caller can see or manage."""
        params = {**camel_filters(filters), "offset": offset, "limit": limit}
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
