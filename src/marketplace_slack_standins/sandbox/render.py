"""The model as the vendor's response bodies.

Every field the API reference shows is sent, as null when it has no value (``expiration``,
``requestId``, ``actionBy``, ``reason`` ...), rather than left out; where the reference and the spec
show different fields (a column's ``masking`` beside ``globalPolicyInfo``), both are sent.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from marketplace_slack_standins.sandbox.ids import iso
from marketplace_slack_standins.sandbox.model import (
    AccessRequest,
    ApprovalRecord,
    Column,
    DataProduct,
    DataSource,
    DataUseAgreement,
    Domain,
    FormVersion,
    Group,
    RequestType,
    Tag,
    User,
)
from marketplace_slack_standins.sandbox.state import SandboxState

TENANT_FQDN = "sandbox.immutacloud.com"
TOKEN_LIFETIME_SECONDS = 86400


def user(u: User) -> dict[str, Any]:
    return {
        "id": u.id,
        "iamId": u.iam_id,
        "globalUserId": u.global_user_id,
        "username": u.username,
        "name": u.name,
        "email": u.email,
        "authorizations": {k: list(v) for k, v in u.attributes.items()},
    }


def _audit(u: User) -> dict[str, Any]:
    return {"globalUserId": u.global_user_id, "name": u.name}


def group(g: Group) -> dict[str, Any]:
    return {"id": g.id, "iamId": g.iam_id, "name": g.name, "email": g.email}


def domain(d: Domain) -> dict[str, Any]:
    return {"id": d.id, "name": d.name, "description": d.description}


def tag(state: SandboxState, t: Tag) -> dict[str, Any]:
    product = state.products[t.data_product] if t.data_product else None
    return {
        "id": t.id,
        "name": t.name,
        "displayName": t.name.rsplit(".", 1)[-1],
        "description": t.description,
        "color": t.color,
        "source": t.source,
        "context": "dataProduct" if product else "column",
        "dataProductName": product.name if product else None,
        "createdBy": t.created_by,
        "addedBy": t.created_by,
        "createdAt": iso(t.created_at),
        "updatedAt": iso(t.created_at),
        "deleted": False,
        "protected": product is not None,  # the Marketplace's own: not for people to change
        "systemCreated": t.source != "curated",
        "hasLeafNodes": False,
    }


def me(state: SandboxState, u: User) -> dict[str, Any]:
    """``GET /api/auth/user``: the caller with global and domain ("collection") permissions."""
    collections = {
        domain_id: [
            {
                # derived, not drawn, so reading the caller does not move the id sequence
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{u.global_user_id}/{domain_id}/{permission}")),
                "createdAt": iso(u.created_at),
                "collectionId": domain_id,
                "permission": permission,
            }
            for permission in sorted(perms)
        ]
        for domain_id, perms in u.domain_permissions.items()
    }
    return {
        "displayName": u.name,
        "username": u.username,
        "expiration": int(state.now().timestamp()) + TOKEN_LIFETIME_SECONDS,
        "globalUserId": u.global_user_id,
        "trackingId": u.global_user_id,
        "tenantInfo": {
            "id": state.account_id,
            "fqdn": TENANT_FQDN,
            "organizationId": state.account_id,
            "organizationName": "Sandbox Org",
            "globalSegment": "na",
        },
        "email": u.email,
        "globalPermissions": sorted(u.permissions),
        "collectionPermissions": collections,
        "authorizations": {k: list(v) for k, v in u.attributes.items()},
        "groups": sorted(state.groups[g].name for g in u.group_ids),
    }


def agreement(a: DataUseAgreement) -> dict[str, Any]:
    return {
        "id": a.id,
        "name": a.name,
        "body": a.body,
        "createdBy": _audit(a.created_by),
        "createdAt": iso(a.created_at),
        "updatedBy": _audit(a.updated_by),
        "updatedAt": iso(a.updated_at),
    }


def form_version(v: FormVersion) -> dict[str, Any]:
    return {
        "id": v.form_id,
        "name": v.name,
        "fields": [f.wire() for f in v.fields],
        "policy": v.policy.wire(),
        "dataUseAgreements": [{"id": i, "name": n, "body": b} for i, n, b in v.agreements],
        "createdBy": _audit(v.created_by),
        "createdAt": iso(v.created_at),
        "updatedBy": _audit(v.updated_by),
        "updatedAt": iso(v.updated_at),
        "version": v.version,
    }


def product_form(v: FormVersion, kind: RequestType) -> dict[str, Any]:
    return {**form_version(v), "requestType": kind}


def product_status(state: SandboxState, p: DataProduct, caller: User) -> tuple[str, AccessRequest | None]:
    """The caller's standing with a product: their latest request's status, PUBLISHER, or NONE."""
    latest = state.latest_request(p, caller)
    if latest is not None:
        return latest.status, latest
    return ("PUBLISHER" if state.manages(caller, p) else "NONE"), None


def product(state: SandboxState, p: DataProduct, caller: User) -> dict[str, Any]:
    requests = state.product_requests(p)
    counts = {
        s: sum(1 for r in requests if r.status == s)
        for s in ("PENDING", "APPROVED", "REVOKED", "CANCELED", "DENIED")
    }
    status, latest = product_status(state, p, caller)
    return {
        "id": p.id,
        "name": p.name,
        "description": p.description,
        "domains": list(p.domain_ids),
        "suspended": p.suspended,
        "createdBy": p.created_by.global_user_id,
        "createdAt": iso(p.created_at),
        "updatedAt": iso(p.updated_at),
        "status": status,
        "expiration": iso(latest.expiration) if latest and latest.expiration else None,
        "stats": {
            "dataSourceCount": len(p.source_ids),
            "pendingRequestCount": counts["PENDING"],
            "approvedRequestCount": counts["APPROVED"],
            "revokedRequestCount": counts["REVOKED"],
            "canceledRequestCount": counts["CANCELED"],
            "deniedRequestCount": counts["DENIED"],
            "totalRequestCount": len(requests),
        },
        "requestId": latest.id if latest else None,
        "sourceTypes": sorted({state.sources[s].platform for s in p.source_ids}),
        "metadata": (
            {
                "subjectMatterExpert": {
                    "id": p.expert.global_user_id,
                    "username": p.expert.username,
                    "name": p.expert.name,
                }
            }
            if p.expert
            else None
        ),
        "dataAccessPolicy": p.data_access_policy.wire(),
        "maskingExceptionPolicy": p.masking_policy.wire(),
    }


def request(state: SandboxState, r: AccessRequest) -> dict[str, Any]:
    p = state.products[r.product_id]
    return {
        "id": r.id,
        "requestingUser": user(r.requesting_user),
        "user": user(r.user),
        "formVersion": r.form_version,
        "form": r.form,
        "type": r.type,
        "metadata": r.metadata,
        "status": r.status,
        "expiration": _iso_or_none(r.expiration),
        "createdAt": iso(r.created_at),
        "updatedAt": iso(r.updated_at),
        "dataProduct": {"id": p.id, "name": p.name, "description": p.description},
    }


def record(rec: ApprovalRecord) -> dict[str, Any]:
    return {
        "id": rec.id,
        "dataAccessRequestId": rec.request_id,
        "approvers": [a.wire() for a in rec.approvers],
        "prerequisites": list(rec.prerequisites),
        "actionBy": user(rec.action_by) if rec.action_by else None,
        "status": rec.status,
        "reason": rec.reason,
        "createdAt": iso(rec.created_at),
        "updatedAt": iso(rec.updated_at),
        "approverCriteriaMet": [a.wire() for a in rec.criteria_met] if rec.criteria_met is not None else None,
        "duration": rec.duration,
        "durationUnit": rec.duration_unit,
    }


def determination(r: AccessRequest, rec: ApprovalRecord) -> dict[str, Any]:
    """One entry of recent determinations: the request with the record that settled it."""
    return {
        "id": r.id,
        "requestingUser": user(r.requesting_user),
        "user": user(r.user),
        "actionBy": user(rec.action_by) if rec.action_by else None,
        "reason": rec.reason,
        "status": rec.status,
        "createdAt": iso(r.created_at),
        "updatedAt": iso(rec.updated_at),
        "expiration": _iso_or_none(r.expiration),
    }


def _iso_or_none(value: datetime | None) -> str | None:
    return iso(value) if value is not None else None


def _location(s: DataSource) -> dict[str, Any]:
    return {
        "prefix": s.prefix,
        "hostname": s.hostname,
        "database": s.database,
        "schema": s.schema,
        "table": s.table,
    }


def product_source(s: DataSource, status: str) -> dict[str, Any]:
    return {
        "id": s.link_id,
        "name": s.name,
        "type": s.platform,
        "sourceId": str(s.source_id),
        **_location(s),
        "status": status,
    }


def domain_source(s: DataSource) -> dict[str, Any]:
    return {
        "dataSourceId": s.source_id,
        "name": s.name,
        "platform": s.platform,
        "createdAt": iso(s.created_at),
        **_location(s),
    }


def column(s: DataSource, c: Column) -> dict[str, Any]:
    return {
        "name": c.name,
        "sourceId": str(s.source_id),
        "sourceName": s.name,
        "tags": list(c.tags),
        "type": c.data_type,
        # the reference's shape and the spec's, for the same global masking policy
        "masking": [{"type": c.masking, "global": True}] if c.masking else [],
        "globalPolicyInfo": {"maskingType": c.masking} if c.masking else None,
        "localPolicyInfo": None,
    }


def masking_column(s: DataSource, c: Column) -> dict[str, Any]:
    info = (
        {"maskingType": c.masking, "matchingTag": c.matching_tag, "matchingRegex": None}
        if c.masking
        else None
    )
    return {
        "name": c.name,
        "sourceId": str(s.source_id),
        "sourceName": s.name,
        "tags": list(c.tags),
        "type": c.data_type,
        "globalPolicyInfo": info,
    }
