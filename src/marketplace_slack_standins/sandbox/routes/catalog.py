"""Request forms, data use agreements, directory metadata, settings and the caller's own identity."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from marketplace_slack_standins.sandbox import catalog, render
from marketplace_slack_standins.sandbox.errors import bad_request, not_found
from marketplace_slack_standins.sandbox.paging import offset_page
from marketplace_slack_standins.sandbox.routes.bodies import (
    CreateDataUseAgreement,
    CreateRequestForm,
    UpdateDataUseAgreement,
    UpdateRequestForm,
    UpdateUserPreferences,
)
from marketplace_slack_standins.sandbox.routes.common import API, Query, body, caller, empty, ok, state_of

NOTIFICATION_PROVIDERS = ("email", "slack", "teams")
NOTIFICATION_TYPES = (
    "ACCESS_REQUEST_CREATED",
    "ACCESS_REQUEST_DETERMINATION",
    "ACCESS_REQUEST_EXPIRING",
    "ACCESS_REVOKED",
)


def _sorted_named(items: list[Any], q: Query) -> list[Any]:
    """Search order shared by forms and agreements: name/createdAt/updatedAt, filtered by name."""
    name = (q.text("nameFilter") or "").casefold()
    exact = q.flag("exactMatch", False)
    sort_by = q.choice("sortBy", ("name", "createdAt", "updatedAt"), "name")
    order = q.choice("sortOrder", ("asc", "desc"), "asc")
    found = [i for i in items if (i.name.casefold() == name if exact and name else name in i.name.casefold())]
    keys = {
        "name": lambda i: i.name.casefold(),
        "createdAt": lambda i: i.created_at,
        "updatedAt": lambda i: i.updated_at,
    }
    return sorted(found, key=lambda i: (keys[sort_by](i), i.id), reverse=order == "desc")


# data use agreements


async def search_agreements(request: web.Request) -> web.Response:
    q = Query(request)
    found = _sorted_named(list(state_of(request).agreements.values()), q)
    page, meta = offset_page(found, q.number("offset", 0, minimum=0), q.number("limit", 10, minimum=1))
    return ok({"data": [render.agreement(a) for a in page], "meta": meta})


async def create_agreement(request: web.Request) -> web.Response:
    payload = await body(request, CreateDataUseAgreement)
    created = catalog.create_agreement(
        state_of(request), caller(request), name=payload.name, body=payload.body, agreement_id=payload.id
    )
    return ok(render.agreement(created), 201)


async def get_agreement(request: web.Request) -> web.Response:
    return ok(render.agreement(state_of(request).agreement(request.match_info["id"])))


async def update_agreement(request: web.Request) -> web.Response:
    payload = await body(request, UpdateDataUseAgreement)
    updated = catalog.update_agreement(
        state_of(request), caller(request), request.match_info["id"], name=payload.name, body=payload.body
    )
    return ok(render.agreement(updated), 201)


async def delete_agreement(request: web.Request) -> web.Response:
    catalog.delete_agreement(state_of(request), caller(request), request.match_info["id"])
    return empty()


async def agreement_forms(request: web.Request) -> web.Response:
    state = state_of(request)
    agreement = state.agreement(request.match_info["id"])
    return ok([{"id": f.id, "name": f.name} for f in state.forms.values() if agreement.id in f.agreement_ids])


# request forms


async def search_forms(request: web.Request) -> web.Response:
    state = state_of(request)
    q = Query(request)
    found = _sorted_named(list(state.forms.values()), q)
    page, meta = offset_page(found, q.number("offset", 0, minimum=0), q.number("limit", 10, minimum=1))
    data = []
    for form in page:
        users = [p for p in state.products.values() if form.id in (p.data_access_form_id, p.masking_form_id)]
        domains = list(dict.fromkeys(d for p in users for d in p.domain_ids))
        data.append({**render.form_version(state.form_versions[form.version]), "associatedDomains": domains})
    return ok({"data": data, "meta": meta})


async def create_form(request: web.Request) -> web.Response:
    payload = await body(request, CreateRequestForm)
    state = state_of(request)
    form = catalog.create_form(
        state,
        caller(request),
        name=payload.name,
        fields=payload.fields,
        policy=payload.policy,
        agreement_ids=payload.dataUseAgreementIds or [],
        form_id=payload.id,
    )
    return ok(render.form_version(state.form_versions[form.version]), 201)


async def get_form(request: web.Request) -> web.Response:
    state = state_of(request)
    return ok(render.form_version(state.form_versions[state.form(request.match_info["id"]).version]))


async def get_form_version(request: web.Request) -> web.Response:
    version = state_of(request).form_versions.get(request.match_info["version"])
    if version is None:
        raise not_found(f"Request form version {request.match_info['version']} not found")
    return ok(render.form_version(version))


async def update_form(request: web.Request) -> web.Response:
    payload = await body(request, UpdateRequestForm)
    state = state_of(request)
    form = catalog.update_form(
        state,
        caller(request),
        request.match_info["id"],
        name=payload.name,
        fields=payload.fields,
        policy=payload.policy,
        agreement_ids=payload.dataUseAgreementIds,
    )
    return ok(render.form_version(state.form_versions[form.version]), 201)


async def delete_form(request: web.Request) -> web.Response:
    catalog.delete_form(state_of(request), caller(request), request.match_info["id"])
    return empty()


async def form_products(request: web.Request) -> web.Response:
    state = state_of(request)
    form = state.form(request.match_info["id"])
    linked = []
    for p in state.products.values():
        kinds = [
            k
            for k, fid in (("DATA_ACCESS", p.data_access_form_id), ("MASKING_EXCEPTION", p.masking_form_id))
            if fid == form.id
        ]
        if kinds:
            linked.append({"id": p.id, "name": p.name, "requestTypes": kinds})
    return ok(linked)


# directory


async def domains(request: web.Request) -> web.Response:
    """Domains the caller can publish in: all for governors, else where they manage data products."""
    state = state_of(request)
    user = caller(request)
    usable = [
        d
        for d in state.domains.values()
        if state.is_governor(user) or "Manage Data Products" in user.domain_permissions.get(d.id, ())
    ]
    return ok({"domains": [render.domain(d) for d in usable]})


async def get_domain(request: web.Request) -> web.Response:
    return ok(render.domain(state_of(request).domain(request.match_info["id"])))


async def domain_sources(request: web.Request) -> web.Response:
    state = state_of(request)
    domain = state.domain(request.match_info["id"])
    q = Query(request)
    needle = (q.text("searchText") or "").casefold()
    wanted = set(q.many("dataSourceIds"))
    found = sorted(
        (
            s
            for s in state.sources.values()
            if s.domain_id == domain.id
            and needle in s.name.casefold()
            and (not wanted or str(s.source_id) in wanted)
        ),
        key=lambda s: s.source_id,
    )
    page, meta = offset_page(found, q.number("offset", 0, minimum=0), q.number("limit", 10, minimum=1))
    return ok({"data": [render.domain_source(s) for s in page], "meta": meta})


async def users(request: web.Request) -> web.Response:
    state = state_of(request)
    q = Query(request)
    needle = (q.text("filter") or "").casefold()
    ids = set(q.many("globalUserId"))
    found = [
        u
        for u in state.users.values()
        if (not ids or u.global_user_id in ids)
        and any(needle in text.casefold() for text in (u.username, u.name, u.email))
    ]
    return ok({"users": [render.user(u) for u in found[: q.number("limit", 100, minimum=1)]]})


async def groups(request: web.Request) -> web.Response:
    state = state_of(request)
    q = Query(request)
    needle = (q.text("filter") or "").casefold()
    found = [g for g in state.groups.values() if needle in g.name.casefold()]
    return ok({"groups": [render.group(g) for g in found[: q.number("limit", 100, minimum=1)]]})


async def attributes(request: web.Request) -> web.Response:
    state = state_of(request)
    q = Query(request)
    needle = (q.text("search") or "").casefold()
    kind = q.text("type")
    pairs = sorted(
        {(k, v) for u in state.users.values() for k, values in u.attributes.items() for v in values}
    )
    found = [
        (k, v)
        for k, v in pairs
        if (kind is None or k == kind) and (needle in k.casefold() or needle in v.casefold())
    ]
    return ok({"attributes": [{"type": k, "value": v} for k, v in found]})


async def tags(request: web.Request) -> web.Response:
    state = state_of(request)
    q = Query(request)
    needle = (q.text("searchText") or "").casefold()
    fuzzy = q.flag("fuzzySearch", False)
    limit = q.number("limit", 200, minimum=1, maximum=200)

    def hit(name: str) -> bool:
        name = name.casefold()
        return needle in name if fuzzy or not needle else name.startswith(needle)

    return ok([render.tag(state, t) for t in state.tags.values() if hit(t.name)][:limit])


# settings, identity, notification preferences


async def frontend_settings(_: web.Request) -> web.Response:
    """The app's branding, which it reads before anyone has signed in: no token needed."""
    return ok(
        {
            "theme": {
                "primaryColor": "#1b4f9c",
                "accentColor": "#f5a623",
                "lightModeImage": f"https://{render.TENANT_FQDN}/branding/logo-light.svg",
                "darkModeImage": f"https://{render.TENANT_FQDN}/branding/logo-dark.svg",
            },
            "featureFlags": {"statsigClientKey": "client-sandbox", "statsigEnvironment": "sandbox"},
        }
    )


async def whoami(request: web.Request) -> web.Response:
    return ok(render.me(state_of(request), caller(request)))


def _preferences(request: web.Request) -> list[dict[str, Any]]:
    state = state_of(request)
    user = caller(request)
    return state.preferences.setdefault(
        user.global_user_id,
        [
            {
                "provider": provider,
                "enabled": provider == "email",
                "typePreferences": [
                    {"notificationType": t, "enabled": provider == "email"} for t in NOTIFICATION_TYPES
                ],
            }
            for provider in NOTIFICATION_PROVIDERS
        ],
    )


async def get_preferences(request: web.Request) -> web.Response:
    return ok(_preferences(request))


async def update_preferences(request: web.Request) -> web.Response:
    payload = await body(request, UpdateUserPreferences)
    current = {p["provider"]: p for p in _preferences(request)}
    for change in payload.preferences:
        if change.provider not in current:
            raise bad_request(f"provider must be one of: {', '.join(NOTIFICATION_PROVIDERS)}")
        unknown = [
            t.notificationType for t in change.typePreferences if t.notificationType not in NOTIFICATION_TYPES
        ]
        if unknown:
            raise bad_request(f"unknown notificationType(s): {', '.join(unknown)}")
    for change in payload.preferences:
        types = {t["notificationType"]: t for t in current[change.provider]["typePreferences"]}
        for t in change.typePreferences:
            types[t.notificationType]["enabled"] = t.enabled
        current[change.provider]["enabled"] = any(t["enabled"] for t in types.values())
    return ok(
        {
            "recipientId": caller(request).global_user_id,
            "preferences": [
                {"provider": p["provider"], "typePreferences": p["typePreferences"]} for p in current.values()
            ],
        }
    )


def register(app: web.Application) -> None:
    r = app.router
    r.add_get(f"{API}/data-use-agreement", search_agreements)
    r.add_post(f"{API}/data-use-agreement", create_agreement)
    r.add_get(f"{API}/data-use-agreement/{{id}}", get_agreement)
    r.add_put(f"{API}/data-use-agreement/{{id}}", update_agreement)
    r.add_delete(f"{API}/data-use-agreement/{{id}}", delete_agreement)
    r.add_get(f"{API}/data-use-agreement/{{id}}/request-forms", agreement_forms)
    r.add_get(f"{API}/request-form", search_forms)
    r.add_post(f"{API}/request-form", create_form)
    r.add_get(f"{API}/request-form/version/{{version}}", get_form_version)
    r.add_get(f"{API}/request-form/{{id}}", get_form)
    r.add_put(f"{API}/request-form/{{id}}", update_form)
    r.add_delete(f"{API}/request-form/{{id}}", delete_form)
    r.add_get(f"{API}/request-form/{{id}}/data-products", form_products)
    r.add_get(f"{API}/metadata/domain", domains)
    r.add_get(f"{API}/metadata/domain/{{id}}", get_domain)
    r.add_get(f"{API}/metadata/domain/{{id}}/datasources", domain_sources)
    r.add_get(f"{API}/metadata/users", users)
    r.add_get(f"{API}/metadata/groups", groups)
    r.add_get(f"{API}/metadata/attributes", attributes)
    r.add_get(f"{API}/metadata/tags", tags)
    r.add_get(f"{API}/settings/frontend", frontend_settings)
    r.add_get(f"{API}/auth/user", whoami)
    r.add_get(f"{API}/notification/user-preferences", get_preferences)
    r.add_put(f"{API}/notification/user-preferences", update_preferences)
