"""Requesting access: a product's request form as a consumer answers it, and the pure rules of answers.

The Marketplace sends a form as questions of four types (DROPDOWN, CHECKBOXES, SHORT_ANSWER,
ACCESS_DURATION) and data use agreements; the gateway turns them into these types, the Slack renderer
turns these into a modal, and `wire_answers` turns the consumer's answers back into the `form` object
the Marketplace expects, keyed by question id. A question of a type newer than these is kept as
`unsupported`: the modal says so and links to the Marketplace's own request page, rather than filing
a request the tenant would refuse.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from marketplace_slack.domain import Duration, DurationUnit, RequestKind, RequestStatus

# The Marketplace's own bound on a short answer is not documented; Slack's plain_text_input stops at 3000.
SHORT_ANSWER_MAX = 3000
DURATION_AMOUNT_MAX = 9999  # a typo guard for "how many", not a policy: the policy's maximum is its own


class QuestionType(StrEnum):
    DROPDOWN = "DROPDOWN"
    CHECKBOXES = "CHECKBOXES"
    SHORT_ANSWER = "SHORT_ANSWER"
    ACCESS_DURATION = "ACCESS_DURATION"


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    type: QuestionType
    label: str
    required: bool = True
    options: tuple[str, ...] = ()  # DROPDOWN and CHECKBOXES: the values, as the form lists them
    maximum: Duration | None = None  # ACCESS_DURATION: the longest the policy grants, when it says


@dataclass(frozen=True, slots=True)
class Agreement:
    """A data use agreement the consumer must accept: its full text, as the form carries it."""

    id: str
    name: str
    body: str


@dataclass(frozen=True, slots=True)
class RequestForm:
    """The form a product asks for one kind of request, at one version."""

    form_id: str
    version: str
    name: str
    kind: RequestKind
    questions: tuple[Question, ...]
    agreements: tuple[Agreement, ...] = ()
    unsupported: tuple[str, ...] = ()  # labels (or types) of questions the app cannot ask

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)


@dataclass(frozen=True, slots=True)
class ProductChoice:
    """A data product as the picker and the request modal show it."""

    id: str
    name: str
    description: str | None = None
    domain: str | None = None
    url: str | None = None  # its page in the Marketplace
    request_url: str | None = None  # its request page, where a form too large for Slack is answered
    stewards: tuple[str, ...] = ()  # who reviews its data access requests, as people read them


@dataclass(frozen=True, slots=True)
class MaskedColumnChoice:
    """A masked column of the product that a masking exception can lift."""

    source_id: str
    source_name: str
    column: str

    @property
    def key(self) -> str:
        return f"{self.source_id}/{self.column}"


Answer = str | tuple[str, ...] | Duration


@dataclass(frozen=True, slots=True)
class RequestDraft:
    """Everything a request modal shows: the product, the kind, its form, and what is answered so far."""

    product: ProductChoice | None  # None: none picked yet (the modal shows the picker alone)
    kind: RequestKind
    form: RequestForm | None  # None: the product has no form of this kind (it cannot be requested)
    answers: Mapping[str, Answer] = field(default_factory=dict)
    columns: tuple[MaskedColumnChoice, ...] = ()  # masking exception: what can be picked
    columns_total: int = 0  # how many masked columns the product has (more than `columns` when cut)
    picked_columns: tuple[str, ...] = ()  # MaskedColumnChoice.key values
    dropped: tuple[str, ...] = ()  # labels of earlier answers whose questions are gone (request again)
    notice: str | None = None  # one plain sentence above the form ("no single product is named …")
    standing: str | None = None  # instead of a form: they already asked, or already have access
    renewable: bool = False  # with `standing`: access that ends, so "remind me when it ends" is offered


@dataclass(frozen=True, slots=True)
class Submission:
    """A request as the consumer submits it, checked locally, ready to be filed."""

    product_id: str
    kind: RequestKind
    form_version: str
    answers: Mapping[str, Answer]
    columns: tuple[tuple[str, str], ...] = ()  # (source id, column name)
    agreements: tuple[str, ...] = ()  # ids of the agreements accepted
    for_user: str | None = None  # a Slack user id, when requesting for someone else


@dataclass(frozen=True, slots=True)
class ExistingAccess:
    """Where a consumer stands with a product: their latest request's status (None: no request)."""

    status: RequestStatus | None = None
    request_id: str | None = None
    expires_at: datetime | None = None

    @property
    def blocks_new_request(self) -> bool:
        """A pending request, or access they hold: a second request would only be refused (409)."""
        return self.status in (RequestStatus.PENDING, RequestStatus.APPROVED)


class AnswerProblem(StrEnum):
    """Why an answer is refused before anything is sent; the catalogue words each one."""

    REQUIRED = "required"
    NOT_AN_OPTION = "not_an_option"
    TOO_LONG = "too_long"
    NOT_A_NUMBER = "not_a_number"
    LONGER_THAN_ALLOWED = "longer_than_allowed"
    AGREEMENT_NEEDED = "agreement_needed"
    COLUMNS_NEEDED = "columns_needed"


def problems(form: RequestForm, answers: Mapping[str, Answer]) -> dict[str, AnswerProblem]:
    """Each question (by id) whose answer the Marketplace would refuse; empty when all are fine."""
    found: dict[str, AnswerProblem] = {}
    for question in form.questions:
        problem = _problem(question, answers.get(question.id))
        if problem is not None:
            found[question.id] = problem
    return found


def _problem(question: Question, answer: Answer | None) -> AnswerProblem | None:
    if answer is None or answer in ("", ()):
        return AnswerProblem.REQUIRED if question.required else None
    if question.type is QuestionType.DROPDOWN:
        return None if isinstance(answer, str) and answer in question.options else AnswerProblem.NOT_AN_OPTION
    if question.type is QuestionType.CHECKBOXES:
        ok = isinstance(answer, tuple) and set(answer) <= set(question.options)
        return None if ok else AnswerProblem.NOT_AN_OPTION
    if question.type is QuestionType.SHORT_ANSWER:
        if not isinstance(answer, str):
            return AnswerProblem.NOT_AN_OPTION
        return AnswerProblem.TOO_LONG if len(answer) > SHORT_ANSWER_MAX else None
    if not isinstance(answer, Duration):
        return AnswerProblem.NOT_A_NUMBER
    if question.maximum is not None and hours(answer) > hours(question.maximum):
        return AnswerProblem.LONGER_THAN_ALLOWED
    return None


_HOURS = {
    DurationUnit.HOURS: 1,
    DurationUnit.DAYS: 24,
    DurationUnit.WEEKS: 24 * 7,
    DurationUnit.MONTHS: 24 * 30,
    DurationUnit.YEARS: 24 * 365,
}


def hours(duration: Duration) -> int:
    """A duration in hours, months as 30 days and years as 365: only to compare against a maximum."""
    return duration.amount * _HOURS[duration.unit]


def wire_answers(answers: Mapping[str, Answer]) -> dict[str, object]:
    """The `form` object the Marketplace takes: every answered question, keyed by its id (a duration as
    `{"duration": n, "durationUnit": u}`, several choices as a list)."""
    wire: dict[str, object] = {}
    for question_id, answer in answers.items():
        if answer is None or answer in ("", ()):
            continue
        if isinstance(answer, Duration):
            wire[question_id] = {"duration": answer.amount, "durationUnit": answer.unit.value}
        elif isinstance(answer, tuple):
            wire[question_id] = list(answer)
        else:
            wire[question_id] = answer
    return wire


def carry_over(
    form: RequestForm, previous: Mapping[str, Answer], labels: Mapping[str, str] | None = None
) -> tuple[dict[str, Answer], tuple[str, ...]]:
    """Earlier answers (request again) on the current form: those still valid, and the dropped ones.

    An answer is kept when its question is still there, of the same type, and the answer still fits
    (an option that is gone drops the answer); `dropped` names what was let go, for the modal to say."""
    kept: dict[str, Answer] = {}
    dropped: list[str] = []
    for question_id, answer in previous.items():
        question = form.question(question_id)
        if question is None:
            dropped.append((labels or {}).get(question_id) or "an earlier question")
            continue
        if _problem(question, answer) in (None, AnswerProblem.REQUIRED):
            kept[question_id] = answer
        else:
            dropped.append(question.label)
    return kept, tuple(dropped)
