"""Access requests, approval records and risk: ``/api/access-request`` and ``/api/approval-record``."""

from __future__ import annotations

from aiohttp import web

from marketplace_slack_standins.sandbox import access, render, risk
from marketplace_slack_standins.sandbox.errors import forbidden, not_found
from marketplace_slack_standins.sandbox.paging import offset_page
from marketplace_slack_standins.sandbox.queries import ALL_ROLES, RequestFilter, search_requests
from marketplace_slack_standins.sandbox.routes.bodies import UpdateApprovalRecord
from marketplace_slack_standins.sandbox.routes.common import API, Query, body, caller, empty, ok, state_of

REQUEST_STATUSES = ("APPROVED", "CANCELED", "DENIED", "PENDING", "NONE", "PUBLISHER", "REVOKED", "EXPIRED")
REQUEST_TYPES = ("DATA_ACCESS", "MASKING_EXCEPTION")
SORT_KEYS = ("status", "dataProduct", "createdAt", "updatedAt", "expiration")
REVIEW_STATUSES = ("noReviews", "reviewedByYou", "awaitingReviewFromYou")


def request_filter(q: Query, *, roles: bool = True) -> RequestFilter:
    """The search parameters shared by the request searches (asset filters are accepted and ignored)."""
    product_id = q.text("dataProductId")
    return RequestFilter(
        search_text=q.text("searchText"),
        statuses=q.many("status", REQUEST_STATUSES),
        types=q.many("type", REQUEST_TYPES),
        user_ids=q.many("userIds"),
        expiration=q.flag("expiration"),
        historical=bool(q.flag("historical", True)),
        roles=(q.many("role", ALL_ROLES) or list(ALL_ROLES)) if roles else None,
        product_id=product_id,
        review_statuses=q.many("reviewStatus", REVIEW_STATUSES),
        sort_by=q.choice("sortBy", SORT_KEYS, "createdAt"),
        sort_order=q.choice("sortOrder", ("asc", "desc"), "desc"),
    )


def page_of_requests(request: web.Request, f: RequestFilter, product_id: str | None = None) -> web.Response:
    state = state_of(request)
    q = Query(request)
    offset, limit = q.number("offset", 0, minimum=0), q.number("limit", 10, minimum=1)
    candidates = None
    if product_id is not None:
        candidates = state.product_requests(state.product(product_id))
    found = search_requests(state, caller(request), f, candidates)
    page, meta = offset_page(found, offset, limit)
    return ok({"data": [render.request(state, r) for r in page], "meta": meta})


async def search(request: web.Request) -> web.Response:
    return page_of_requests(request, request_filter(Query(request)))


async def get_one(request: web.Request) -> web.Response:
    state = state_of(request)
    req = state.request(request.match_info["id"])
    if not state.can_view(caller(request), req):
        raise forbidden(f"{caller(request).username} may not view access request {req.id}")
    return ok(render.request(state, req))


async def cancel(request: web.Request) -> web.Response:
    access.cancel(state_of(request), caller(request), request.match_info["id"])
    return empty()


async def records(request: web.Request) -> web.Response:
    state = state_of(request)
    req = state.request(request.match_info["id"])
    if not state.can_view(caller(request), req):
        raise forbidden(f"{caller(request).username} may not view access request {req.id}")
    return ok({"approvalRecords": [render.record(r) for r in req.records]})


async def risk_assessment(request: web.Request) -> web.Response:
    state = state_of(request)
    user = caller(request)
    req = state.request(request.match_info["id"])
    product = state.products[req.product_id]
    # Risk is a reviewer's tool: stewards and managers of the product see it, requesters do not.
    if not (state.manages(user, product) or state.reviews(user, req) or state.stewards(user, product)):
        raise forbidden(f"{user.username} may not view the risk assessment of access request {req.id}")
    return ok(risk.assess(req, state.product_requests(product), product.name))


async def masking_columns(request: web.Request) -> web.Response:
    state = state_of(request)
    req = state.request(request.match_info["id"])
    if not state.can_view(caller(request), req):
        raise forbidden(f"{caller(request).username} may not view access request {req.id}")
    q = Query(request)
    columns = [(state.sources[s], state.sources[s].column(name)) for s, name in req.columns]
    page, meta = offset_page(columns, q.number("offset", 0, minimum=0), q.number("limit", 10, minimum=1))
    return ok({"data": [render.masking_column(s, c) for s, c in page if c is not None], "meta": meta})


async def approved_masking_columns(request: web.Request) -> web.Response:
    state = state_of(request)
    user = caller(request)
    user_id = Query(request).text("userId")
    subject = state.find_user(user_id) if user_id else None
    if subject is None:
        raise not_found(f"User {user_id} not found")
    if subject is not user and not state.manages_any(user):
        raise forbidden(f"{user.username} may not view another user's masking exceptions")
    seen: dict[tuple[int, str], None] = {}
    for req in state.requests.values():
        if req.user is subject and req.type == "MASKING_EXCEPTION" and req.status == "APPROVED":
            seen.update(dict.fromkeys(req.columns))
    return ok([{"columnName": name, "sourceId": str(source)} for source, name in seen])


async def decide(request: web.Request) -> web.Response:
    payload = await body(request, UpdateApprovalRecord)
    record = access.decide(
        state_of(request),
        caller(request),
        request.match_info["id"],
        status=payload.status,
        reason=payload.reason,
        duration=payload.duration,
        duration_unit=payload.durationUnit,
    )
    return ok(render.record(record))


def register(app: web.Application) -> None:
    r = app.router
    # literal paths before the {id} ones that would otherwise swallow them
    r.add_get(f"{API}/access-request/approved-masking-exception-columns", approved_masking_columns)
    r.add_get(f"{API}/access-request", search)
    r.add_get(f"{API}/access-request/{{id}}", get_one)
    r.add_delete(f"{API}/access-request/{{id}}", cancel)
    r.add_get(f"{API}/access-request/{{id}}/records", records)
    r.add_get(f"{API}/access-request/{{id}}/risk-assessment", risk_assessment)
    r.add_get(f"{API}/access-request/{{id}}/masking-exception-columns", masking_columns)
    r.add_put(f"{API}/approval-record/{{id}}", decide)
