"""What a consumer's request is made of on its way through Slack: where a modal starts, the answers
submitted, who files them, and the small rules between (the standing a modal says instead of a form,
the link form's way back into a request)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import SecretStr

from marketplace_slack.domain import RequestKind, RequestStatus
from marketplace_slack.domain.forms import Answer, ExistingAccess, ProductChoice, RequestForm, carry_over
from marketplace_slack.store.records import LinkedAccount
from marketplace_slack.workflow import sentences
from marketplace_slack.workflow.sentences import Sentence


@dataclass(frozen=True, slots=True)
class Started:
    """Where a request modal starts: a name typed on the command, or a product (a button, request again)."""

    query: str = ""
    product_id: str | None = None
    kind: RequestKind = RequestKind.DATA_ACCESS
    answers: Mapping[str, Answer] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)  # of the questions `answers` answered


@dataclass(frozen=True, slots=True)
class Answers:
    """A submitted request modal, as the listener parsed it (local checks passed)."""

    answers: Mapping[str, Answer]
    columns: tuple[tuple[str, str], ...] = ()
    agreements: tuple[str, ...] = ()
    for_user: str | None = None  # a Slack user id


@dataclass(frozen=True, slots=True)
class Filer:
    """Who files, and for whom: the consumer with their own link, or (`requests.file_as_app`) the
    app's own account for a consumer who has not linked, found in the Marketplace by Slack email."""

    team_id: str
    slack_user_id: str
    marketplace_user_id: str  # the consumer's
    token: SecretStr | None  # None: the app's own account
    link: LinkedAccount | None = None

    @property
    def through_app(self) -> bool:
        return self.token is None


def resume_of(raw: Mapping[str, object]) -> Started | None:
    """The request a link form was shown for, to open again once linked; None for a plain link form."""
    if raw.get("resume") != "request":
        return None
    query, product, kind = raw.get("q"), raw.get("p"), raw.get("k")
    return Started(
        query=query if isinstance(query, str) else "",
        product_id=product if isinstance(product, str) and product else None,
        kind=kind_of(kind if isinstance(kind, str) else None),
    )


def carry(
    form: RequestForm | None, previous: Mapping[str, Answer], labels: Mapping[str, str]
) -> tuple[dict[str, Answer], tuple[str, ...]]:
    if form is None or not previous:
        return {}, ()
    return carry_over(form, previous, labels)


def renewable(existing: ExistingAccess, now: datetime) -> bool:
    return (
        existing.status is RequestStatus.APPROVED
        and existing.expires_at is not None
        and existing.expires_at > now
    )


def standing_of(product: ProductChoice, existing: ExistingAccess) -> Sentence:
    if existing.status is RequestStatus.APPROVED:
        return sentences.already_have_access(product.name, existing.expires_at)
    return sentences.already_requested(product.name)


def kind_of(value: str | None) -> RequestKind:
    return (
        RequestKind.MASKING_EXCEPTION
        if value == RequestKind.MASKING_EXCEPTION.value
        else RequestKind.DATA_ACCESS
    )
