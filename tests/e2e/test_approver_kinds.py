"""Every kind of approver the Marketplace has, end to end: a steward who qualifies by that kind alone
decides from the card, and the Marketplace records their determination; the same stewards are found
for reminders.

Each product is published in the sandbox (through its catalog rules, as the API does) with a review
flow naming one approver; Nora, who is no steward in the seeded world, is given just what that
approver asks for before she links. Rick asks for access. Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from marketplace_slack.marketplace import models as wire
from marketplace_slack_standins.sandbox import catalog
from marketplace_slack_standins.sandbox.catalog import ProductSpec
from marketplace_slack_standins.sandbox.model import Group, User
from marketplace_slack_standins.sandbox.policy import Policy
from marketplace_slack_standins.sandbox.state import SandboxState
from marketplace_slack_standins.stage import Stage

STEWARD = "nora"
TESTERS = "Approval Testers"

# An approver, and what makes Nora meet it: (state, nora) -> the approver as a policy names it.
Grant = Callable[[SandboxState, User], dict[str, Any]]


def _domain(state: SandboxState, name: str) -> str:
    return next(d.id for d in state.domains.values() if d.name == name)


def _user(state: SandboxState, nora: User) -> dict[str, Any]:
    return {"type": "USER", "id": nora.username}


def _group(state: SandboxState, nora: User) -> dict[str, Any]:
    group = state.group_named(TESTERS)
    if group is None:
        group = Group(max(state.groups) + 1, TESTERS, "approval-testers@example.com")
        state.groups[group.id] = group
    nora.group_ids.add(group.id)
    return {"type": "GROUP", "name": TESTERS}


def _permission(state: SandboxState, nora: User) -> dict[str, Any]:
    nora.permissions = nora.permissions | {"AUDIT"}
    return {"type": "PERMISSION", "permission": "AUDIT"}


def _held(nora: User, domain_id: str, permission: str) -> None:
    nora.domain_permissions[domain_id] = nora.domain_permissions.get(domain_id, frozenset()) | {permission}


def _domain_permission_named(state: SandboxState, nora: User) -> dict[str, Any]:
    sales = _domain(state, "Sales")
    _held(nora, sales, "Manage Policies")
    return {"type": "DOMAIN PERMISSION", "permission": "Manage Policies", "domainId": sales}


def _domain_permission_of_the_product(state: SandboxState, nora: User) -> dict[str, Any]:
    # held in the product's second domain: every domain the product is built on counts
    _held(nora, _domain(state, "Finance"), "Manage Policies")
    return {"type": "DOMAIN PERMISSION", "permission": "Manage Policies"}


def _catalog_permission(state: SandboxState, nora: User) -> dict[str, Any]:
    _held(nora, _domain(state, "Sales"), "Audit Activity")
    return {"type": "CATALOG PERMISSION"}


def _attribute(state: SandboxState, nora: User) -> dict[str, Any]:
    nora.attributes["Role"] = [*nora.attributes.get("Role", []), "Approval Tester"]
    return {"type": "ATTRIBUTE", "key": "Role", "value": "Approval Tester"}


@dataclass(frozen=True)
class Kind:
    grant: Grant
    domains: tuple[str, ...] = ("Sales",)


KINDS = {
    "USER": Kind(_user),
    "GROUP": Kind(_group),
    "PERMISSION": Kind(_permission),
    "DOMAIN PERMISSION of a named domain": Kind(_domain_permission_named),
    "DOMAIN PERMISSION of the product's domains": Kind(
        _domain_permission_of_the_product, domains=("Sales", "Finance")
    ),
    "CATALOG PERMISSION": Kind(_catalog_permission),
    "ATTRIBUTE": Kind(_attribute),
}


def _publish(
    stage: Stage, name: str, domains: tuple[str, ...], *stages: tuple[str, list[dict[str, Any]]]
) -> None:
    """A data product whose own review flow has `stages` of ("any" | "all", approvers)."""
    state = stage.sandbox.state
    domain_ids = [_domain(state, d) for d in domains]
    source = next(s for s in state.sources.values() if s.domain_id == domain_ids[0])
    flow = Policy.model_validate(
        {
            "rules": [],
            "defaultEvent": {
                "type": "review",
                "params": {"stages": [{kind: approvers} for kind, approvers in stages]},
            },
        }
    )
    catalog.create_product(
        state,
        state.users["admin"],
        ProductSpec(
            name=name,
            domain_ids=domain_ids,
            source_ids=[str(source.source_id)],
            data_access_form_id=next(
                f.id for f in state.forms.values() if f.name == "Delegated to Data Product"
            ),
            data_access_policy=flow,
        ),
    )


async def _records(stage: Stage, request_id: str) -> list[wire.ApprovalRecord]:
    return (await stage.app.marketplace.get_access_request_records(request_id)).approval_records


@pytest.mark.parametrize("kind", KINDS.values(), ids=KINDS.keys())
async def test_a_steward_of_each_kind_approves_from_the_card(stage: Stage, kind: Kind) -> None:
    state = stage.sandbox.state
    approver = kind.grant(state, state.users[STEWARD])
    _publish(stage, "Approver Kinds", kind.domains, ("any", [approver]))
    request_id = await stage.request_access("rick", "Approver Kinds")
    await stage.settle()
    await stage.link(STEWARD)

    await stage.decide(STEWARD, request_id, "approve", reason="fits the project")

    [record] = await _records(stage, request_id)
    assert str(record.status) == "APPROVED"
    assert record.action_by is not None and record.action_by.username == STEWARD  # her own token
    assert [str(a.type) for a in record.approver_criteria_met or []] == [approver["type"]]
    assert str((await stage.app.marketplace.get_access_request_by_id(request_id)).status) == "APPROVED"
    audit = await stage.app.store.audit.list(request_id)
    assert [(a.verdict.value, a.ok) for a in audit] == [("APPROVE", True)]


async def test_a_steward_short_of_the_domain_permission_is_refused(stage: Stage) -> None:
    """Holding the permission in a domain the product is not built on is not enough."""
    state = stage.sandbox.state
    _held(state.users[STEWARD], _domain(state, "Finance"), "Manage Policies")
    _publish(
        stage,
        "Approver Kinds",
        ("Sales",),
        ("any", [{"type": "DOMAIN PERMISSION", "permission": "Manage Policies"}]),
    )
    request_id = await stage.request_access("rick", "Approver Kinds")
    await stage.settle()
    await stage.link(STEWARD)

    await stage.decide(STEWARD, request_id, "approve")

    [modal] = stage.slack.views(stage.slack_user(STEWARD))
    assert "not an approver" in str(modal["blocks"])
    assert [str(r.status) for r in await _records(stage, request_id)] == ["PENDING"]


async def test_one_approve_counts_for_every_source_of_an_all_stewards_stage_the_steward_has(
    stage: Stage,
) -> None:
    """ "Their determination will count for each of the sources they have": Nora is in the group and
    holds the domain permission, so one Approve settles both records of the stage."""
    state = stage.sandbox.state
    nora = state.users[STEWARD]
    sources = [_group(state, nora), _domain_permission_named(state, nora)]
    _publish(stage, "Approver Kinds", ("Sales",), ("all", sources))
    request_id = await stage.request_access("rick", "Approver Kinds")
    await stage.settle()
    await stage.link(STEWARD)
    user = stage.slack_user(STEWARD)

    await stage.decide(STEWARD, request_id, "approve", reason="both hats")

    records = await _records(stage, request_id)
    assert len(records) == 2
    assert all(str(r.status) == "APPROVED" for r in records)
    assert {r.action_by.username for r in records if r.action_by} == {STEWARD}
    assert str((await stage.app.marketplace.get_access_request_by_id(request_id)).status) == "APPROVED"
    audit = await stage.app.store.audit.list(request_id)
    assert sorted(a.record_id for a in audit if a.ok) == sorted(r.id for r in records)
    assert all(a.ok for a in audit)
    told = [m.text for m in stage.slack.ephemeral_messages(user=user)]
    assert not any("already" in t for t in told), told  # the second record is hers, not "someone else's"


@pytest.mark.parametrize("kind", ["DOMAIN PERMISSION of the product's domains", "CATALOG PERMISSION"])
async def test_a_steward_by_domain_or_catalog_permission_is_reminded(stage: Stage, kind: str) -> None:
    state = stage.sandbox.state
    spec = KINDS[kind]
    approver = spec.grant(state, state.users[STEWARD])
    _publish(stage, "Approver Kinds", spec.domains, ("any", [approver]))
    await stage.link(STEWARD)
    request_id = await stage.request_access("rick", "Approver Kinds")
    await stage.settle()

    for _ in range(24):  # Monday 09:00 UTC on: Nora's working day in Kolkata has begun twice
        await stage.advance(timedelta(hours=1))

    sent = await stage.app.store.reminders.list(request_id=request_id)
    assert sent and {r.recipient for r in sent} == {stage.slack_user(STEWARD)}
