"""Data products, request forms and data use agreements: create, change, delete.

Request forms are versioned: every change (including a change to an agreement a form carries) makes
a new version, and requests keep the version they were made under, as the guides describe.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from marketplace_slack_standins.sandbox.errors import bad_request, conflict, forbidden
from marketplace_slack_standins.sandbox.ids import is_uuid
from marketplace_slack_standins.sandbox.model import (
    MANAGE_DATA_PRODUCTS,
    PRODUCT_CREATED,
    PRODUCT_DELETED,
    PRODUCT_SOURCES_UPDATED,
    REQUEST_DELETED,
    DataProduct,
    DataUseAgreement,
    Event,
    FormVersion,
    RequestForm,
    Tag,
    User,
)
from marketplace_slack_standins.sandbox.policy import (
    AllStage,
    AnyStage,
    ApproveEvent,
    Approver,
    DelegateEvent,
    DenyEvent,
    DomainPermissionApprover,
    FormField,
    GroupApprover,
    Policy,
    ReviewEvent,
    ReviewParams,
    Rule,
    UserApprover,
    default_product_policy,
)
from marketplace_slack_standins.sandbox.state import SandboxState

NAME_MAX = 255
# Each data product has a tag of its own, which the Marketplace creates and protects.
PRODUCT_TAG_ROOT = "Data Product"
PRODUCT_TAG_COLOR = "#6e56cf"
_NAME_EXTRA = set(")(-_/\\")


# data use agreements


def _may_author(state: SandboxState, caller: User, what: str) -> None:
    if not state.manages_any(caller):
        raise forbidden(f"Creating or changing a {what} needs GOVERNANCE or Manage Data Products")


def create_agreement(
    state: SandboxState,
    caller: User,
    *,
    name: str,
    body: str,
    agreement_id: str | None = None,
    now: datetime | None = None,
) -> DataUseAgreement:
    now = now or state.now()
    _may_author(state, caller, "data use agreement")
    if any(a.name == name for a in state.agreements.values()):
        raise conflict(f"Data use agreement with name {name!r} already exists")
    if agreement_id in state.agreements:
        raise conflict(f"Data use agreement {agreement_id} already exists")
    agreement = DataUseAgreement(
        id=agreement_id or state.ids.uuid(),
        name=name,
        body=body,
        created_by=caller,
        created_at=now,
        updated_by=caller,
        updated_at=now,
    )
    state.agreements[agreement.id] = agreement
    return agreement


def update_agreement(
    state: SandboxState,
    caller: User,
    agreement_id: str,
    *,
    name: str | None,
    body: str | None,
    now: datetime | None = None,
) -> DataUseAgreement:
    now = now or state.now()
    agreement = state.agreement(agreement_id)
    _may_author(state, caller, "data use agreement")
    if name is not None and any(a.name == name and a is not agreement for a in state.agreements.values()):
        raise conflict(f"Data use agreement with name {name!r} already exists")
    agreement.name = name if name is not None else agreement.name
    agreement.body = body if body is not None else agreement.body
    agreement.updated_by = caller
    agreement.updated_at = now
    for form in state.forms.values():
        if agreement.id in form.agreement_ids:
            snapshot_form(state, form)
    return agreement


def delete_agreement(state: SandboxState, caller: User, agreement_id: str) -> None:
    agreement = state.agreement(agreement_id)
    _may_author(state, caller, "data use agreement")
    users = sorted(f.name for f in state.forms.values() if agreement.id in f.agreement_ids)
    if users:
        raise conflict(
            f"Data use agreement {agreement.name!r} is used by request form(s): {', '.join(users)}"
        )
    del state.agreements[agreement.id]


# request forms


def snapshot_form(state: SandboxState, form: RequestForm) -> FormVersion:
    agreements = tuple((a.id, a.name, a.body) for a in (state.agreements[i] for i in form.agreement_ids))
    version = FormVersion(
        version=state.ids.cuid(),
        form_id=form.id,
        name=form.name,
        fields=tuple(form.fields),
        policy=form.policy,
        agreements=agreements,
        created_by=form.created_by,
        created_at=form.created_at,
        updated_by=form.updated_by,
        updated_at=form.updated_at,
    )
    state.form_versions[version.version] = version
    form.version = version.version
    return version


def create_form(
    state: SandboxState,
    caller: User,
    *,
    name: str,
    fields: Sequence[FormField],
    policy: Policy,
    agreement_ids: Sequence[str] = (),
    form_id: str | None = None,
    now: datetime | None = None,
) -> RequestForm:
    now = now or state.now()
    _may_author(state, caller, "request form")
    if any(f.name == name for f in state.forms.values()):
        raise conflict("Request form with name already exists.")
    if form_id in state.forms:
        raise conflict(f"Request form {form_id} already exists")
    form = RequestForm(
        id=form_id or state.ids.uuid(),
        name=name,
        fields=_with_ids(state, fields),
        policy=normalize_policy(state, policy, for_product=False),
        agreement_ids=_agreement_ids(state, agreement_ids),
        created_by=caller,
        created_at=now,
        updated_by=caller,
        updated_at=now,
    )
    state.forms[form.id] = form
    snapshot_form(state, form)
    return form


def update_form(
    state: SandboxState,
    caller: User,
    form_id: str,
    *,
    name: str | None = None,
    fields: Sequence[FormField] | None = None,
    policy: Policy | None = None,
    agreement_ids: Sequence[str] | None = None,
    now: datetime | None = None,
) -> RequestForm:
    form = state.form(form_id)
    _may_author(state, caller, "request form")
    if name is not None and any(f.name == name and f is not form for f in state.forms.values()):
        raise conflict("Request form with name already exists.")
    if policy is not None:
        form.policy = normalize_policy(state, policy, for_product=False)
    if fields is not None:
        form.fields = _with_ids(state, fields)
    if agreement_ids is not None:
        form.agreement_ids = _agreement_ids(state, agreement_ids)
    form.name = name if name is not None else form.name
    form.updated_by = caller
    form.updated_at = now or state.now()
    snapshot_form(state, form)
    return form


def delete_form(state: SandboxState, caller: User, form_id: str) -> None:
    form = state.form(form_id)
    _may_author(state, caller, "request form")
    users = sorted(
        p.name for p in state.products.values() if form.id in (p.data_access_form_id, p.masking_form_id)
    )
    if users:
        raise conflict(f"Request form {form.name!r} is used by data product(s): {', '.join(users)}")
    del state.forms[form.id]


def _with_ids(state: SandboxState, fields: Sequence[FormField]) -> list[FormField]:
    return [f if f.id else f.model_copy(update={"id": state.ids.uuid()}) for f in fields]


def _agreement_ids(state: SandboxState, ids: Sequence[str]) -> list[str]:
    missing = [i for i in ids if i not in state.agreements]
    if missing:
        raise bad_request(f"Data use agreement(s) not found: {', '.join(missing)}")
    return list(dict.fromkeys(ids))


def normalize_policy(state: SandboxState, policy: Policy, *, for_product: bool) -> Policy:
    """Resolve approvers to the directory (ids and display names), rejecting unknown ones."""
    if for_product:
        _check_product_policy(policy)
    rules = [Rule(conditions=r.conditions, event=_normalize_event(state, r.event)) for r in policy.rules]
    return Policy(
        version=policy.version, rules=rules, defaultEvent=_normalize_event(state, policy.defaultEvent)
    )


def _check_product_policy(policy: Policy) -> None:
    if policy.delegates():
        raise bad_request("a data product's own review flow cannot delegate to dataProductPolicy")
    if not isinstance(policy.defaultEvent, ApproveEvent | ReviewEvent):
        raise bad_request("a data product's review flow must default to approve or review")


def _normalize_event(
    state: SandboxState, event: ApproveEvent | DenyEvent | ReviewEvent | DelegateEvent
) -> ApproveEvent | DenyEvent | ReviewEvent | DelegateEvent:
    if not isinstance(event, ReviewEvent):
        return event
    stages: list[AnyStage | AllStage] = []
    for stage in event.params.stages:
        if isinstance(stage, AnyStage):
            stages.append(AnyStage(any_=[_normalize_approver(state, a) for a in stage.any_]))
        else:
            stages.append(AllStage(all_=[_normalize_approver(state, a) for a in stage.all_]))
    return ReviewEvent(type="review", params=ReviewParams(stages=stages))


def _normalize_approver(state: SandboxState, approver: Approver) -> Approver:
    if isinstance(approver, UserApprover):
        user = state.find_user(approver.id)
        if user is None:
            raise bad_request(f"Unknown USER approver {approver.id}")
        return UserApprover(type="USER", id=user.global_user_id, displayName=user.name)
    if isinstance(approver, GroupApprover):
        group = state.groups.get(approver.id) if approver.id is not None else state.group_named(approver.name)
        if group is None:
            raise bad_request(f"Unknown GROUP approver {approver.name}")
        return GroupApprover(type="GROUP", id=group.id, iamId=group.iam_id, name=group.name)
    if isinstance(approver, DomainPermissionApprover) and approver.domainId:
        state.domain(approver.domainId)
    return approver


# data products


@dataclass
class ProductSpec:
    """What a create or update asks for; None leaves a field as it is (or defaulted on create)."""

    name: str | None = None
    description: str | None = None
    clear_description: bool = False
    expert_id: str | None = None
    clear_expert: bool = False
    domain_ids: list[str] | None = None
    source_ids: list[str] | None = None
    product_id: str | None = None
    data_access_form_id: str | None = None
    masking_form_id: str | None = None
    data_access_policy: Policy | None = None
    masking_policy: Policy | None = None
    suspended: bool | None = None


def create_product(
    state: SandboxState, caller: User, spec: ProductSpec, *, now: datetime | None = None
) -> DataProduct:
    now = now or state.now()
    if spec.name is None or spec.domain_ids is None or spec.source_ids is None:
        raise bad_request("name, domains and dataSources are required")
    _check_name(state, spec.name, None)
    domain_ids = _domains(state, caller, spec.domain_ids)
    if spec.product_id is not None:
        if not is_uuid(spec.product_id):
            raise bad_request("id must be a UUID")
        if spec.product_id in state.products:
            raise conflict(f"Data product {spec.product_id} already exists")
    if spec.data_access_form_id is None:
        raise bad_request("dataAccessRequestFormId (or the deprecated requestFormId) is required")
    _form_ref(state, spec.data_access_form_id)
    # one form serves both kinds of request unless the product names a separate masking form
    masking_form = _form_ref(state, spec.masking_form_id) or spec.data_access_form_id
    product = DataProduct(
        id=spec.product_id or state.ids.cuid(),
        name=spec.name,
        description=spec.description,
        domain_ids=domain_ids,
        source_ids=_sources(state, spec.source_ids, domain_ids),
        created_by=caller,
        created_at=now,
        updated_at=now,
        data_access_form_id=spec.data_access_form_id,
        masking_form_id=masking_form,
        data_access_policy=normalize_policy(
            state, spec.data_access_policy or default_product_policy(), for_product=True
        ),
        masking_policy=normalize_policy(
            state, spec.masking_policy or default_product_policy(), for_product=True
        ),
        expert=_expert(state, spec.expert_id),
        suspended=bool(spec.suspended),
    )
    state.products[product.id] = product
    tag_id = max(state.tags, default=0) + 1
    state.tags[tag_id] = Tag(
        id=tag_id,
        name=f"{PRODUCT_TAG_ROOT}.{product.name}",
        color=PRODUCT_TAG_COLOR,
        created_at=now,
        created_by=caller.id,
        description=f"Access granted through the data product {product.name}",
        source="marketplace",
        data_product=product.id,
    )
    state.emit(Event(PRODUCT_CREATED, product.id))
    return product


def update_product(
    state: SandboxState, caller: User, product_id: str, spec: ProductSpec, *, now: datetime | None = None
) -> DataProduct:
    product = state.product(product_id)
    if not state.manages(caller, product):
        raise forbidden(f"{caller.username} may not change data product {product.name}")
    # Everything is checked before anything changes, so a refused update leaves the product as it was.
    if spec.name is not None:
        _check_name(state, spec.name, product)
    domain_ids = (
        _domains(state, caller, spec.domain_ids) if spec.domain_ids is not None else product.domain_ids
    )
    _sources(state, [str(s) for s in product.source_ids], domain_ids)
    expert = _expert(state, spec.expert_id) if spec.expert_id is not None else product.expert
    access_form = _form_ref(state, spec.data_access_form_id) or product.data_access_form_id
    masking_form = _form_ref(state, spec.masking_form_id) or product.masking_form_id
    access_policy = spec.data_access_policy and normalize_policy(
        state, spec.data_access_policy, for_product=True
    )
    masking_policy = spec.masking_policy and normalize_policy(state, spec.masking_policy, for_product=True)

    product.name = spec.name or product.name
    for tag in state.product_tags(product):
        tag.name = f"{PRODUCT_TAG_ROOT}.{product.name}"
    product.domain_ids = domain_ids
    if spec.description is not None or spec.clear_description:
        product.description = spec.description
    product.expert = None if spec.clear_expert else expert
    product.data_access_form_id, product.masking_form_id = access_form, masking_form
    product.data_access_policy = access_policy or product.data_access_policy
    product.masking_policy = masking_policy or product.masking_policy
    if spec.suspended is not None:
        # Suspension withdraws the grants in the data platform without touching the requests, so that
        # resuming restores them; the sandbox shows it in the data sources' status.
        product.suspended = spec.suspended
    product.updated_at = now or state.now()
    return product


def _form_ref(state: SandboxState, form_id: str | None) -> str | None:
    """A request form named in a body: unknown ones are the body's fault (400), not a missing page."""
    if form_id is not None and form_id not in state.forms:
        raise bad_request(f"Request form {form_id} not found")
    return form_id


def set_sources(
    state: SandboxState,
    caller: User,
    product_id: str,
    source_ids: Sequence[str],
    *,
    now: datetime | None = None,
) -> DataProduct:
    product = state.product(product_id)
    if not state.manages(caller, product):
        raise forbidden(f"{caller.username} may not change data product {product.name}")
    product.source_ids = _sources(state, source_ids, product.domain_ids)
    product.updated_at = now or state.now()
    state.emit(Event(PRODUCT_SOURCES_UPDATED, product.id))
    return product


def delete_product(state: SandboxState, caller: User, product_id: str) -> None:
    """Deleting a product removes everyone's access with it: its requests are deleted too."""
    product = state.product(product_id)
    if not state.manages(caller, product):
        raise forbidden(f"{caller.username} may not delete data product {product.name}")
    for request in state.product_requests(product):
        for record in request.records:
            state.records.pop(record.id, None)
        del state.requests[request.id]
        state.emit(Event(REQUEST_DELETED, product.id, request.id))
    for tag in state.product_tags(product):
        del state.tags[tag.id]
    del state.products[product.id]
    state.emit(Event(PRODUCT_DELETED, product.id))


def _check_name(state: SandboxState, name: str, current: DataProduct | None) -> None:
    if not 1 <= len(name) <= NAME_MAX:
        raise bad_request(f"name must be 1 to {NAME_MAX} characters")
    # The spec's pattern: letters, marks, digits, whitespace and )(-_/\ only.
    if any(
        not (c.isalnum() or c.isspace() or c in _NAME_EXTRA or unicodedata.category(c).startswith("M"))
        for c in name
    ):
        raise bad_request("name may only contain letters, digits, spaces and )(-_/\\")
    if any(p.name.casefold() == name.casefold() and p is not current for p in state.products.values()):
        raise conflict("Data Product name in use.")


def _domains(state: SandboxState, caller: User, domain_ids: Sequence[str]) -> list[str]:
    if not domain_ids:
        raise bad_request("domains must name at least one domain")
    for domain_id in domain_ids:
        if domain_id not in state.domains:
            raise bad_request(f"Domain {domain_id} not found")
        if not (
            state.is_governor(caller) or MANAGE_DATA_PRODUCTS in caller.domain_permissions.get(domain_id, ())
        ):
            raise forbidden(
                f"{caller.username} needs GOVERNANCE or Manage Data Products in domain "
                f"{state.domains[domain_id].name} to publish data products there"
            )
    return list(dict.fromkeys(domain_ids))


def _sources(state: SandboxState, source_ids: Sequence[str], domain_ids: Sequence[str]) -> list[int]:
    """Data sources must exist and belong to one of the product's domains."""
    picked: list[int] = []
    for ref in source_ids:
        source = state.sources.get(int(ref)) if str(ref).isdigit() else None
        if source is None:
            raise bad_request(f"Data source {ref} not found")
        if source.domain_id not in domain_ids:
            raise bad_request(f"Data source {source.name} is not in the data product's domain")
        picked.append(source.source_id)
    return list(dict.fromkeys(picked))


def _expert(state: SandboxState, expert_id: str | None) -> User | None:
    if expert_id is None:
        return None
    user = state.find_user(expert_id)
    if user is None:
        raise bad_request(f"Subject matter expert {expert_id} not found")
    return user
