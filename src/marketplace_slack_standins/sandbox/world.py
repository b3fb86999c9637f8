"""The seeded world: a small company's Marketplace with history, the same for the same seed and clock.

Everything is placed relative to the clock's now at build time and built through the operations
the API uses, so seeded requests, records and expirations obey the same review-flow rules. Other
tests and the demo rely on the fixtures named by the constants below; the tables are in
``seed_data``.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from marketplace_slack.infra.clock import Clock
from marketplace_slack_standins.sandbox import access, catalog, flows, seed_data
from marketplace_slack_standins.sandbox.catalog import ProductSpec
from marketplace_slack_standins.sandbox.links import product_details_link, request_access_link
from marketplace_slack_standins.sandbox.model import (
    MANAGE_DATA_PRODUCTS,
    AccessRequest,
    Column,
    DataProduct,
    DataSource,
    Domain,
    Group,
    RequestType,
    Tag,
    User,
)
from marketplace_slack_standins.sandbox.policy import (
    AccessDurationField,
    FormField,
    Policy,
    SelectionField,
    ShortAnswerField,
)
from marketplace_slack_standins.sandbox.state import TOKEN_PREFIX, SandboxState

__all__ = [
    "ADMIN",
    "CUSTOMER_360",
    "FINANCE_LEDGER",
    "FINANCE_STEWARDS",
    "GINA",
    "MARKETING_EVENTS",
    "NORA",
    "OMAR",
    "RICK",
    "SALES_PIPELINE",
    "SARA",
    "WEB_ANALYTICS",
    "build",
    "product_details_link",
    "request_access_link",
    "users_table",
]

# Users other tests and the demo depend on (bearer token: "sbx_" + username).
ADMIN = "admin"  # Ada Admin: GOVERNANCE (also APPLICATION_ADMIN, USER_ADMIN)
SARA = "sara"  # Sara Stone: steward of Sales Pipeline and Customer 360
OMAR = "omar"  # Omar Haddad: steward of Sales Pipeline (and the Product domain's products)
GINA = "gina"  # Gina Rossi: member of Finance Stewards
RICK = "rick"  # Rick Moreno: requester without a steward role
NORA = "nora"  # Nora Quinn: no steward role at all
FIXTURE_USERS = (ADMIN, SARA, OMAR, GINA, RICK, NORA)
FINANCE_STEWARDS = "Finance Stewards"

# Products other tests and the demo depend on.
SALES_PIPELINE = (
    "Sales Pipeline"  # Sales; any steward: one record, USER sara or USER omar; asks for a duration
)
CUSTOMER_360 = "Customer 360"  # Customer; all stewards: USER sara and GROUP Finance Stewards; masked PII
FINANCE_LEDGER = "Finance Ledger"  # Finance; GROUP Finance Stewards, then PERMISSION GOVERNANCE
MARKETING_EVENTS = "Marketing Events"  # Marketing; auto-approve, no expiration
WEB_ANALYTICS = "Web Analytics"  # Marketing; auto-approve for 30 days

USER_COUNT = 50
HISTORY_DAYS = (14, 180)  # settled requests were made this many days ago
PENDING_HOURS = (30, 60)  # today's queue was made this many hours ago


def build(*, clock: Clock, seed: int = 7) -> SandboxState:
    """The seeded world, placed relative to ``clock.now()``."""
    state = SandboxState(clock=clock, seed=seed)
    now = clock.now()
    epoch = now - timedelta(days=400)
    rng = random.Random(f"world-{seed}")
    _people(state, rng, epoch)
    _sources(state, epoch)
    admin = state.users[ADMIN]
    for name, text in seed_data.AGREEMENTS.items():
        catalog.create_agreement(state, admin, name=name, body=text, now=epoch)
    agreement_ids = {a.name: a.id for a in state.agreements.values()}
    for name, (fields, policy, agreements) in seed_data.FORMS.items():
        catalog.create_form(
            state,
            admin,
            name=name,
            fields=[_field(f) for f in fields],
            policy=Policy.model_validate(policy),
            agreement_ids=[agreement_ids[a] for a in agreements],
            now=epoch,
        )
    approval_rates: dict[str, float] = {}
    for index, row in enumerate(_rows(seed_data.PRODUCTS)):
        product = _product(state, row, epoch + timedelta(days=5 + index))
        approval_rates[product.id] = float(row[5])
    _history(state, rng, now, approval_rates)
    _pending(state, rng, now)
    _archive(state, epoch)
    state.sweep(now)
    # Warnings for grants already inside the expiring window belong to the past: mark them sent,
    # so that webhooks only carry what happens after start-up.
    for request in state.requests.values():
        if flows.expiry_transition(request, now) == "expiring":
            request.expiring_notified = True
    return state


def _rows(text: str) -> list[list[str]]:
    """Records of a ``|`` table; a line starting with ``|`` continues the previous record."""
    rows: list[list[str]] = []
    for line in text.strip().splitlines():
        cells = [c.strip() for c in line.strip().split("|")]
        if line.strip().startswith("|"):
            rows[-1].extend(cells[1:])
        else:
            rows.append(cells)
    return rows


def _people(state: SandboxState, rng: random.Random, epoch: datetime) -> None:
    cast: list[tuple[str, str, dict[str, list[str]]]] = []
    for username, name, *pairs in _rows(seed_data.CAST):
        cast.append((username, name, {k: v.split(",") for k, _, v in (p.partition("=") for p in pairs)}))
    last_names = rng.sample(seed_data.LAST_NAMES.split(), len(seed_data.LAST_NAMES.split()))
    for index, first in enumerate(seed_data.FIRST_NAMES.split()[: USER_COUNT - len(cast)]):
        extra: dict[str, list[str]] = {
            "Department": [rng.choice(seed_data.DEPARTMENTS)],
            "Region": [rng.choice(seed_data.REGIONS)],
        }
        if index % 4 == 0:
            extra["groups"] = [seed_data.EXTRA_GROUPS[index // 4 % len(seed_data.EXTRA_GROUPS)]]
        cast.append((first, f"{first.title()} {last_names[index % len(last_names)]}", extra))

    group_names = sorted({g for *_, keys in cast for g in keys.get("groups", [])})
    state.groups.update(
        (n, Group(n, name, name.lower().replace(" ", "-") + "@example.com"))
        for n, name in enumerate(group_names, 1)
    )
    group_ids = {g.name: g.id for g in state.groups.values()}
    state.domains.update(
        (d.id, d) for d in (Domain(state.ids.uuid(), n, t) for n, t in seed_data.DOMAINS.items())
    )
    domain_ids = {d.name: d.id for d in state.domains.values()}
    for number, (username, name, keys) in enumerate(cast, start=1):
        special = {k: keys.pop(k, []) for k in ("perms", "manages", "groups")}
        # a few addresses in mixed case, as some directories hand them over
        email = (
            f"{username.title()}@Example.com"
            if number > len(FIXTURE_USERS) and number % 9 == 0
            else f"{username}@example.com"
        )
        state.users[username] = User(
            id=number,
            username=username,
            name=name,
            email=email,
            global_user_id=state.ids.uuid(),
            created_at=epoch,
            permissions=frozenset(special["perms"]),
            domain_permissions={domain_ids[d]: frozenset({MANAGE_DATA_PRODUCTS}) for d in special["manages"]},
            attributes=keys,
            group_ids={group_ids[g] for g in special["groups"]},
        )


def _sources(state: SandboxState, epoch: datetime) -> None:
    domain_ids = {d.name: d.id for d in state.domains.values()}
    tags: dict[str, Tag] = {}
    source: DataSource | None = None
    for line in seed_data.SOURCES.strip().splitlines():
        if not line.startswith(" "):
            domain, name, platform, path = (c.strip() for c in line.split("|"))
            database, schema, table = path.split(".")
            source = DataSource(
                source_id=101 + len(state.sources),
                link_id=state.ids.cuid(),
                name=name,
                platform=platform,
                domain_id=domain_ids[domain],
                created_at=epoch,
                hostname=f"{platform.lower()}.example.com",
                database=database,
                schema=schema,
                table=table,
            )
            state.sources[source.source_id] = source
            continue
        assert source is not None
        head, *column_tags = (part.strip() for part in line.split(" #"))
        spec, _, masking = head.partition(" =")
        column_name, data_type = spec.split()
        for tag_name in column_tags:
            if tag_name not in tags:
                origin = "system" if tag_name.startswith("Discovered.") else "curated"
                color = seed_data.TAG_COLORS[len(tags) % len(seed_data.TAG_COLORS)]
                tags[tag_name] = Tag(
                    len(tags) + 1, tag_name, color, epoch, state.users[ADMIN].id, _describe(tag_name), origin
                )
        discovered = [t for t in column_tags if t.startswith("Discovered.")] + column_tags
        matching = discovered[0] if masking and discovered else None
        source.columns.append(Column(column_name, data_type, column_tags, masking or None, matching))
    state.tags.update((t.id, t) for t in tags.values())


def _describe(tag_name: str) -> str:
    root, _, leaf = tag_name.partition(".")
    if root == "Discovered":
        return f"{leaf} found by sensitive data discovery"
    return seed_data.TAG_DESCRIPTIONS[tag_name]


def _archive(state: SandboxState, epoch: datetime) -> None:
    """The S3 source, added last so that its id, drawn from the seeded sequence, moves no other id."""
    domain_name, name, prefix = seed_data.ARCHIVE_SOURCE
    source = DataSource(
        source_id=101 + len(state.sources),
        link_id=state.ids.cuid(),
        name=name,
        platform="S3",
        domain_id=next(d.id for d in state.domains.values() if d.name == domain_name),
        created_at=epoch,
        hostname=None,
        database=None,
        schema=None,
        table=None,
        prefix=prefix,
        columns=[Column("event_id", "STRING"), Column("payload", "STRING")],
    )
    state.sources[source.source_id] = source


def _field(spec: dict[str, Any]) -> FormField:
    if spec["type"] == "ACCESS_DURATION":
        return AccessDurationField(type="ACCESS_DURATION")
    if spec["type"] == "SHORT_ANSWER":
        return ShortAnswerField.model_validate(spec)
    return SelectionField.model_validate(spec)


def _product(state: SandboxState, row: list[str], when: datetime) -> DataProduct:
    name, domain_name, source_names, form_name, expert, _rate, description = row
    domain = next(d for d in state.domains.values() if d.name == domain_name)
    # Published by someone who manages the domain, as the guides require.
    creator = next(
        (u for u in state.users.values() if MANAGE_DATA_PRODUCTS in u.domain_permissions.get(domain.id, ())),
        state.users[ADMIN],
    )
    wanted = [s.strip() for s in source_names.split(",")]
    own = seed_data.PRODUCT_FLOWS.get(name)
    spec = ProductSpec(
        name=name,
        description=description,
        expert_id=state.users[expert].global_user_id if expert != "-" else None,
        domain_ids=[domain.id],
        source_ids=[str(s.source_id) for w in wanted for s in state.sources.values() if s.name == w],
        data_access_form_id=next(f.id for f in state.forms.values() if f.name == form_name),
        data_access_policy=Policy.model_validate(own) if own else None,
        masking_policy=Policy.model_validate(own) if own else None,
    )
    return catalog.create_product(state, creator, spec, now=when)


def _answers(
    state: SandboxState, product: DataProduct, rng: random.Random, kind: RequestType = "DATA_ACCESS"
) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for f in state.current_form(product, kind).fields:
        assert f.id is not None
        if isinstance(f, AccessDurationField):
            answers[f.id] = {"duration": rng.choice((30, 90)), "durationUnit": "DAYS"}
        elif isinstance(f, ShortAnswerField):
            answers[f.id] = rng.choice(seed_data.JUSTIFICATIONS)
        elif f.type == "DROPDOWN":
            answers[f.id] = rng.choice(f.options).value
        else:
            answers[f.id] = sorted(o.value for o in rng.sample(f.options, rng.randint(1, len(f.options))))
    return answers


def _requesters(state: SandboxState, product: DataProduct) -> list[User]:
    """People who might plausibly ask: not stewards or managers of the product, not the fixtures."""
    return [
        u
        for u in state.users.values()
        if u.username not in FIXTURE_USERS
        and not state.stewards(u, product)
        and not state.manages(u, product)
    ]


def _eligible(state: SandboxState, request: AccessRequest, record_id: str) -> list[User]:
    """Who could decide a record (the requester excluded), in a stable order."""
    domain_ids = state.products[request.product_id].domain_ids
    approvers = state.records[record_id].approvers
    return [
        u
        for u in sorted(state.users.values(), key=lambda u: u.username)
        if u is not request.user and flows.criteria_met(approvers, u, domain_ids)
    ]


def _settle(
    state: SandboxState,
    rng: random.Random,
    request: AccessRequest,
    when: datetime,
    approve: bool,
    *,
    steps: int | None = None,
    hours: tuple[float, float] = (2, 60),
) -> datetime:
    """Decide the request's records in stage order, as stewards would over the following days."""
    deny_at = -1 if approve else rng.randrange(len(request.records))
    step = 0
    while request.status == "PENDING" and (steps is None or step < steps):
        record = next(r for r in request.records if r.status == "PENDING")
        eligible = _eligible(state, request, record.id)
        if not eligible:
            break
        when += timedelta(hours=rng.uniform(*hours))
        denying = step == deny_at
        grant = rng.choice(seed_data.TEMPORARY_GRANTS) if not denying and rng.random() < 0.35 else None
        access.decide(
            state,
            rng.choice(eligible),
            record.id,
            status="DENIED" if denying else "APPROVED",
            reason=rng.choice(seed_data.DENIAL_REASONS if denying else seed_data.APPROVAL_REASONS),
            duration=grant[0] if grant else None,
            duration_unit=grant[1] if grant else None,
            now=when,
        )
        step += 1
    return when


def _history(
    state: SandboxState, rng: random.Random, now: datetime, approval_rates: dict[str, float]
) -> None:
    """Six months of settled requests, so risk assessments and recent determinations mean something."""
    for product in list(state.products.values()):
        pool = _requesters(state, product)
        count = min(rng.randint(6, 14), len(pool))
        starts = sorted(now - timedelta(days=rng.uniform(*HISTORY_DAYS)) for _ in range(count))
        for requester, created in zip(rng.sample(pool, count), starts, strict=True):
            answers = _answers(state, product, rng)
            request = access.request_access(
                state, requester, product.id, user_id=requester.global_user_id, form=answers, now=created
            )
            if request.status != "PENDING":
                continue
            if rng.random() < 0.08:
                access.cancel(state, requester, request.id, now=created + timedelta(hours=rng.uniform(1, 20)))
                continue
            decided = _settle(state, rng, request, created, rng.random() < approval_rates[product.id])
            if state.request(request.id).status == "APPROVED" and rng.random() < 0.1:
                manager = next(u for u in state.users.values() if state.manages(u, product))
                access.revoke(
                    state, manager, product.id, request.id, now=decided + timedelta(days=rng.uniform(1, 10))
                )
    for name, columns in ((CUSTOMER_360, ("email", "phone")), ("Payroll Summary", ("salary",))):
        product = state.product_named(name)
        masked = [(str(s), c) for s in product.source_ids for c in columns if state.sources[s].column(c)]
        for requester in rng.sample(_requesters(state, product), 4):
            created = now - timedelta(days=rng.uniform(*HISTORY_DAYS))
            request = access.request_access(
                state,
                requester,
                product.id,
                user_id=requester.global_user_id,
                form=_answers(state, product, rng, "MASKING_EXCEPTION"),
                kind="MASKING_EXCEPTION",
                columns=masked,
                now=created,
            )
            if request.status == "PENDING":
                _settle(state, rng, request, created, rng.random() < 0.5)
    _rick_history(state, now)


def _rick_history(state: SandboxState, now: datetime) -> None:
    """Rick once had temporary access to Support Tickets (since expired) and was denied Accounts Payable."""
    rick = state.users[RICK]
    tickets = state.product_named("Support Tickets")
    created = now - timedelta(days=75)
    request = access.request_access(state, rick, tickets.id, user_id=rick.global_user_id, now=created)
    for step, record in enumerate(list(request.records)):
        if record.status == "PENDING":
            access.decide(
                state,
                _eligible(state, request, record.id)[0],
                record.id,
                status="APPROVED",
                reason="Temporary access for the support review",
                duration=30,
                duration_unit="DAYS",
                now=created + timedelta(hours=4 + step),
            )
    payable = state.product_named("Accounts Payable")
    created = now - timedelta(days=40)
    request = access.request_access(state, rick, payable.id, user_id=rick.global_user_id, now=created)
    record = request.records[0]
    approver = _eligible(state, request, record.id)[0]
    access.decide(
        state,
        approver,
        record.id,
        status="DENIED",
        reason="Requester is outside Finance",
        now=created + timedelta(hours=6),
    )


def _pending(state: SandboxState, rng: random.Random, now: datetime) -> None:
    """Today's queue: fresh requests, some part-way through their review flow."""
    queue = [
        (SALES_PIPELINE, 0),
        (SALES_PIPELINE, 0),
        (CUSTOMER_360, 1),  # Sara has approved; Finance Stewards still to decide
        (FINANCE_LEDGER, 1),  # Finance Stewards approved; GOVERNANCE still to decide
        (FINANCE_LEDGER, 0),
        ("Payroll Summary", 0),
        ("Inventory Levels", 0),
        ("Product Usage", 1),
        ("Tax Filings", 0),
        ("Quarterly Forecast", 0),
    ]
    for name, steps in queue:
        product = state.product_named(name)
        busy = {r.user for r in state.product_requests(product) if r.status in ("PENDING", "APPROVED")}
        requester = rng.choice([u for u in _requesters(state, product) if u not in busy])
        created = now - timedelta(hours=rng.uniform(*PENDING_HOURS))
        answers = _answers(state, product, rng)
        request = access.request_access(
            state, requester, product.id, user_id=requester.global_user_id, form=answers, now=created
        )
        if steps:
            _settle(state, rng, request, created, True, steps=steps, hours=(1, 24))
    customer = state.product_named(CUSTOMER_360)
    requester = rng.choice(_requesters(state, customer))
    access.request_access(
        state,
        requester,
        customer.id,
        user_id=requester.global_user_id,
        form=_answers(state, customer, rng, "MASKING_EXCEPTION"),
        kind="MASKING_EXCEPTION",
        columns=[
            (str(s), c) for s in customer.source_ids for c in ("email", "phone") if state.sources[s].column(c)
        ],
        now=now - timedelta(hours=5),
    )


def _roles(state: SandboxState, user: User) -> str:
    parts = sorted(user.permissions)
    managed = sorted(
        state.domains[d].name for d, p in user.domain_permissions.items() if MANAGE_DATA_PRODUCTS in p
    )
    if managed:
        parts.append("manages " + ", ".join(managed))
    stewarded = sorted(p.name for p in state.products.values() if state.stewards(user, p))
    if stewarded:
        more = f" (+{len(stewarded) - 3})" if len(stewarded) > 3 else ""
        parts.append("steward of " + ", ".join(stewarded[:3]) + more)
    groups = sorted(state.groups[g].name for g in user.group_ids)
    if groups:
        parts.append("in " + ", ".join(groups))
    return "; ".join(parts) or "requester"


def users_table(state: SandboxState) -> str:
    """Who is who in the seeded world, with their bearer tokens, for the console."""
    header = ("username", "name", "roles", "token")
    rows = [
        header,
        *((u.username, u.name, _roles(state, u), TOKEN_PREFIX + u.username) for u in state.users.values()),
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    return "".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() + "\n" for r in rows
    )
