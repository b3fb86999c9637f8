"""Risk assessment of an access request, from how similar requests for the same product went.

Similar requests are the product's other requests of the same type that were settled: approved ones
(including later revoked or expired) count as allowed, denied ones as denied. Fewer than three make
the assessment INDETERMINATE; otherwise the share denied sets the risk, and a previous denial or
revocation of the same user for this product is a conflict that raises it one level.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from marketplace_slack_standins.sandbox.model import AccessRequest

MIN_SAMPLE = 3
MODERATE_AT = 0.2
HIGH_AT = 0.5
MAX_REASONS = 5
_ALLOWED = ("APPROVED", "REVOKED", "EXPIRED")
_RAISED = {"LOW": "MODERATE", "MODERATE": "HIGH", "HIGH": "HIGH"}
_RECOMMENDATION = {"LOW": "APPROVED", "HIGH": "DENIED"}


def assess(request: AccessRequest, others: Sequence[AccessRequest], product_name: str) -> dict[str, Any]:
    similar = [o for o in others if o is not request and o.type == request.type]
    allowed = [o for o in similar if o.status in _ALLOWED]
    denied = [o for o in similar if o.status == "DENIED"]
    sample = len(allowed) + len(denied)
    ratio = len(denied) / sample if sample else 0.0
    conflict = any(o.user is request.user and o.status in ("DENIED", "REVOKED") for o in similar)

    if sample < MIN_SAMPLE:
        risk = "INDETERMINATE"
    else:
        risk = "HIGH" if ratio >= HIGH_AT else "MODERATE" if ratio >= MODERATE_AT else "LOW"
        if conflict:
            risk = _RAISED[risk]

    windows = [
        (o.settled_at - o.created_at).total_seconds() / 86400 for o in allowed if o.settled_at and o.records
    ]
    median = round(statistics.median(windows), 1) if windows else None
    return {
        "conflictDetected": conflict,
        "approvalRisk": risk,
        "recommendation": _RECOMMENDATION.get(risk, "NONE"),
        "nAllowed": len(allowed),
        "nDenied": len(denied),
        "riskValue": round(ratio, 2),
        "cohort": {
            # Only the literal shapes that validate unambiguously under the spec's oneOf are used:
            # a bare name and a labelled count of similar requests, each with its negation.
            "literals": [
                {"name": f"dataProduct:{product_name}", "negation": False},
                {"name": f"requestType:{request.type}", "negation": False},
                {"name": "previouslyDeniedOrRevoked", "negation": not conflict},
                {
                    "label": "Similar requests",
                    "similarRequests": {"allowed": str(len(allowed)), "denied": str(len(denied))},
                    "negation": False,
                },
            ]
        },
        "medianApprovalTimeWindowInDays": median,
        "explanation": _explain(request, product_name, len(allowed), len(denied), risk, conflict),
        "approvalReasons": _reasons(allowed, "APPROVED"),
        "denialReasons": _reasons(denied, "DENIED"),
    }


def _reasons(requests: Sequence[AccessRequest], status: str) -> list[str]:
    found: list[str] = []
    for req in sorted(requests, key=lambda r: r.updated_at, reverse=True):
        for record in req.records:
            if record.status == status and record.reason and record.reason not in found:
                found.append(record.reason)
    return found[:MAX_REASONS]


def _explain(
    request: AccessRequest, product: str, n_allowed: int, n_denied: int, risk: str, conflict: bool
) -> str:
    sample = n_allowed + n_denied
    kind = "masking exception" if request.type == "MASKING_EXCEPTION" else "access"
    if sample < MIN_SAMPLE:
        text = f"Only {sample} similar {kind} request(s) for {product} were decided; too few to judge."
    else:
        share = round(100 * n_denied / sample)
        text = f"{n_denied} of {sample} similar {kind} requests for {product} were denied ({share}%)"
        text += f": {risk} risk."
    if conflict:
        text += f" {request.user.name} was denied or revoked access to {product} before."
    return text
