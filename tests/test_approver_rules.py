"""Who meets an approver: one table of cases, held against the sandbox's rules and the app's.

Each case is an approver as a policy names it (wire JSON), the caller's permissions, groups,
attributes and domain permissions, and the domains of the product. The sandbox side resolves the
approver the way it does when a policy is saved (`catalog.normalize_policy`) and asks `flows.meets`.
The app side reads what the sandbox then serves, over its own wire models: the record's approver
through the gateway's mapping (`approver_of`), the caller through `GET /api/auth/user`'s body
(`render.me`) and `actor_of`, then asks `domain.approver_matches`. Both must give the expected answer,
so the two rule sets cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import TypeAdapter

from marketplace_slack.domain import Approver, approver_matches, split_domain_permission
from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.marketplace import models as wire
from marketplace_slack.marketplace.mapping import actor_of, approver_of
from marketplace_slack_standins.sandbox import catalog, flows, render
from marketplace_slack_standins.sandbox import policy as sandbox_policy
from marketplace_slack_standins.sandbox.model import Domain, Group, User
from marketplace_slack_standins.sandbox.state import SandboxState

SALES, FINANCE, HR = "dom-sales", "dom-finance", "dom-hr"
STEWARDS, AUDITORS, OKTA_STEWARDS = "Finance Stewards", "Auditors", "Okta Stewards"
CALLER_ID = "6f1c2d4e-0000-4000-8000-000000000001"
OTHER_ID = "6f1c2d4e-0000-4000-8000-000000000002"


@dataclass(frozen=True)
class Case:
    approver: dict[str, Any]
    expected: bool
    permissions: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    attributes: dict[str, list[str]] = field(default_factory=dict)
    domain_permissions: dict[str, frozenset[str]] = field(default_factory=dict)
    product_domains: tuple[str, ...] = (SALES,)


def _dp(permission: str, domain: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": "DOMAIN PERMISSION", "permission": permission}
    return spec | ({"domainId": domain} if domain else {})


CATALOG: dict[str, Any] = {"type": "CATALOG PERMISSION"}
PRIVACY = {"type": "ATTRIBUTE", "key": "Role", "value": "Privacy Officer"}

CASES: dict[str, Case] = {
    # USER: by global user id or username
    "user by global id": Case({"type": "USER", "id": CALLER_ID}, True),
    "user by username": Case({"type": "USER", "id": "casey"}, True),
    "another user": Case({"type": "USER", "id": "other"}, False),
    # GROUP: by id, by IAM id and name, by name alone
    "group by id": Case({"type": "GROUP", "id": 7, "name": STEWARDS}, True, groups=frozenset({STEWARDS})),
    "group by iam id and name": Case(
        {"type": "GROUP", "iamId": "bim", "name": STEWARDS}, True, groups=frozenset({STEWARDS})
    ),
    "group by name": Case({"type": "GROUP", "name": STEWARDS}, True, groups=frozenset({STEWARDS})),
    "group of another iam": Case(
        {"type": "GROUP", "iamId": "okta", "name": OKTA_STEWARDS}, True, groups=frozenset({OKTA_STEWARDS})
    ),
    "another group by id": Case(
        {"type": "GROUP", "id": 8, "name": AUDITORS}, False, groups=frozenset({STEWARDS})
    ),
    "another group by name": Case({"type": "GROUP", "name": AUDITORS}, False, groups=frozenset({STEWARDS})),
    "in no group": Case({"type": "GROUP", "name": STEWARDS}, False),
    # PERMISSION: a global permission
    "global permission": Case(
        {"type": "PERMISSION", "permission": "GOVERNANCE"}, True, frozenset({"GOVERNANCE"})
    ),
    "another global permission": Case(
        {"type": "PERMISSION", "permission": "GOVERNANCE"}, False, frozenset({"AUDIT"})
    ),
    "domain permission is not global": Case(
        {"type": "PERMISSION", "permission": "AUDIT"},
        False,
        domain_permissions={SALES: frozenset({"Audit Activity"})},
    ),
    # DOMAIN PERMISSION naming a domain: that domain, whatever the product's
    "domain permission in the named domain": Case(
        _dp("Manage Policies", FINANCE), True, domain_permissions={FINANCE: frozenset({"Manage Policies"})}
    ),
    "domain permission in another than the named domain": Case(
        _dp("Manage Policies", FINANCE), False, domain_permissions={SALES: frozenset({"Manage Policies"})}
    ),
    "another permission in the named domain": Case(
        _dp("Manage Policies", FINANCE), False, domain_permissions={FINANCE: frozenset({"Audit Activity"})}
    ),
    # DOMAIN PERMISSION naming none: any domain the product is built on
    "domain permission in the product's domain": Case(
        _dp("Manage Data Products"), True, domain_permissions={SALES: frozenset({"Manage Data Products"})}
    ),
    "domain permission outside the product's domains": Case(
        _dp("Manage Data Products"), False, domain_permissions={FINANCE: frozenset({"Manage Data Products"})}
    ),
    "domain permission in the product's second domain": Case(
        _dp("Manage Data Products"),
        True,
        domain_permissions={FINANCE: frozenset({"Manage Data Products"})},
        product_domains=(SALES, FINANCE),
    ),
    "another permission in the product's domain": Case(
        _dp("Manage Data Products"), False, domain_permissions={SALES: frozenset({"Audit Activity"})}
    ),
    "governance is no domain permission": Case(_dp("Manage Data Products"), False, frozenset({"GOVERNANCE"})),
    # CATALOG PERMISSION: any domain permission in a domain the product is built on
    "catalog: a permission in the product's domain": Case(
        CATALOG, True, domain_permissions={SALES: frozenset({"Audit Activity"})}
    ),
    "catalog: a permission in its second domain": Case(
        CATALOG, True, domain_permissions={HR: frozenset({"Manage Identifiers"})}, product_domains=(SALES, HR)
    ),
    "catalog: permissions elsewhere only": Case(
        CATALOG, False, domain_permissions={FINANCE: frozenset({"Manage Policies", "Manage Data Products"})}
    ),
    "catalog: global permissions only": Case(CATALOG, False, frozenset({"GOVERNANCE", "AUDIT"})),
    # ATTRIBUTE: the key's value
    "attribute": Case(PRIVACY, True, attributes={"Role": ["Analyst", "Privacy Officer"]}),
    "attribute with another value": Case(PRIVACY, False, attributes={"Role": ["Analyst"]}),
    "the value under another key": Case(PRIVACY, False, attributes={"Department": ["Privacy Officer"]}),
}


def _world(case: Case) -> tuple[SandboxState, User]:
    state = SandboxState(clock=FakeClock(datetime(2026, 11, 23, 9, tzinfo=UTC)))
    for domain in (SALES, FINANCE, HR):
        state.domains[domain] = Domain(domain, domain.removeprefix("dom-").title(), "")
    state.groups.update(
        {
            7: Group(7, STEWARDS, None),
            8: Group(8, AUDITORS, None),
            9: Group(9, OKTA_STEWARDS, None, iam_id="okta"),
        }
    )
    group_ids = {g.name: g.id for g in state.groups.values()}
    when = state.now()
    caller = User(
        id=1,
        username="casey",
        name="Casey Case",
        email="casey@example.com",
        global_user_id=CALLER_ID,
        created_at=when,
        permissions=case.permissions,
        domain_permissions=dict(case.domain_permissions),
        attributes=dict(case.attributes),
        group_ids={group_ids[g] for g in case.groups},
    )
    other = User(2, "other", "Otto Other", "other@example.com", OTHER_ID, when)
    state.users.update({"casey": caller, "other": other})
    return state, caller


def _as_policy_saves_it(state: SandboxState, spec: dict[str, Any]) -> sandbox_policy.Approver:
    """The approver as a record carries it: resolved when the policy naming it was saved."""
    policy = sandbox_policy.Policy.model_validate(
        {"rules": [], "defaultEvent": {"type": "review", "params": {"stages": [{"any": [spec]}]}}}
    )
    [resolved] = catalog.normalize_policy(state, policy, for_product=True).approvers()
    return resolved


_WIRE_APPROVER: TypeAdapter[Any] = TypeAdapter(wire.Approver)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_the_sandbox_and_the_app_agree_on_who_meets_an_approver(case: Case) -> None:
    state, caller = _world(case)
    approver = _as_policy_saves_it(state, case.approver)

    assert flows.meets(approver, caller, list(case.product_domains)) is case.expected, "the sandbox"

    app_approver = approver_of(_WIRE_APPROVER.validate_python(approver.wire()))
    actor = actor_of(wire.CurrentUser.model_validate(render.me(state, caller)))
    assert app_approver.kind == case.approver["type"]
    assert approver_matches(app_approver, actor, case.product_domains) is case.expected, "the app"


def test_the_table_covers_every_approver_type_both_ways() -> None:
    covered = {(c.approver["type"], c.expected) for c in CASES.values()}
    kinds = {"USER", "GROUP", "PERMISSION", "DOMAIN PERMISSION", "CATALOG PERMISSION", "ATTRIBUTE"}
    assert covered == {(k, answer) for k in kinds for answer in (True, False)}


def test_an_unknown_approver_kind_never_matches() -> None:
    state, caller = _world(
        Case(
            CATALOG,
            True,
            frozenset({"GOVERNANCE"}),
            domain_permissions={SALES: frozenset({"Audit Activity"})},
        )
    )
    actor = actor_of(wire.CurrentUser.model_validate(render.me(state, caller)))
    newer = approver_of(_WIRE_APPROVER.validate_python({"type": "SERVICE ACCOUNT", "id": "casey"}))
    assert newer.kind == "SERVICE ACCOUNT"
    assert not approver_matches(newer, actor, (SALES,))
    assert not approver_matches(Approver("DOMAIN PERMISSION", "Audit Activity"), actor, (SALES,))  # no ref


@pytest.mark.parametrize(
    ("ref", "parts"),
    [
        ("dom-1:Manage Policies", ("dom-1", "Manage Policies")),
        ("Manage Policies", (None, "Manage Policies")),
        ("a:b:Audit Activity", ("a:b", "Audit Activity")),
        (":Audit Activity", (None, "Audit Activity")),
    ],
)
def test_a_domain_permission_ref_splits_at_its_last_colon(ref: str, parts: tuple[str | None, str]) -> None:
    assert split_domain_permission(ref) == parts
