"""The seeded world: the fixtures others rely on, determinism, speed, and the console entry point."""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta

import pytest

from marketplace_slack.infra.clock import FakeClock
from marketplace_slack_standins.sandbox import server as server_module
from marketplace_slack_standins.sandbox import world
from marketplace_slack_standins.sandbox.policy import AllStage, AnyStage, ApproveEvent, ReviewEvent
from marketplace_slack_standins.sandbox.state import SandboxState


def _flow(state: SandboxState, product: str) -> ApproveEvent | ReviewEvent:
    event = state.current_form(state.product_named(product), "DATA_ACCESS").policy.defaultEvent
    assert isinstance(event, ApproveEvent | ReviewEvent)
    return event


def test_fixture_users_exist_with_their_roles() -> None:
    state = world.build(clock=FakeClock())
    names = {u.username: u.name for u in state.users.values()}
    assert {k: names[k] for k in world.FIXTURE_USERS} == {
        "admin": "Ada Admin",
        "sara": "Sara Stone",
        "omar": "Omar Haddad",
        "gina": "Gina Rossi",
        "rick": "Rick Moreno",
        "nora": "Nora Quinn",
    }
    assert len(state.users) == world.USER_COUNT
    assert "GOVERNANCE" in state.users[world.ADMIN].permissions
    stewards = state.group_named(world.FINANCE_STEWARDS)
    assert stewards is not None and state.users[world.GINA] in state.group_members(stewards)
    for username in (world.RICK, world.NORA):
        user = state.users[username]
        assert not any(state.stewards(user, p) or state.manages(user, p) for p in state.products.values())
    assert all(u.email.lower() == f"{u.username}@example.com" for u in state.users.values())
    assert any(u.email != u.email.lower() for u in state.users.values())


def test_fixture_products_have_the_documented_flows() -> None:
    state = world.build(clock=FakeClock())
    domain = {p.name: state.domains[p.domain_ids[0]].name for p in state.products.values()}
    assert [domain[n] for n in (world.SALES_PIPELINE, world.CUSTOMER_360, world.FINANCE_LEDGER)] == [
        "Sales",
        "Customer",
        "Finance",
    ]

    sales = _flow(state, world.SALES_PIPELINE)
    assert isinstance(sales, ReviewEvent)
    [stage] = sales.params.stages
    assert isinstance(stage, AnyStage) and [a.wire().get("displayName") for a in stage.any_] == [
        "Sara Stone",
        "Omar Haddad",
    ]
    sales_form = state.current_form(state.product_named(world.SALES_PIPELINE), "DATA_ACCESS")
    assert "ACCESS_DURATION" in {f.type for f in sales_form.fields} and sales_form.agreements

    customer = _flow(state, world.CUSTOMER_360)
    assert isinstance(customer, ReviewEvent)
    [stage] = customer.params.stages
    assert isinstance(stage, AllStage) and [a.type for a in stage.all_] == ["USER", "GROUP"]
    product = state.product_named(world.CUSTOMER_360)
    masked = {c.name: c for s in product.source_ids for c in state.sources[s].columns if c.masking}
    assert {"email", "phone", "ssn"} <= set(masked) and all(c.tags for c in masked.values())

    ledger = _flow(state, world.FINANCE_LEDGER)
    assert isinstance(ledger, ReviewEvent)
    assert [s.wire() for s in ledger.params.stages] == [
        {"any": [{"type": "GROUP", "id": stewards_id(state), "iamId": "bim", "name": "Finance Stewards"}]},
        {"any": [{"type": "PERMISSION", "permission": "GOVERNANCE"}]},
    ]

    events = _flow(state, world.MARKETING_EVENTS)
    analytics = _flow(state, world.WEB_ANALYTICS)
    assert isinstance(events, ApproveEvent) and events.params.duration is None
    assert isinstance(analytics, ApproveEvent) and (
        analytics.params.duration,
        analytics.params.durationUnit,
    ) == (30, "DAYS")


def stewards_id(state: SandboxState) -> int:
    group = state.group_named(world.FINANCE_STEWARDS)
    assert group is not None
    return group.id


def test_forms_use_every_field_type_and_agreements() -> None:
    state = world.build(clock=FakeClock())
    types = {f.type for form in state.forms.values() for f in form.fields}
    assert types == {"DROPDOWN", "CHECKBOXES", "SHORT_ANSWER", "ACCESS_DURATION"}
    assert len(state.agreements) >= 3 and any(f.agreement_ids for f in state.forms.values())
    assert len(state.products) == 20 and len(state.domains) >= 5


def test_history_gives_risk_something_to_work_with() -> None:
    state = world.build(clock=FakeClock())
    statuses = {r.status for r in state.requests.values()}
    assert {"APPROVED", "DENIED", "PENDING", "EXPIRED", "REVOKED", "CANCELED"} <= statuses
    decided = [r for r in state.records.values() if r.action_by is not None]
    assert decided and all(r.reason for r in decided)
    pending = [r for r in state.requests.values() if r.status == "PENDING"]
    assert len(pending) >= 8
    assert any(rec.status == "PENDING" and rec.prerequisites for r in pending for rec in r.records)
    # today's queue is not waiting on the fixture requesters, so their first request never conflicts
    assert not any(r.user.username in (world.RICK, world.NORA) for r in pending)


def test_the_same_seed_builds_the_same_world() -> None:
    # no timing assertion: a loaded CI machine is not slow code (speed is measured in bench/, not in tests)
    first = world.build(clock=FakeClock(), seed=7)
    second = world.build(clock=FakeClock(), seed=7)
    other = world.build(clock=FakeClock(), seed=8)

    def fingerprint(state: SandboxState) -> list[tuple[str, str, str]]:
        return [(r.id, r.status, r.user.username) for r in state.requests.values()]

    assert fingerprint(first) == fingerprint(second) != fingerprint(other)


def test_the_world_follows_the_clock() -> None:
    early = FakeClock()
    late = FakeClock(early.now() + timedelta(days=365))
    a, b = world.build(clock=early), world.build(clock=late)
    offsets_a = [early.now() - r.created_at for r in a.requests.values()]
    offsets_b = [late.now() - r.created_at for r in b.requests.values()]
    assert offsets_a == offsets_b


def test_deep_links_follow_the_guide() -> None:
    link = world.request_access_link("Sales Pipeline", account_id="acct-1", access_type="masking-exception")
    assert link == (
        "https://app.immutacloud.com/marketplace/data-product/Sales%20Pipeline/request-access"
        "?type=masking-exception&accountId=acct-1"
    )
    assert (
        world.product_details_link("c123")
        == "https://app.immutacloud.com/marketplace/data-product/c123/details"
    )


async def test_run_prints_the_base_url_and_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    printed: list[str] = []
    ready = asyncio.Event()

    class Console:
        def write(self, text: str) -> int:
            printed.append(text)
            if "Ctrl+C" in text:
                ready.set()
            return len(text)

        def flush(self) -> None:
            pass

    monkeypatch.setattr(sys, "stdout", Console())
    task = asyncio.create_task(server_module.run("127.0.0.1", 0))
    await ready.wait()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    text = "".join(printed)
    assert "http://127.0.0.1:" in text and "/marketplace" in text
    assert "sbx_admin" in text and "GOVERNANCE" in text and "Sara Stone" in text
