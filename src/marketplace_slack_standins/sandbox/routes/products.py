"""Data products and what hangs off them: ``/api/data-product/...``."""

from __future__ import annotations

from aiohttp import web

from marketplace_slack_standins.sandbox import access, catalog, render
from marketplace_slack_standins.sandbox.catalog import ProductSpec
from marketplace_slack_standins.sandbox.errors import not_found
from marketplace_slack_standins.sandbox.model import DataProduct, User
from marketplace_slack_standins.sandbox.paging import offset_page, token_page
from marketplace_slack_standins.sandbox.queries import ProductFilter, search_products
from marketplace_slack_standins.sandbox.routes.bodies import (
    CreateAccessRequest,
    CreateDataProduct,
    CreateMaskingExceptionRequest,
    UpdateDataProduct,
    UpdateDataSources,
)
from marketplace_slack_standins.sandbox.routes.common import API, Query, body, caller, empty, ok, state_of
from marketplace_slack_standins.sandbox.routes.requests import (
    REQUEST_STATUSES,
    page_of_requests,
    request_filter,
)
from marketplace_slack_standins.sandbox.state import SandboxState

PRODUCT_ROLES = ("manager", "member", "noRole", "steward")
RECENT_DETERMINATIONS = 5


def _product(request: web.Request) -> DataProduct:
    return state_of(request).product(request.match_info["id"])


def _spec(payload: UpdateDataProduct, sources: list[str] | None = None) -> ProductSpec:
    given = payload.model_fields_set
    return ProductSpec(
        name=payload.name,
        description=payload.description,
        clear_description="description" in given and payload.description is None,
        expert_id=payload.metadata.subjectMatterExpert.id if payload.metadata else None,
        clear_expert="metadata" in given and payload.metadata is None,
        domain_ids=payload.domains,
        source_ids=sources,
        product_id=payload.id,
        data_access_form_id=payload.dataAccessRequestFormId or payload.requestFormId,
        masking_form_id=payload.maskingExceptionRequestFormId,
        data_access_policy=payload.dataAccessReviewFlow or payload.dataAccessPolicy,
        masking_policy=payload.maskingExceptionReviewFlow or payload.maskingExceptionPolicy,
        suspended=payload.suspended,
    )


async def search(request: web.Request) -> web.Response:
    state = state_of(request)
    user = caller(request)
    q = Query(request)
    q.choice("sortBy", ("name",), "name")
    f = ProductFilter(
        name=q.text("nameFilter"),
        statuses=q.many("statusFilter", REQUEST_STATUSES),
        roles=q.many("roleFilter", PRODUCT_ROLES),
        expiration=q.flag("expiration"),
        sort_order=q.choice("sortOrder", ("asc", "desc"), "asc"),
    )
    found = search_products(state, user, f)
    page, meta = token_page(found, q.text("nextToken"), q.number("limit", 10, minimum=1, maximum=100))
    return ok({"data": [render.product(state, p, user) for p in page], "meta": meta})


async def create(request: web.Request) -> web.Response:
    payload = await body(request, CreateDataProduct)
    state = state_of(request)
    spec = _spec(payload, [s.sourceId for s in payload.dataSources])
    product = catalog.create_product(state, caller(request), spec)
    return ok(render.product(state, product, caller(request)), 201)


async def get_one(request: web.Request) -> web.Response:
    return ok(render.product(state_of(request), _product(request), caller(request)))


async def by_name(request: web.Request) -> web.Response:
    state = state_of(request)
    return ok(render.product(state, state.product_named(request.match_info["name"]), caller(request)))


async def update(request: web.Request) -> web.Response:
    payload = await body(request, UpdateDataProduct)
    state = state_of(request)
    product = catalog.update_product(state, caller(request), request.match_info["id"], _spec(payload))
    return ok(render.product(state, product, caller(request)))


async def delete(request: web.Request) -> web.Response:
    catalog.delete_product(state_of(request), caller(request), request.match_info["id"])
    return empty(200)


async def set_sources(request: web.Request) -> web.Response:
    payload = await body(request, UpdateDataSources)
    state = state_of(request)
    ids = [s.sourceId for s in payload.dataSources]
    product = catalog.set_sources(state, caller(request), request.match_info["id"], ids)
    return ok(render.product(state, product, caller(request)))


def _source_status(state: SandboxState, product: DataProduct, user: User) -> str:
    latest = state.latest_request(product, user)
    if latest is None or latest.status != "APPROVED":
        return "NONE"
    return "RESTRICTED" if product.suspended else "SUBSCRIBED"


async def sources(request: web.Request) -> web.Response:
    state = state_of(request)
    product = _product(request)
    q = Query(request)
    user_id = q.text("user")
    subject = state.find_user(user_id) if user_id else caller(request)
    if subject is None:
        raise not_found(f"User {user_id} not found")
    needle = (q.text("nameFilter") or "").casefold()
    found = [state.sources[s] for s in product.source_ids if needle in state.sources[s].name.casefold()]
    found.sort(key=lambda s: (s.name, s.source_id))
    page, meta = token_page(found, q.text("nextToken"), q.number("limit", 10, minimum=1, maximum=100))
    status = _source_status(state, product, subject)
    return ok({"data": [render.product_source(s, status) for s in page], "meta": meta})


async def all_sources(request: web.Request) -> web.Response:
    return ok({"dataSources": [{"sourceId": str(s)} for s in _product(request).source_ids]})


async def columns(request: web.Request) -> web.Response:
    state = state_of(request)
    product = _product(request)
    q = Query(request)
    needle = (q.text("searchText") or "").casefold()
    masked_only = q.flag("maskedOnly", False)
    tags = set(q.many("tagIds"))
    tag_names = {t.name for t in state.tags.values() if str(t.id) in tags} | tags
    wanted_sources = set(q.many("dataSourceIds"))
    found = [
        (source, column)
        for source in (state.sources[s] for s in product.source_ids)
        if not wanted_sources or str(source.source_id) in wanted_sources
        for column in source.columns
        if needle in column.name.casefold()
        and (not masked_only or column.masking)
        and (not tags or tag_names & set(column.tags))
    ]
    descending = (
        q.choice("sortOrder", ("asc", "desc"), "asc") == "desc"
        or q.choice("dir", ("ASC", "DESC"), "ASC") == "DESC"
    )
    found.sort(key=lambda sc: (sc[1].name, sc[0].source_id), reverse=descending)
    page, meta = offset_page(found, q.number("offset", 0, minimum=0), q.number("limit", 10, minimum=1))
    return ok({"data": [render.column(s, c) for s, c in page], "meta": meta})


async def product_requests(request: web.Request) -> web.Response:
    product = _product(request)
    return page_of_requests(request, request_filter(Query(request)), product.id)


async def members(request: web.Request) -> web.Response:
    """Approved, unexpired requests (the Members tab); any status filter given replaces that default."""
    product = _product(request)
    f = request_filter(Query(request), roles=False)
    f.statuses = f.statuses or ["APPROVED"]
    return page_of_requests(request, f, product.id)


async def request_access(request: web.Request) -> web.Response:
    payload = await body(request, CreateAccessRequest)
    state = state_of(request)
    created = access.request_access(
        state, caller(request), request.match_info["id"], user_id=payload.user, form=payload.form
    )
    return ok(render.request(state, created), 201)


async def request_masking_exception(request: web.Request) -> web.Response:
    payload = await body(request, CreateMaskingExceptionRequest)
    state = state_of(request)
    created = access.request_access(
        state,
        caller(request),
        request.match_info["id"],
        user_id=payload.user,
        form=payload.form,
        kind="MASKING_EXCEPTION",
        columns=[(c.sourceId, c.columnName) for c in payload.columns],
    )
    return ok(render.request(state, created), 201)


async def revoke(request: web.Request) -> web.Response:
    access.revoke(
        state_of(request), caller(request), request.match_info["id"], request.match_info["requestId"]
    )
    return empty()


async def recent_determinations(request: web.Request) -> web.Response:
    """The five latest requests settled by a steward, each with the record that settled it."""
    state = state_of(request)
    product = _product(request)
    kind = Query(request).choice("type", ("DATA_ACCESS", "MASKING_EXCEPTION"), "DATA_ACCESS")
    entries = []
    for req in state.product_requests(product):
        if req.type != kind or req.settled_at is None:
            continue
        deciding = [r for r in req.records if r.action_by is not None and r.status in ("APPROVED", "DENIED")]
        if deciding:
            settling = next(
                (r for r in deciding if r.status == "DENIED"), max(deciding, key=lambda r: r.updated_at)
            )
            entries.append((req.settled_at, req, settling))
    entries.sort(key=lambda e: (e[0], e[1].id), reverse=True)
    return ok(
        {
            "determinations": [
                render.determination(req, rec) for _, req, rec in entries[:RECENT_DETERMINATIONS]
            ]
        }
    )


async def request_forms(request: web.Request) -> web.Response:
    state = state_of(request)
    product = _product(request)
    return ok(
        [
            render.product_form(state.current_form(product, kind), kind)
            for kind in ("DATA_ACCESS", "MASKING_EXCEPTION")
        ]
    )


def register(app: web.Application) -> None:
    r = app.router
    base = f"{API}/data-product"
    r.add_get(base, search)
    r.add_post(base, create)
    r.add_get(f"{base}/{{name}}/byName", by_name)
    r.add_get(f"{base}/{{id}}", get_one)
    r.add_put(f"{base}/{{id}}", update)
    r.add_delete(f"{base}/{{id}}", delete)
    r.add_get(f"{base}/{{id}}/datasources/all", all_sources)
    r.add_get(f"{base}/{{id}}/datasources", sources)
    r.add_put(f"{base}/{{id}}/datasources", set_sources)
    r.add_get(f"{base}/{{id}}/columns", columns)
    r.add_get(f"{base}/{{id}}/request", product_requests)
    r.add_post(f"{base}/{{id}}/request", request_access)
    r.add_post(f"{base}/{{id}}/request/masking-exception", request_masking_exception)
    r.add_delete(f"{base}/{{id}}/request/{{requestId}}", revoke)
    r.add_get(f"{base}/{{id}}/members", members)
    r.add_get(f"{base}/{{id}}/recent-determinations", recent_determinations)
    r.add_get(f"{base}/{{id}}/request-forms", request_forms)
