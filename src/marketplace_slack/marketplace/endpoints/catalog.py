"""Catalogue look-ups (domains, data sources, users, groups, attributes, tags), the caller, settings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from marketplace_slack.marketplace.models import (
    CurrentUser,
    Domain,
    DomainList,
    FrontendSettings,
    ImmutaAttributeList,
    ImmutaDataSource,
    ImmutaGroupList,
    ImmutaTag,
    ImmutaUserList,
    OffsetPage,
)
from marketplace_slack.marketplace.operations import (
    GET_AVAILABLE_DOMAINS,
    GET_CURRENT_USER,
    GET_DOMAIN,
    GET_DOMAIN_DATA_SOURCES,
    GET_FRONTEND_SETTINGS,
    GET_IMMUTA_ATTRIBUTES,
    GET_IMMUTA_GROUPS,
    GET_IMMUTA_TAGS,
    GET_IMMUTA_USERS,
)
from marketplace_slack.marketplace.pagination import iter_offset_pages
from marketplace_slack.marketplace.transport import Transport


class CatalogEndpoints(Transport):
    """Catalogue look-ups (domains, data sources, users, groups, attributes, tags), the caller, settings."""

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
    # Auth and settings.
    # ---------------------------------------------------------------------------------------------

    async def get_current_user(self) -> CurrentUser:
        """Who the token belongs to, with their permissions and groups (``GET /api/auth/user``)."""
        return await self._call(GET_CURRENT_USER, CurrentUser)

    async def get_frontend_settings(self) -> FrontendSettings:
        """Branding (theme colours and logos) and feature-flag settings."""
        return await self._call(GET_FRONTEND_SETTINGS, FrontendSettings)
