"""The Marketplace as a consumer sees it: products to pick, their request forms, filing and cancelling.

Every call here runs with the consumer's own token (`with_token`), so the Marketplace applies its
own rules to the true requester and records them; a token of None is the app's own account (a
deployment with `requests.file_as_app`, for consumers who have not linked). Wire forms become
`domain.forms` types here; a question of a type the app does not know becomes `unsupported`, never a
guess.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

import structlog
from pydantic import SecretStr

from marketplace_slack.domain import AccessRequest, Duration, DurationUnit, RequestKind, RequestStatus
from marketplace_slack.domain.forms import (
    Agreement,
    Answer,
    ExistingAccess,
    MaskedColumnChoice,
    ProductChoice,
    Question,
    QuestionType,
    RequestForm,
    Submission,
    wire_answers,
)
from marketplace_slack.marketplace import models as wire
from marketplace_slack.marketplace.client import MarketplaceClient
from marketplace_slack.marketplace.errors import MarketplaceError
from marketplace_slack.marketplace.gateway import MarketplaceGateway
from marketplace_slack.marketplace.mapping import approver_of, risk_of, step_of, summary_of

log = structlog.get_logger(__name__)

_DOMAINS_KEPT = 256
PICKER_LIMIT = 100  # Slack's most options in one external_select answer
COLUMNS_LIMIT = 500  # masked columns read for one modal (the count says when a product has more)
HOME_LIMIT = 50  # requests of each list an App Home reads
DETAILED = 20  # of those, how many are shown with their stages (and risk, for reviews): a call or two each


class ConsumerGateway:
    def __init__(self, client: MarketplaceClient, gateway: MarketplaceGateway) -> None:
        self._client = client
        self._gateway = gateway
        self._domains: dict[str, str] = {}

    async def search_products(self, token: SecretStr | None, query: str) -> list[ProductChoice]:
        """Products whose name holds `query` (all when empty), as the consumer may see them."""
        page = await self._as(token).search_data_products(
            name_filter=query.strip() or None, limit=PICKER_LIMIT
        )
        return [self._choice(p) for p in page.data if not p.suspended]

    async def find_product(self, token: SecretStr | None, name: str) -> ProductChoice | None:
        """The product `name` names: an exact name (case aside), else the only one whose name holds it."""
        found = await self.search_products(token, name)
        exact = [p for p in found if p.name.casefold() == name.strip().casefold()]
        if len(exact) == 1:
            return exact[0]
        return found[0] if len(found) == 1 else None

    async def product(self, token: SecretStr | None, product_id: str) -> tuple[ProductChoice, ExistingAccess]:
        """The product (its domain by name), and where the consumer stands with it (their latest
        request's status)."""
        client = self._as(token)
        raw = await client.get_data_product_by_id(product_id)
        status = _status(raw.status)
        choice = self._choice(raw)
        if choice.domain:
            choice = replace(choice, domain=await self._domain_name(client, choice.domain))
        return choice, ExistingAccess(status=status, request_id=raw.request_id, expires_at=raw.expiration)

    async def form(self, token: SecretStr | None, product_id: str, kind: RequestKind) -> RequestForm | None:
        """The product's request form for `kind`; None when it has none."""
        forms = await self._as(token).get_request_forms(product_id)
        typed = [f for f in forms if f.request_type is not None and str(f.request_type) == kind.value]
        if not typed and kind is RequestKind.DATA_ACCESS:
            typed = [f for f in forms if f.request_type is None][:1]  # the reference example omits the type
        return form_of(typed[0], kind) if typed else None

    async def masked_columns(
        self, token: SecretStr | None, product_id: str
    ) -> tuple[tuple[MaskedColumnChoice, ...], int]:
        """The product's masked columns (at most COLUMNS_LIMIT) and how many it has in all."""
        client = self._as(token)
        columns: list[MaskedColumnChoice] = []
        total, offset = 0, 0
        while len(columns) < COLUMNS_LIMIT:
            page = await client.search_data_product_columns(
                product_id, offset=offset, limit=100, masked_only=True
            )
            total = page.meta.total_count
            columns += [MaskedColumnChoice(c.source_id, c.source_name, c.name) for c in page.data]
            offset += len(page.data)
            if not page.data or offset >= total:
                break
        return tuple(columns[:COLUMNS_LIMIT]), max(total, len(columns))

    async def product_card(self, product_id: str) -> ProductChoice:
        """A product as an unfurl shows it, read with the app's own account (whoever pasted the link
        may not be linked): its name, description, domain and who reviews its data access requests."""
        async with asyncio.TaskGroup() as group:
            product_task = group.create_task(self._client.get_data_product_by_id(product_id))
            forms_task = group.create_task(self._client.get_request_forms(product_id))
        raw, forms = product_task.result(), forms_task.result()
        access = next((f for f in forms if str(f.request_type or "DATA_ACCESS") == "DATA_ACCESS"), None)
        policy = access.policy if access is not None else None
        if policy is not None and isinstance(policy.default_event, wire.DataProductPolicyEvent):
            policy = raw.data_access_policy
        domain = raw.domains[0] if raw.domains else None
        if domain:
            domain = await self._domain_name(self._client, domain)
        choice = self._choice(raw)
        return ProductChoice(
            id=choice.id,
            name=choice.name,
            description=choice.description,
            domain=domain,
            url=choice.url,
            request_url=choice.request_url,
            stewards=reviewers(policy),
        )

    async def me(self, token: SecretStr | None) -> str:
        """The consumer's global user id (`user` of the requests they file for themselves)."""
        return (await self._as(token).get_current_user()).global_user_id

    async def file(self, token: SecretStr | None, submission: Submission, *, user: str) -> str:
        """File the request as the token's owner, for `user` (a global user id); its id.

        Never retried once sent (the client does not retry a create): an ambiguous outcome is for the
        caller to look into, with `find_filed`."""
        client = self._as(token)
        answers = wire_answers(submission.answers) or None
        if submission.kind is RequestKind.MASKING_EXCEPTION:
            columns = [wire.ColumnRef(column_name=c, source_id=s) for s, c in submission.columns]
            body = wire.CreateMaskingExceptionRequest(user=user, form=answers, columns=columns)
            return (await client.request_masking_exception(submission.product_id, body)).id
        created = await client.request_access(
            submission.product_id, wire.CreateAccessRequest(user=user, form=answers)
        )
        return created.id

    async def find_filed(
        self, token: SecretStr | None, product_id: str, kind: RequestKind, *, user: str, since: datetime
    ) -> str | None:
        """The request `user` has on the product of `kind`, created at or after `since`: after a lost
        answer to `file`, whether it was filed after all."""
        client = self._as(token)
        page = await client.search_data_product_access_requests(product_id, limit=20, historical=True)
        for raw in page.data:
            if raw.user.global_user_id == user and str(raw.type) == kind.value and raw.created_at >= since:
                return raw.id
        return None

    async def user_by_email(self, token: SecretStr | None, email: str) -> str | None:
        """The global user id of the Marketplace user with `email` (ASCII case aside), if exactly one."""
        found = await self._as(token).get_immuta_users(filter=email, limit=20)
        wanted = email.strip().lower()
        matches = {u.global_user_id for u in found.users if (u.email or "").strip().lower() == wanted}
        return matches.pop() if len(matches) == 1 else None

    def request_page(self, product_id: str, kind: RequestKind) -> str:
        return self._gateway.request_url(product_id, kind)

    async def earlier_answers(
        self, token: SecretStr | None, request_id: str
    ) -> tuple[str, RequestKind, dict[str, Answer], dict[str, str]]:
        """An earlier request's product, kind, answers (by question id) and the labels of the questions
        it answered (from its form version), for "request again"."""
        client = self._as(token)
        raw = await client.get_access_request_by_id(request_id)
        product_id = raw.data_product.id if raw.data_product else (raw.asset.id if raw.asset else "")
        masking = str(raw.type) == RequestKind.MASKING_EXCEPTION.value
        kind = RequestKind.MASKING_EXCEPTION if masking else RequestKind.DATA_ACCESS
        labels: dict[str, str] = {}
        with contextlib.suppress(MarketplaceError):  # without labels, a dropped answer is still said
            old = await client.get_request_form_by_version(raw.form_version)
            labels = {f.id: f.label for f in old.fields if f.id and f.label}
        return product_id, kind, answers_of(raw.form), labels

    async def cancel(self, token: SecretStr | None, request_id: str) -> None:
        await self._as(token).cancel_access_request(request_id)

    async def request(self, token: SecretStr | None, request_id: str) -> AccessRequest:
        """One request as the consumer may see it, without enrichment."""
        return summary_of(await self._as(token).get_access_request_by_id(request_id))

    async def mine(self, token: SecretStr | None) -> tuple[list[AccessRequest], list[AccessRequest]]:
        """(requests awaiting the consumer's review, oldest first; their own requests, newest first)."""
        client = self._as(token)
        async with asyncio.TaskGroup() as group:
            waiting = group.create_task(
                client.search_access_requests(
                    limit=HOME_LIMIT,
                    review_status=["awaitingReviewFromYou"],
                    sort_by=wire.AccessRequestSortBy.CREATED_AT,
                    sort_order=wire.SortOrder.ASC,
                )
            )
            own = group.create_task(
                client.search_access_requests(
                    limit=HOME_LIMIT,
                    role=["requestor"],
                    historical=True,
                    sort_by=wire.AccessRequestSortBy.UPDATED_AT,
                    sort_order=wire.SortOrder.DESC,
                )
            )
        own_requests = [summary_of(r) for r in own.result().data]
        pending = [r for r in own_requests if r.status is RequestStatus.PENDING][:DETAILED]
        reviews = [summary_of(r) for r in waiting.result().data]
        detailed = {
            r.id: r
            for r in await asyncio.gather(
                *(self._detail(client, r, risk=True) for r in reviews[:DETAILED]),
                *(self._detail(client, r, risk=False) for r in pending),
            )
        }
        return [detailed.get(r.id, r) for r in reviews], [detailed.get(r.id, r) for r in own_requests]

    @staticmethod
    async def _detail(client: MarketplaceClient, request: AccessRequest, *, risk: bool) -> AccessRequest:
        """`request` with its stages (who is waiting) and, for a reviewer, its risk; as it was when
        either cannot be read (a list that shows less beats no list)."""
        try:
            records = await client.get_access_request_records(request.id)
            assessed = await client.get_risk_assessment(request.id) if risk else None
        except MarketplaceError as exc:
            log.info("home_detail_unread", error=type(exc).__name__)
            return request
        return replace(
            request,
            steps=tuple(step_of(r) for r in records.approval_records),
            risk=risk_of(assessed) if assessed is not None else None,
        )

    async def _domain_name(self, client: MarketplaceClient, domain_id: str) -> str:
        """A domain's name (cached: domains are renamed rarely), else its id."""
        if domain_id not in self._domains:
            try:
                self._domains[domain_id] = (await client.get_domain(domain_id)).name
            except MarketplaceError:
                return domain_id  # the id is still better than nothing; asked again next time
            if len(self._domains) > _DOMAINS_KEPT:
                self._domains.pop(next(iter(self._domains)))
        return self._domains[domain_id]

    def _as(self, token: SecretStr | None) -> MarketplaceClient:
        """The client acting as the token's owner; None: as the app's own account."""
        return self._client if token is None else self._client.with_token(token)

    def _choice(self, raw: wire.DataProduct) -> ProductChoice:
        return ProductChoice(
            id=raw.id,
            name=raw.name,
            description=raw.description,
            domain=raw.domains[0] if raw.domains else None,
            url=self._gateway.product_url(raw.id),
            request_url=self._gateway.request_url(raw.id, RequestKind.DATA_ACCESS),
        )


def form_of(raw: wire.RequestForm, kind: RequestKind) -> RequestForm:
    questions: list[Question] = []
    unsupported: list[str] = []
    for field in raw.fields:
        if isinstance(field, wire.SelectionFormField):
            options = tuple(o.value for o in field.options)
            questions.append(
                Question(field.id, QuestionType(str(field.type)), field.label, field.required, options)
            )
        elif isinstance(field, wire.ShortAnswerFormField):
            questions.append(Question(field.id, QuestionType.SHORT_ANSWER, field.label, field.required))
        elif isinstance(field, wire.AccessDurationFormField):
            questions.append(Question(field.id, QuestionType.ACCESS_DURATION, field.label, field.required))
        else:
            unsupported.append(getattr(field, "label", None) or str(getattr(field, "type", "?")))
    return RequestForm(
        form_id=raw.id,
        version=raw.version,
        name=raw.name,
        kind=kind,
        questions=tuple(questions),
        agreements=tuple(Agreement(a.id, a.name, a.body) for a in raw.data_use_agreements),
        unsupported=tuple(unsupported),
    )


def answers_of(form: object) -> dict[str, Answer]:
    """A request's `form` (answers keyed by question id) as domain answers; what is not one is left out."""
    if not isinstance(form, dict):
        return {}
    answers: dict[str, Answer] = {}
    for key, value in form.items():
        if isinstance(value, str):
            answers[str(key)] = value
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            answers[str(key)] = tuple(value)
        elif isinstance(value, dict):
            amount, unit = value.get("duration"), value.get("durationUnit")
            if (
                isinstance(amount, int)
                and amount >= 1
                and isinstance(unit, str)
                and unit in DurationUnit.__members__
            ):
                answers[str(key)] = Duration(amount, DurationUnit(unit))
    return answers


def reviewers(policy: wire.Policy | None) -> tuple[str, ...]:
    """Who a policy's default flow sends requests to, as labels (unique, in order)."""
    if policy is None or not isinstance(policy.default_event, wire.ReviewEvent):
        return ()
    labels: list[str] = []
    for stage in policy.default_event.params.stages:
        for approver in (stage.all_of or []) + (stage.any_of or []):
            label = approver_of(approver).label
            if label not in labels:
                labels.append(label)
    return tuple(labels)


def _status(value: object) -> RequestStatus | None:
    try:
        return RequestStatus(str(value))
    except ValueError:
        return None  # NONE, PUBLISHER, or absent: no request of theirs


__all__: Sequence[str] = ("ConsumerGateway", "form_of")
