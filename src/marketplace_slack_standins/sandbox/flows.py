"""The review-flow rules from the guides, as pure functions over the model (no I/O, no clock).

- "Any steward": a stage is one approval record that any approver source listed may decide.
- "All stewards": a stage has one record per approver source; a steward who qualifies for several
  sources decides all of them at once; any denial denies the request; the shortest temporary
  approval wins.
- Stages after the first wait BLOCKED on the earlier stage's records and become PENDING once those
  are approved.
- Approve events without review approve at once, for a duration when the event carries one.

Who meets an approver (``meets``): a USER by global user id or username; a GROUP by membership of
the group's id (records carry the id: a policy's approvers are resolved when it is saved); a
PERMISSION by the global permission; an ATTRIBUTE by the key's value. A DOMAIN PERMISSION naming a
domain is met by holding the permission in that domain, one naming none by holding it in any domain
the product is built on ("the domain that the data product is built off of"). A CATALOG PERMISSION
approver has nothing but its type in the spec and the guides give no rule; the sandbox (and the
app, `marketplace_slack.domain.approver_matches`, by the same table of cases) takes it as met by
anyone holding any domain permission in a domain the product is built on.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from marketplace_slack_standins.sandbox.model import AccessRequest, ApprovalRecord, RecordStatus, User
from marketplace_slack_standins.sandbox.policy import (
    AnyStage,
    ApproveEvent,
    Approver,
    AttributeApprover,
    CatalogPermissionApprover,
    DelegateEvent,
    DenyEvent,
    DomainPermissionApprover,
    GroupApprover,
    PermissionApprover,
    Policy,
    ReviewEvent,
    UserApprover,
)

EXPIRING_WINDOW = timedelta(days=7)
OPEN_RECORD_STATUSES: tuple[RecordStatus, ...] = ("PENDING", "BLOCKED")


def meets(approver: Approver, user: User, domain_ids: Sequence[str]) -> bool:
    """Whether ``user`` qualifies as ``approver`` for a product built on ``domain_ids``."""
    if isinstance(approver, UserApprover):
        return approver.id in (user.global_user_id, user.username)
    if isinstance(approver, GroupApprover):
        return approver.id is not None and approver.id in user.group_ids
    if isinstance(approver, PermissionApprover):
        return approver.permission in user.permissions
    if isinstance(approver, DomainPermissionApprover):
        # Without a domain id the guides scope the permission to the product's own domains, all of them.
        scope = [approver.domainId] if approver.domainId else list(domain_ids)
        return any(approver.permission in user.domain_permissions.get(d, frozenset()) for d in scope)
    if isinstance(approver, AttributeApprover):
        return approver.value in user.attributes.get(approver.key, [])
    if isinstance(approver, CatalogPermissionApprover):
        # The spec gives it only a type; see the module's note.
        return any(user.domain_permissions.get(d) for d in domain_ids)
    return False


def criteria_met(approvers: Sequence[Approver], user: User, domain_ids: Sequence[str]) -> list[Approver]:
    return [a for a in approvers if meets(a, user, domain_ids)]


FlowEvent = ApproveEvent | DenyEvent | ReviewEvent


def choose_event(form_policy: Policy, product_policy: Policy, facts: Mapping[str, Any]) -> FlowEvent:
    """The event the first matching rule fires, else the default; delegation goes to the product."""
    event = _first_match(form_policy, facts)
    if isinstance(event, DelegateEvent):
        event = _first_match(product_policy, facts)
    if isinstance(event, DelegateEvent):
        raise ValueError("a data product policy cannot delegate again")
    return event


def _first_match(
    policy: Policy, facts: Mapping[str, Any]
) -> ApproveEvent | DenyEvent | ReviewEvent | DelegateEvent:
    for rule in policy.rules:
        if conditions_hold(rule.conditions, facts):
            return rule.event
    return policy.defaultEvent


def conditions_hold(node: Any, facts: Mapping[str, Any]) -> bool:
    """A small json-rules-engine: all/any/not over ``{fact, operator, value, path?}`` conditions."""
    if not isinstance(node, Mapping):
        return False
    if "all" in node:
        return all(conditions_hold(n, facts) for n in node["all"])
    if "any" in node:
        return any(conditions_hold(n, facts) for n in node["any"])
    if "not" in node:
        return not conditions_hold(node["not"], facts)
    if "fact" not in node:
        return False
    value = facts.get(str(node["fact"]))
    path = node.get("path")
    if isinstance(path, str) and path.startswith("$."):
        for part in path[2:].split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
    return _compare(value, str(node.get("operator", "")), node.get("value"))


def _compare(actual: Any, operator: str, expected: Any) -> bool:
    if operator == "equal":
        return bool(actual == expected)
    if operator == "notEqual":
        return bool(actual != expected)
    if operator in ("in", "notIn"):
        found = isinstance(expected, list) and actual in expected
        return found if operator == "in" else not found
    if operator in ("contains", "doesNotContain"):
        found = isinstance(actual, list | str) and expected in actual
        return found if operator == "contains" else not found
    if operator in ("lessThan", "lessThanInclusive", "greaterThan", "greaterThanInclusive"):
        if not isinstance(actual, int | float) or not isinstance(expected, int | float):
            return False
        return {
            "lessThan": actual < expected,
            "lessThanInclusive": actual <= expected,
            "greaterThan": actual > expected,
            "greaterThanInclusive": actual >= expected,
        }[operator]
    return False


def stage_plans(event: ReviewEvent) -> list[list[list[Approver]]]:
    """For each stage, the approver list of each record it needs."""
    plans: list[list[list[Approver]]] = []
    for stage in event.params.stages:
        if isinstance(stage, AnyStage):
            plans.append([list(stage.any_)])
        else:
            plans.append([[approver] for approver in stage.all_])
    return plans


def add_duration(start: datetime, amount: int, unit: str) -> datetime:
    """``start`` plus a duration; months and years are calendar ones, clamped to the month's end."""
    if unit == "HOURS":
        return start + timedelta(hours=amount)
    if unit == "DAYS":
        return start + timedelta(days=amount)
    if unit == "WEEKS":
        return start + timedelta(weeks=amount)
    if unit not in ("MONTHS", "YEARS"):
        raise ValueError(f"unknown duration unit {unit}")
    months = amount if unit == "MONTHS" else amount * 12
    years, month_index = divmod(start.month - 1 + months, 12)
    year, month = start.year + years, month_index + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)


def decide(
    request: AccessRequest,
    record: ApprovalRecord,
    *,
    actor: User,
    status: RecordStatus,
    reason: str | None,
    duration: int | None,
    duration_unit: str | None,
    now: datetime,
    domain_ids: Sequence[str],
) -> list[ApprovalRecord]:
    """Record ``actor``'s determination and settle the request; returns the records it decided.

    The caller has checked that ``record`` is PENDING and that ``actor`` qualifies for it. The same
    determination counts for every other pending record of the request ``actor`` qualifies for.
    """
    decided: list[ApprovalRecord] = []
    for candidate in request.records:
        if candidate.status != "PENDING":
            continue
        met = criteria_met(candidate.approvers, actor, domain_ids)
        if not met:
            continue
        candidate.status = status
        candidate.action_by = actor
        candidate.reason = reason
        candidate.criteria_met = met
        candidate.duration = duration if status == "APPROVED" else None
        candidate.duration_unit = duration_unit if status == "APPROVED" else None
        candidate.updated_at = now
        decided.append(candidate)
    if record not in decided:
        raise ValueError("the actor does not qualify for the record being decided")
    settle(request, now)
    return decided


def settle(request: AccessRequest, now: datetime) -> None:
    """Derive the request's status from its records and unblock stages whose prerequisites passed."""
    records = request.records
    denial = next((r for r in records if r.status == "DENIED"), None)
    if denial is not None:
        by = denial.action_by.name if denial.action_by else "a steward"
        for r in records:
            if r.status in OPEN_RECORD_STATUSES:
                r.status = "CANCELED"
                r.reason = f"Request denied by {by}"
                r.updated_at = now
        _finish(request, "DENIED", now)
        return
    by_id = {r.id: r for r in records}
    for r in records:
        if r.status == "BLOCKED" and all(by_id[p].status == "APPROVED" for p in r.prerequisites):
            r.status = "PENDING"
            r.updated_at = now
    if records and all(r.status == "APPROVED" for r in records):
        ends = [
            add_duration(now, r.duration, r.duration_unit) for r in records if r.duration and r.duration_unit
        ]
        request.expiration = min(ends) if ends else None
        _finish(request, "APPROVED", now)


def _finish(request: AccessRequest, status: str, now: datetime) -> None:
    request.status = "APPROVED" if status == "APPROVED" else "DENIED"
    request.settled_at = now
    request.updated_at = now


def expiry_transition(request: AccessRequest, now: datetime) -> str | None:
    """``"expired"`` or ``"expiring"`` when a temporary grant reaches that point, else None."""
    if request.status != "APPROVED" or request.expiration is None:
        return None
    if request.expiration <= now:
        return "expired"
    if not request.expiring_notified and request.expiration - now <= EXPIRING_WINDOW:
        return "expiring"
    return None
