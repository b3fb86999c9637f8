"""A tracked request as its card last showed it, kept with its reminder steps.

Planning a step's reminders (who is to be reminded, in which mode) needs the request's parties,
product, domains and the step's approvers. Webhooks and reconciliation keep cards current, and every
card shown passes through `request_seen`, so that state is written to the store there and the tick
plans from it: deciding who to remind asks the Marketplace nothing about the request. Only what the
planner reads is kept (no answers, risk or history), as deterministic JSON, so a card shown again
unchanged finds the same text and writes nothing.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Final

from marketplace_slack.domain import (
    AccessRequest,
    ApprovalStep,
    Approver,
    Person,
    RecordStatus,
    RequestKind,
    RequestStatus,
)
from marketplace_slack.infra.clock import utc

_VERSION: Final = 1


def snapshot_json(request: AccessRequest) -> str:
    """What planning reads about `request`, as JSON that is equal for equal states."""
    data: dict[str, Any] = {
        "v": _VERSION,
        "id": request.id,
        "kind": request.kind.value,
        "status": request.status.value,
        "raw_status": request.raw_status,
        "product_id": request.product_id,
        "product_name": request.product_name,
        "domain_id": request.domain_id,
        "domain_ids": list(request.domain_ids),
        "requester": _person(request.requester),
        "requested_by": _person(request.requested_by),
        "created_at": _when(request.created_at),
        "marketplace_url": request.marketplace_url,
        "steps": [
            {
                "id": s.id,
                "status": s.status.value,
                "approvers": [[a.kind, a.label, a.ref] for a in s.approvers],
                "prerequisites": list(s.prerequisites),
                "updated_at": _when(s.updated_at),
            }
            for s in request.steps
        ],
    }
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def from_snapshot(text: str | None) -> AccessRequest | None:
    """The request a snapshot describes; None when there is none or it is not one this app wrote."""
    if not text:
        return None
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("v") != _VERSION:
            return None
        return AccessRequest(
            id=str(data["id"]),
            kind=RequestKind(data["kind"]),
            status=RequestStatus(data["status"]),
            raw_status=str(data["raw_status"]),
            product_id=str(data["product_id"]),
            product_name=str(data["product_name"]),
            domain_id=_text(data.get("domain_id")),
            domain_ids=tuple(str(d) for d in data.get("domain_ids") or ()),
            requester=_as_person(data["requester"]),
            requested_by=_as_person(data["requested_by"]),
            created_at=utc(datetime.fromisoformat(str(data["created_at"]))),
            expiration=None,
            marketplace_url=_text(data.get("marketplace_url")),
            steps=tuple(
                ApprovalStep(
                    id=str(s["id"]),
                    status=RecordStatus(s["status"]),
                    approvers=tuple(
                        Approver(str(a[0]), str(a[1]), _text(a[2])) for a in s.get("approvers") or ()
                    ),
                    prerequisites=tuple(str(p) for p in s.get("prerequisites") or ()),
                    updated_at=_as_when(s.get("updated_at")),
                )
                for s in data["steps"]
            ),
        )
    except (KeyError, TypeError, ValueError, IndexError):
        return None


def _person(person: Person) -> list[str | None]:
    # Not the Slack id: only a card's load looks it up, and a snapshot that changed with the path
    # that read the request would be written back and forth. The planner finds it by email.
    return [person.marketplace_id, person.username, person.name, person.email]


def _as_person(raw: Any) -> Person:
    marketplace_id, username, name, email = raw
    return Person(str(marketplace_id), str(username), str(name), _text(email))


def _when(at: datetime | None) -> str | None:
    return None if at is None else utc(at).isoformat()


def _as_when(raw: Any) -> datetime | None:
    return None if raw is None else utc(datetime.fromisoformat(str(raw)))


def _text(raw: Any) -> str | None:
    return None if raw is None else str(raw)
