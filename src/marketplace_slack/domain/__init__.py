"""The app's own picture of an access request, independent of the Marketplace wire format.

Wire models (`marketplace.models`) describe what the vendor sends; these types describe what the
workflow reasons about and what a card shows. The functions at the bottom are the pure rules the
workflow applies: which records a steward may decide, whether a request is settled, and how a
decision reads.

Domain and catalog permissions. The guides say a steward chosen by domain permission "must have
that domain-specific permission for the domain that the data product is built off of"; so a DOMAIN
PERMISSION approver naming a domain is met by holding the permission in that domain, and one naming
none by holding it in any domain the product is built on (a product may have several, all count). A
CATALOG PERMISSION approver comes with nothing but its type and the vendor documents no rule for
it; the app treats it as met by a caller who holds any domain ("collection") permission in a domain
the product is built on. Where the vendor's rule differs, the Marketplace still has the last word on
every determination; this rule only decides whom the app lets decide from Slack, and reminds. The
sandbox's `flows.meets` applies these very rules, and one table of cases
(tests/test_approver_rules.py) holds both to them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal


class RequestKind(StrEnum):
    DATA_ACCESS = "DATA_ACCESS"
    MASKING_EXCEPTION = "MASKING_EXCEPTION"


class RequestStatus(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    DENIED = "DENIED"
    CANCELED = "CANCELED"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"
    # The vendor also reports NONE and PUBLISHER, and may add more; a card shows them as-is.
    OTHER = "OTHER"


class RecordStatus(StrEnum):
    PENDING = "PENDING"
    BLOCKED = "BLOCKED"
    APPROVED = "APPROVED"
    DENIED = "DENIED"
    CANCELED = "CANCELED"
    OTHER = "OTHER"


class DurationUnit(StrEnum):
    HOURS = "HOURS"
    DAYS = "DAYS"
    WEEKS = "WEEKS"
    MONTHS = "MONTHS"
    YEARS = "YEARS"


class RiskLevel(StrEnum):
    LOW = "LOW"
    MODERATE = "MODERATE"
    HIGH = "HIGH"
    INDETERMINATE = "INDETERMINATE"
    PENDING = "PENDING"


class Verdict(StrEnum):
    APPROVE = "APPROVE"
    DENY = "DENY"


SETTLED_REQUEST_STATUSES = frozenset(
    {
        RequestStatus.APPROVED,
        RequestStatus.DENIED,
        RequestStatus.CANCELED,
        RequestStatus.REVOKED,
        RequestStatus.EXPIRED,
    }
)


@dataclass(frozen=True, slots=True)
class Duration:
    amount: int
    unit: DurationUnit

    def __post_init__(self) -> None:
        if self.amount < 1:
            raise ValueError("a duration is at least 1")

    def describe(self) -> str:
        word = self.unit.value.lower()
        return f"{self.amount} {word[:-1] if self.amount == 1 else word}"


@dataclass(frozen=True, slots=True)
class Person:
    """A Marketplace user as a card shows them; `slack_user_id` is filled in when found in Slack."""

    marketplace_id: str
    username: str
    name: str
    email: str | None = None
    slack_user_id: str | None = None


@dataclass(frozen=True, slots=True)
class Approver:
    """One source of authority on a record: a user, a group, a permission, an attribute..."""

    kind: str  # USER, GROUP, PERMISSION, DOMAIN PERMISSION, ATTRIBUTE, CATALOG PERMISSION, or newer
    label: str  # what a person reads: a name, a group name, a permission
    ref: str | None = None  # user id, group id or name, permission name, "key=value", domain id


@dataclass(frozen=True, slots=True)
class ApprovalStep:
    """One approval record of a request."""

    id: str
    status: RecordStatus
    approvers: tuple[Approver, ...]
    prerequisites: tuple[str, ...] = ()
    decided_by: Person | None = None
    reason: str | None = None
    duration: Duration | None = None
    updated_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status is RecordStatus.PENDING


@dataclass(frozen=True, slots=True)
class FormAnswer:
    question: str
    answer: str


@dataclass(frozen=True, slots=True)
class MaskedColumn:
    source: str
    column: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RiskAssessment:
    level: RiskLevel | str
    recommendation: str | None = None
    n_allowed: int | None = None
    n_denied: int | None = None
    median_days_to_approve: float | None = None
    explanation: str | None = None
    approval_reasons: tuple[str, ...] = ()
    denial_reasons: tuple[str, ...] = ()
    conflict_detected: bool = False


@dataclass(frozen=True, slots=True)
class RecentDeterminations:
    """The product's recent manual decisions, summarised for one line on the card."""

    approved: int = 0
    denied: int = 0
    last_actor: str | None = None
    last_status: str | None = None
    last_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AccessRequest:
    """Everything a card shows about one request: the Marketplace's truth, already enriched."""

    id: str
    kind: RequestKind
    status: RequestStatus
    raw_status: str
    product_id: str
    product_name: str
    domain_id: str | None
    requester: Person  # the person access is for (`user`)
    requested_by: Person  # who filed it (`requestingUser`); differs when asking for someone else
    created_at: datetime
    expiration: datetime | None
    steps: tuple[ApprovalStep, ...]
    answers: tuple[FormAnswer, ...] = ()
    agreements: tuple[str, ...] = ()  # data use agreements accepted, by name
    columns: tuple[MaskedColumn, ...] = ()
    columns_total: int = 0
    risk: RiskAssessment | None = None
    recent: RecentDeterminations | None = None
    requested_duration: Duration | None = None  # the requester's answer, to preselect the picker
    marketplace_url: str | None = None
    # The Marketplace's updatedAt: which version of the request this is, for reconciliation. Not part
    # of what a card shows (so not in the fingerprint's repr, nor in equality).
    updated_at: datetime | None = field(default=None, repr=False, compare=False)
    # Every domain the product is built on (`domain_id` is the first), for the approver rules; not shown
    # on a card, so not in the fingerprint's repr. Left empty, it is `domain_id` alone.
    domain_ids: tuple[str, ...] = field(default=(), repr=False)
    # Filed by the app's own account for `requester` (`requests.file_as_app`): "filed through Slack".
    # A request's filer never changes, so it stays out of the fingerprint (no re-render on upgrade).
    through_app: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        if not self.domain_ids and self.domain_id:
            object.__setattr__(self, "domain_ids", (self.domain_id,))

    @property
    def is_settled(self) -> bool:
        return self.status in SETTLED_REQUEST_STATUSES or self.status is RequestStatus.OTHER

    @property
    def open_steps(self) -> tuple[ApprovalStep, ...]:
        return tuple(s for s in self.steps if s.is_open)


@dataclass(frozen=True, slots=True)
class InProgress:
    """A decision taken in Slack that has not come back from the Marketplace yet."""

    verdict: Verdict
    actor_slack_id: str


@dataclass(frozen=True, slots=True)
class CardState:
    """What a card is a pure function of."""

    request: AccessRequest
    in_progress: InProgress | None = None
    notice: str | None = None  # a short line the workflow wants shown, e.g. "Marketplace unreachable"
    notify_only: bool = False  # its route decides in the Marketplace: no Approve/Deny on the card


@dataclass(frozen=True, slots=True)
class Actor:
    """A steward as the Marketplace knows them (from `GET /api/auth/user`), for eligibility checks."""

    marketplace_id: str
    username: str
    email: str | None
    groups: frozenset[str] = frozenset()
    permissions: frozenset[str] = frozenset()
    attributes: frozenset[str] = frozenset()  # "key=value"
    domain_permissions: frozenset[str] = frozenset()  # "domainId:permission"


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    reason: str | None = None
    duration: Duration | None = None  # None with APPROVE means indefinite

    def describe(self, actor: str) -> str:
        """The line a card shows, e.g. `Approved by @x for 7 days: reason` or `Denied by @x: reason`."""
        if self.verdict is Verdict.APPROVE:
            text = f"Approved by {actor}" + (f" for {self.duration.describe()}" if self.duration else "")
        else:
            text = f"Denied by {actor}"
        return f"{text}: {self.reason}" if self.reason else text


# --- rules -------------------------------------------------------------------------------------


def approver_matches(approver: Approver, actor: Actor, domain_ids: Sequence[str]) -> bool:
    """Whether `actor` meets one approver criterion on a product built on `domain_ids`.

    Unknown kinds never match: the Marketplace decides. See the module's note on domain and catalog
    permissions; the sandbox's `flows.meets` applies the same rules (one table of cases tests both)."""
    kind, ref = approver.kind, approver.ref
    if kind == "USER":
        return ref is not None and ref in (actor.marketplace_id, actor.username)
    if kind == "GROUP":
        # `GET /api/auth/user` names the caller's groups, so a group approver is matched by its name;
        # its id is tried too, for a Marketplace that would list ids.
        return bool({approver.label, ref or ""} & actor.groups)
    if kind == "PERMISSION":
        return ref is not None and ref in actor.permissions
    if kind == "DOMAIN PERMISSION":
        if not ref:
            return False
        domain, permission = split_domain_permission(ref)
        scope = (domain,) if domain else tuple(domain_ids)
        return any(f"{d}:{permission}" in actor.domain_permissions for d in scope)
    if kind == "CATALOG PERMISSION":
        return any(p.partition(":")[0] in domain_ids for p in actor.domain_permissions)
    if kind == "ATTRIBUTE":
        return ref is not None and ref in actor.attributes
    return False


def split_domain_permission(ref: str) -> tuple[str | None, str]:
    """`"domainId:permission"` (or a bare permission) as (domain id or None, permission).

    Permission names never hold a colon (the spec lists them), so the last colon is the separator."""
    domain, colon, permission = ref.rpartition(":")
    return (domain or None, permission) if colon else (None, ref)


def decidable_steps(request: AccessRequest, actor: Actor) -> tuple[ApprovalStep, ...]:
    """The PENDING records of `request` that `actor` meets the criteria of."""
    return tuple(step for step in request.open_steps if _meets_any(step, actor, request.domain_ids))


def _meets_any(step: ApprovalStep, actor: Actor, domain_ids: Sequence[str]) -> bool:
    return any(approver_matches(a, actor, domain_ids) for a in step.approvers)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a steward cannot decide now (`workflow/sentences.py` says it in one sentence)."""

    code: Literal["settled", "own_request", "blocked", "decided", "not_approver"]
    status: str = ""  # lower-case: the settled request's status, or the status of the steward's step
    by: str | None = None  # the name of whoever decided


@dataclass(frozen=True, slots=True)
class Eligibility:
    steps: tuple[ApprovalStep, ...] = ()
    refusal: Refusal | None = None


def is_party_to(request: AccessRequest, actor: Actor) -> bool:
    """Whether the actor is the person the request is for (`user`) or who filed it (`requestingUser`)."""
    return any(_same_person(person, actor) for person in (request.requester, request.requested_by))


def _same_person(person: Person, actor: Actor) -> bool:
    # The Marketplace's own ids first; a username only where both have one (never "" == "").
    if person.marketplace_id and person.marketplace_id == actor.marketplace_id:
        return True
    return bool(person.username) and person.username == actor.username


def eligibility(request: AccessRequest, actor: Actor, *, allow_self_approval: bool = False) -> Eligibility:
    """Which records the actor may decide now, or the one reason they may not. Nobody decides a request
    they are party to (separation of duties) unless `allow_self_approval`."""
    if request.is_settled:
        decided = next((s.decided_by for s in request.steps if s.decided_by), None)
        return Eligibility(
            refusal=Refusal("settled", request.raw_status.lower(), decided.name if decided else None)
        )
    if not allow_self_approval and is_party_to(request, actor):
        return Eligibility(refusal=Refusal("own_request"))
    mine = decidable_steps(request, actor)
    if mine:
        return Eligibility(steps=mine)
    mine_blocked = [
        s
        for s in request.steps
        if s.status is RecordStatus.BLOCKED and _meets_any(s, actor, request.domain_ids)
    ]
    if mine_blocked:
        return Eligibility(refusal=Refusal("blocked"))
    mine_decided = [
        s for s in request.steps if s.decided_by is not None and _meets_any(s, actor, request.domain_ids)
    ]
    if mine_decided:
        step = mine_decided[0]
        assert step.decided_by is not None
        return Eligibility(refusal=Refusal("decided", step.status.value.lower(), step.decided_by.name))
    return Eligibility(refusal=Refusal("not_approver"))


def describe_step_outcome(step: ApprovalStep, actor_label: str) -> str | None:
    """The line a card and a thread show for a decided step, or None while it is open."""
    if step.status is RecordStatus.APPROVED:
        return Decision(Verdict.APPROVE, step.reason, step.duration).describe(actor_label)
    if step.status is RecordStatus.DENIED:
        return Decision(Verdict.DENY, step.reason).describe(actor_label)
    return None


# --- review flow shape ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReviewStage:
    """Records of a request decided side by side: one for an "any steward" stage, one per approver
    source for an "all stewards" stage (each must approve). A later stage's records are BLOCKED on the
    records of the stages before it (`prerequisites`) and open once those are approved."""

    number: int  # 1 for the first stage
    steps: tuple[ApprovalStep, ...]
    after: tuple[int, ...] = ()  # the stages its records wait on, where the prerequisites are known

    @property
    def is_parallel(self) -> bool:
        """Several records at once: every one of them must be approved ("all stewards")."""
        return len(self.steps) > 1

    @property
    def approved(self) -> int:
        return sum(1 for s in self.steps if s.status is RecordStatus.APPROVED)


STAGE_PASSES_MAX = 20


def review_stages(steps: tuple[ApprovalStep, ...]) -> tuple[ReviewStage, ...]:
    """The request's records grouped into stages, in the order they are decided.

    The Marketplace only says which records each record waits on, so a record's stage is how deep it
    sits in that chain: none means the first stage, otherwise one past the latest it waits on. A
    prerequisite the request does not list still counts as one stage of waiting.
    """
    ids = {s.id for s in steps}
    # Longest chain of waiting, relaxed pass by pass: a chain of k stages settles in k passes. The cap
    # keeps a loop in the data (or an absurdly long chain) from costing more than it is worth.
    depths = {s.id: 0 if not s.prerequisites else 1 for s in steps}
    for _ in range(min(len(steps), STAGE_PASSES_MAX)):
        changed = False
        for step in steps:
            known = [depths[p] for p in step.prerequisites if p in ids and p != step.id]
            d = 1 + max(known, default=0) if step.prerequisites else 0
            if d > depths[step.id]:
                depths[step.id], changed = d, True
        if not changed:
            break
    levels = sorted({depths[s.id] for s in steps})
    number_of = {level: n for n, level in enumerate(levels, start=1)}
    stage_of = {s.id: number_of[depths[s.id]] for s in steps}
    stages = []
    for level in levels:
        members = tuple(s for s in steps if depths[s.id] == level)
        n = number_of[level]
        after = sorted(
            {stage_of[p] for s in members for p in s.prerequisites if p in stage_of and stage_of[p] < n}
        )
        stages.append(ReviewStage(n, members, tuple(after)))
    return tuple(stages)


def stage_position(steps: tuple[ApprovalStep, ...], step_id: str) -> tuple[int | None, int]:
    """Which stage of how many the record `step_id` belongs to: what "stage 2 of 3" says."""
    stages = review_stages(steps)
    number = next((st.number for st in stages if any(s.id == step_id for s in st.steps)), None)
    return number, len(stages)
