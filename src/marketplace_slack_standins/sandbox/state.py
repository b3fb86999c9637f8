"""The sandbox's whole in-memory Marketplace: collections, look-ups, who may do what, and expiry.

Operations that change things live in ``access`` (requests and determinations) and ``catalog``
(products, forms, agreements); they tell listeners (the webhook hub) about events through ``emit``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime
from typing import Any

from marketplace_slack.infra.clock import Clock
from marketplace_slack_standins.sandbox import flows
from marketplace_slack_standins.sandbox.errors import not_found
from marketplace_slack_standins.sandbox.ids import IdFactory
from marketplace_slack_standins.sandbox.model import (
    GOVERNANCE,
    MANAGE_DATA_PRODUCTS,
    REQUEST_EXPIRED,
    REQUEST_EXPIRING,
    AccessRequest,
    ApprovalRecord,
    DataProduct,
    DataSource,
    DataUseAgreement,
    Domain,
    Event,
    FormVersion,
    Group,
    RequestForm,
    RequestType,
    Tag,
    User,
)
from marketplace_slack_standins.sandbox.policy import Policy

TOKEN_PREFIX = "sbx_"  # noqa: S105 - not a secret: the sandbox's documented, fake bearer tokens


class SandboxState:
    def __init__(self, *, clock: Clock, seed: int = 7) -> None:
        self.clock = clock
        self.seed = seed
        self.rng = random.Random(seed)
        self.ids = IdFactory(self.rng)
        self.account_id = self.ids.uuid()
        self.users: dict[str, User] = {}
        self.groups: dict[int, Group] = {}
        self.domains: dict[str, Domain] = {}
        self.tags: dict[int, Tag] = {}
        self.sources: dict[int, DataSource] = {}
        self.agreements: dict[str, DataUseAgreement] = {}
        self.forms: dict[str, RequestForm] = {}
        self.form_versions: dict[str, FormVersion] = {}
        self.products: dict[str, DataProduct] = {}
        self.requests: dict[str, AccessRequest] = {}
        self.records: dict[str, ApprovalRecord] = {}
        self.preferences: dict[str, list[dict[str, Any]]] = {}
        self._listeners: list[Callable[[Event], None]] = []

    def now(self) -> datetime:
        return self.clock.now()

    def subscribe(self, listener: Callable[[Event], None]) -> None:
        self._listeners.append(listener)

    def emit(self, event: Event) -> None:
        for listener in self._listeners:
            listener(event)

    # look-ups

    def user_for_token(self, token: str) -> User | None:
        if not token.startswith(TOKEN_PREFIX):
            return None
        return self.users.get(token[len(TOKEN_PREFIX) :])

    def find_user(self, ref: str) -> User | None:
        """A user by global user id (what the API uses) or username."""
        if ref in self.users:
            return self.users[ref]
        return next((u for u in self.users.values() if u.global_user_id == ref), None)

    def user(self, username: str) -> User:
        found = self.users.get(username)
        if found is None:
            raise not_found(f"User {username} not found")
        return found

    def group_named(self, name: str) -> Group | None:
        return next((g for g in self.groups.values() if g.name == name), None)

    def group_members(self, group: Group) -> list[User]:
        return [u for u in self.users.values() if group.id in u.group_ids]

    def product(self, product_id: str) -> DataProduct:
        found = self.products.get(product_id)
        if found is None:
            raise not_found(f"Data product {product_id} not found")
        return found

    def product_named(self, name: str) -> DataProduct:
        found = next((p for p in self.products.values() if p.name == name), None)
        if found is None:
            raise not_found(f"Data product named {name!r} not found")
        return found

    def request(self, request_id: str) -> AccessRequest:
        found = self.requests.get(request_id)
        if found is None:
            raise not_found(f"Access request {request_id} not found")
        return found

    def record(self, record_id: str) -> ApprovalRecord:
        found = self.records.get(record_id)
        if found is None:
            raise not_found(f"Approval record {record_id} not found")
        return found

    def form(self, form_id: str) -> RequestForm:
        found = self.forms.get(form_id)
        if found is None:
            raise not_found(f"Request form {form_id} not found")
        return found

    def current_form(self, product: DataProduct, kind: RequestType) -> FormVersion:
        return self.form_versions[self.forms[product.form_id_for(kind)].version]

    def agreement(self, agreement_id: str) -> DataUseAgreement:
        found = self.agreements.get(agreement_id)
        if found is None:
            raise not_found(f"Data use agreement {agreement_id} not found")
        return found

    def domain(self, domain_id: str) -> Domain:
        found = self.domains.get(domain_id)
        if found is None:
            raise not_found(f"Domain {domain_id} not found")
        return found

    def source(self, source_id: int) -> DataSource:
        found = self.sources.get(source_id)
        if found is None:
            raise not_found(f"Data source {source_id} not found")
        return found

    def product_tags(self, product: DataProduct) -> list[Tag]:
        return [t for t in self.tags.values() if t.data_product == product.id]

    def product_requests(self, product: DataProduct) -> list[AccessRequest]:
        return [r for r in self.requests.values() if r.product_id == product.id]

    def latest_request(self, product: DataProduct, user: User) -> AccessRequest | None:
        mine = [r for r in self.product_requests(product) if r.user is user and r.type == "DATA_ACCESS"]
        # The newest; of several made at one instant (a frozen test clock), the last one made.
        return max(enumerate(mine), key=lambda pair: (pair[1].created_at, pair[0]), default=(0, None))[1]

    # who may do what (the guides' permissions matrix)

    @staticmethod
    def is_governor(user: User) -> bool:
        return GOVERNANCE in user.permissions

    def manages(self, user: User, product: DataProduct) -> bool:
        return self.is_governor(user) or any(
            MANAGE_DATA_PRODUCTS in user.domain_permissions.get(d, frozenset()) for d in product.domain_ids
        )

    def manages_any(self, user: User) -> bool:
        return self.is_governor(user) or any(
            MANAGE_DATA_PRODUCTS in p for p in user.domain_permissions.values()
        )

    def product_policies(self, product: DataProduct) -> list[Policy]:
        """The policies that decide this product's requests: its forms', and its own when delegated to."""
        found: list[Policy] = []
        for kind in ("DATA_ACCESS", "MASKING_EXCEPTION"):
            form_policy = self.current_form(product, kind).policy
            found.append(form_policy)
            if form_policy.delegates():
                found.append(product.policy_for(kind))
        return found

    def stewards(self, user: User, product: DataProduct) -> bool:
        """Whether ``user`` is a data steward of ``product``: an approver in any of its review flows."""
        return any(
            flows.meets(approver, user, product.domain_ids)
            for policy in self.product_policies(product)
            for approver in policy.approvers()
        )

    def reviews(self, user: User, request: AccessRequest) -> bool:
        """Whether ``user`` qualifies for any of the request's approval records."""
        domain_ids = self.products[request.product_id].domain_ids
        return any(flows.criteria_met(r.approvers, user, domain_ids) for r in request.records)

    def can_view(self, user: User, request: AccessRequest) -> bool:
        return (
            request.involves(user)
            or self.manages(user, self.products[request.product_id])
            or self.reviews(user, request)
        )

    # time

    def sweep(self, now: datetime | None = None) -> None:
        """Expire temporary grants whose time has come and warn, once, of those ending within a week."""
        now = now or self.now()
        for request in list(self.requests.values()):
            transition = flows.expiry_transition(request, now)
            if transition == "expired":
                request.status = "EXPIRED"
                request.updated_at = now
                self.emit(Event(REQUEST_EXPIRED, request.product_id, request.id))
            elif transition == "expiring":
                request.expiring_notified = True
                self.emit(Event(REQUEST_EXPIRING, request.product_id, request.id))
