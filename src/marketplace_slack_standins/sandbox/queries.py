"""Searches: which requests and products a caller sees, filtered and sorted as the spec's parameters say."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from marketplace_slack_standins.sandbox import flows, render
from marketplace_slack_standins.sandbox.model import AccessRequest, DataProduct, User
from marketplace_slack_standins.sandbox.state import SandboxState

ALL_ROLES = ("requestor", "manager", "steward")


@dataclass
class RequestFilter:
    search_text: str | None = None
    statuses: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    user_ids: list[str] = field(default_factory=list)
    expiration: bool | None = None
    historical: bool = True
    # None: no restriction by the caller's relation to the request (a product's members list)
    roles: list[str] | None = field(default_factory=lambda: list(ALL_ROLES))
    product_id: str | None = None
    review_statuses: list[str] = field(default_factory=list)
    sort_by: str = "createdAt"
    sort_order: str = "desc"


def search_requests(
    state: SandboxState, caller: User, f: RequestFilter, candidates: Iterable[AccessRequest] | None = None
) -> list[AccessRequest]:
    found = [
        r
        for r in (state.requests.values() if candidates is None else candidates)
        if (f.roles is None or _related(state, caller, r, f.roles)) and _matches(state, caller, r, f)
    ]
    return _sorted(state, found, f.sort_by, f.sort_order)


def _related(state: SandboxState, caller: User, r: AccessRequest, roles: list[str]) -> bool:
    return (
        ("requestor" in roles and r.involves(caller))
        or ("manager" in roles and state.manages(caller, state.products[r.product_id]))
        or ("steward" in roles and state.reviews(caller, r))
    )


def _matches(state: SandboxState, caller: User, r: AccessRequest, f: RequestFilter) -> bool:
    if f.product_id is not None and r.product_id != f.product_id:
        return False
    if f.statuses and r.status not in f.statuses:
        return False
    if f.types and r.type not in f.types:
        return False
    if f.user_ids and r.user.global_user_id not in f.user_ids and r.user.username not in f.user_ids:
        return False
    if f.expiration is not None and (r.expiration is not None) != f.expiration:
        return False
    if not f.historical and r.status != "PENDING":
        return False
    if f.review_statuses and not any(_review_status(state, caller, r, s) for s in f.review_statuses):
        return False
    if f.search_text:
        needle = f.search_text.casefold()
        product = state.products[r.product_id]
        haystack = [r.id, product.name, r.user.name, r.user.username, r.user.email, r.requesting_user.name]
        if not any(needle in text.casefold() for text in haystack):
            return False
    return True


def _review_status(state: SandboxState, caller: User, r: AccessRequest, status: str) -> bool:
    if status == "noReviews":
        return all(rec.action_by is None for rec in r.records)
    if status == "reviewedByYou":
        return any(rec.action_by is caller for rec in r.records)
    domain_ids = state.products[r.product_id].domain_ids
    return any(
        rec.status == "PENDING" and flows.criteria_met(rec.approvers, caller, domain_ids) for rec in r.records
    )


def _sorted(state: SandboxState, found: list[AccessRequest], sort_by: str, order: str) -> list[AccessRequest]:
    keys: dict[str, Callable[[AccessRequest], Any]] = {
        "status": lambda r: r.status,
        "dataProduct": lambda r: state.products[r.product_id].name.casefold(),
        "createdAt": lambda r: r.created_at,
        "updatedAt": lambda r: r.updated_at,
        "expiration": lambda r: r.expiration,
    }
    key = keys[sort_by]
    # requests without a value (no expiration) go last whichever the order; ids break ties stably
    present = sorted(
        (r for r in found if key(r) is not None), key=lambda r: (key(r), r.id), reverse=order == "desc"
    )
    return present + sorted((r for r in found if key(r) is None), key=lambda r: r.id)


@dataclass
class ProductFilter:
    name: str | None = None
    statuses: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    expiration: bool | None = None
    sort_order: str = "asc"


def search_products(state: SandboxState, caller: User, f: ProductFilter) -> list[DataProduct]:
    found: list[DataProduct] = []
    for product in state.products.values():
        status, latest = render.product_status(state, product, caller)
        if f.name and f.name.casefold() not in product.name.casefold():
            continue
        if f.statuses and status not in f.statuses:
            continue
        if (
            f.expiration is not None
            and (latest is not None and latest.expiration is not None) != f.expiration
        ):
            continue
        if f.roles and not set(f.roles) & _product_roles(state, caller, product, status):
            continue
        found.append(product)
    return sorted(found, key=lambda p: (p.name.casefold(), p.id), reverse=f.sort_order == "desc")


def _product_roles(state: SandboxState, caller: User, product: DataProduct, status: str) -> set[str]:
    roles = set()
    if state.manages(caller, product):
        roles.add("manager")
    if state.stewards(caller, product):
        roles.add("steward")
    if status == "APPROVED":
        roles.add("member")
    return roles or {"noRole"}
