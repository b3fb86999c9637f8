"""Request forms and the data use agreements they include."""

from __future__ import annotations

from collections.abc import AsyncIterator

from marketplace_slack.marketplace.models import (
    AssociatedRequestForm,
    CatalogSortBy,
    CreateDataUseAgreementRequest,
    CreateRequestFormRequest,
    DataUseAgreement,
    LinkedDataProduct,
    OffsetPage,
    RequestForm,
    RequestFormSummary,
    SortOrder,
    UpdateDataUseAgreementRequest,
    UpdateRequestFormRequest,
)
from marketplace_slack.marketplace.operations import (
    CREATE_DATA_USE_AGREEMENT,
    CREATE_REQUEST_FORM,
    DELETE_DATA_USE_AGREEMENT,
    DELETE_REQUEST_FORM_BY_ID,
    GET_ASSOCIATED_REQUEST_FORMS,
    GET_DATA_PRODUCTS,
    GET_DATA_USE_AGREEMENT_BY_ID,
    GET_REQUEST_FORM_BY_ID,
    GET_REQUEST_FORM_BY_VERSION,
    SEARCH_DATA_USE_AGREEMENTS,
    SEARCH_REQUEST_FORMS,
    UPDATE_DATA_USE_AGREEMENT,
    UPDATE_REQUEST_FORM,
)
from marketplace_slack.marketplace.pagination import iter_offset_pages
from marketplace_slack.marketplace.transport import Transport


class FormEndpoints(Transport):
    """Request forms and the data use agreements they include."""

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
