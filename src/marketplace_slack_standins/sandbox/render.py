"""The model as the vendor spec's response bodies.

Optional fields that are null are left out rather than sent as null; fields the spec requires but
allows to be null (``metadata``, ``approverCriteriaMet``, ``duration`` ...) are sent as null.
"""

from __future__ import annotations

import uuid
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


def tag(t: Tag) -> dict[str, Any]:
    return {
        "id": t.id,
        "name": t.name,
        "displayName": t.name.rsplit(".", 1)[-1],
        "color": t.color,
        "source": t.source,
        "createdAt": iso(t.created_at),
        "updatedAt": iso(t.created_at),
        "deleted": False,
        "systemCreated": t.source == "system",
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
    out: dict[str, Any] = {
        "id": p.id,
        "name": p.name,
        "domains": list(p.domain_ids),
        "suspended": p.suspended,
        "createdBy": p.created_by.global_user_id,
        "createdAt": iso(p.created_at),
        "updatedAt": iso(p.updated_at),
        "status": status,
        "stats": {
            "dataSourceCount": len(p.source_ids),
            "pendingRequestCount": counts["PENDING"],
            "approvedRequestCount": counts["APPROVED"],
            "revokedRequestCount": counts["REVOKED"],
            "canceledRequestCount": counts["CANCELED"],
            "deniedRequestCount": counts["DENIED"],
            "totalRequestCount": len(requests),
        },
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
    if p.description is not None:
        out["description"] = p.description
    if latest is not None:
        out["requestId"] = latest.id
        if latest.expiration is not None:
            out["expiration"] = iso(latest.expiration)
    return out


def request(state: SandboxState, r: AccessRequest) -> dict[str, Any]:
    p = state.products[r.product_id]
    out: dict[str, Any] = {
        "id": r.id,
        "requestingUser": user(r.requesting_user),
        "user": user(r.user),
        "formVersion": r.form_version,
        "form": r.form,
        "type": r.type,
        "metadata": r.metadata,
        "status": r.status,
        "createdAt": iso(r.created_at),
        "updatedAt": iso(r.updated_at),
        "dataProduct": {
            "id": p.id,
            "name": p.name,
            **({"description": p.description} if p.description else {}),
        },
    }
    if r.expiration is not None:
        out["expiration"] = iso(r.expiration)
    return out


def record(rec: ApprovalRecord) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": rec.id,
        "dataAccessRequestId": rec.request_id,
        "approvers": [a.wire() for a in rec.approvers],
        "prerequisites": list(rec.prerequisites),
        "status": rec.status,
        "createdAt": iso(rec.created_at),
        "updatedAt": iso(rec.updated_at),
        "approverCriteriaMet": [a.wire() for a in rec.criteria_met] if rec.criteria_met is not None else None,
        "duration": rec.duration,
        "durationUnit": rec.duration_unit,
    }
    if rec.action_by is not None:
        out["actionBy"] = user(rec.action_by)
    if rec.reason is not None:
        out["reason"] = rec.reason
    return out


def determination(r: AccessRequest, rec: ApprovalRecord) -> dict[str, Any]:
    """One entry of recent determinations: the request with the record that settled it."""
    out: dict[str, Any] = {
        "id": r.id,
        "requestingUser": user(r.requesting_user),
        "user": user(r.user),
        "actionBy": user(rec.action_by) if rec.action_by else None,
        "status": rec.status,
        "createdAt": iso(r.created_at),
        "updatedAt": iso(rec.updated_at),
    }
    if rec.reason is not None:
        out["reason"] = rec.reason
    if r.expiration is not None:
        out["expiration"] = iso(r.expiration)
    return out


def _location(s: DataSource) -> dict[str, Any]:
    return {
        key: value
        for key, value in (
            ("hostname", s.hostname),
            ("database", s.database),
            ("schema", s.schema),
            ("table", s.table),
        )
        if value is not None
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
