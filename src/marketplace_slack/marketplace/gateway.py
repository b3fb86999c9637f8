"""The Marketplace as the workflow sees it: loads a request with everything its card needs, as domain
objects, and sends determinations with a steward's own token.

Loading runs the independent calls concurrently, in one task group: a call that fails cancels the
others, and raises as itself. The longest chain is two calls deep (the request, then what needs its
product id or form version); form versions never change, so they are cached.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

import structlog
from pydantic import SecretStr

from marketplace_slack.domain import (
    AccessRequest,
    Actor,
    ApprovalStep,
    Approver,
    Decision,
    Duration,
    DurationUnit,
    FormAnswer,
    MaskedColumn,
    Person,
    RecentDeterminations,
    RecordStatus,
    RequestKind,
    RequestStatus,
    RiskAssessment,
    Verdict,
)
from marketplace_slack.marketplace import models as wire
from marketplace_slack.marketplace.client import MarketplaceClient
from marketplace_slack.marketplace.errors import MarketplaceError, NotFoundError

log = structlog.get_logger(__name__)

# Emails → Slack user ids (keys casefolded); the workflow supplies it, the gateway knows no Slack.
PeopleFinder = Callable[[list[str]], Awaitable[Mapping[str, str | None]]]

MAX_COLUMNS = 100  # a card shows far fewer; `columns_total` carries the true count
_FORM_CACHE_SIZE = 512
CHANGES_PAGE = 100  # requests per page of the change listing: a quiet pass reads one page


class MarketplaceGateway:
    def __init__(
        self,
        client: MarketplaceClient,
        *,
        app_url: str,
        account_id: str | None = None,
        files_as_app: bool = False,
    ) -> None:
        self._client = client
        self._app_url = app_url.rstrip("/")
        self._account_id = account_id
        self._forms: dict[str, wire.RequestForm | None] = {}
        # With `requests.file_as_app`, a request the app's own account filed for someone is one filed
        # through Slack, and its card says so; the account's id is read once, when first needed.
        self._files_as_app = files_as_app
        self._own_id: str | None = None

    async def load(
        self, request_id: str, *, enrich: bool = True, find_people: PeopleFinder | None = None
    ) -> AccessRequest:
        """The request and its approval records; with `enrich`, also risk, form, columns, history.

        `find_people` (emails → Slack user ids) runs alongside the enrichment calls, so finding the
        people in Slack adds nothing to the time a card takes.

        The product (for its domains) is enrichment too, except where a record names a DOMAIN
        PERMISSION without a domain or a CATALOG PERMISSION: who may decide then depends on the
        product's domains, so the product is read even unenriched, and a failure to read it fails
        the load rather than make a domain steward "no approver"."""
        try:
            async with asyncio.TaskGroup() as group:
                request_task = group.create_task(self._client.get_access_request_by_id(request_id))
                records_task = group.create_task(self._client.get_access_request_records(request_id))
                risk_task = (
                    group.create_task(self._optional(self._client.get_risk_assessment(request_id)))
                    if enrich
                    else None
                )
                raw = await request_task
                kind = _kind(raw.type)
                product_id = raw.data_product.id if raw.data_product else (raw.asset.id if raw.asset else "")
                columns_task = None
                form_task = recent_task = product_task = None
                if enrich:
                    if kind is RequestKind.MASKING_EXCEPTION:
                        columns_task = group.create_task(
                            self._optional(
                                self._client.search_access_request_masking_exception_columns(
                                    request_id, limit=MAX_COLUMNS
                                )
                            )
                        )
                    form_task = group.create_task(self._form(raw.form_version))
                    if product_id:
                        # the product's recent decisions on requests of this kind, not of the other
                        recent_task = group.create_task(
                            self._optional(
                                self._client.recent_determinations(
                                    product_id, type=wire.RequestType(kind.value)
                                )
                            )
                        )
                        product_task = group.create_task(
                            _attempt(self._client.get_data_product_by_id(product_id))
                        )
                records = await records_task
                needs_domains = _needs_domains(records.approval_records)
                if product_task is None and product_id and needs_domains:
                    # Who may decide depends on the product's domains: worth the call, even unenriched.
                    product_task = group.create_task(
                        _attempt(self._client.get_data_product_by_id(product_id))
                    )
                users = [
                    raw.user,
                    raw.requesting_user,
                    *(r.action_by for r in records.approval_records if r.action_by),
                ]
                people_task = (
                    group.create_task(_find(find_people, [u.email for u in users if u.email]))
                    if find_people
                    else None
                )
                risk = await risk_task if risk_task else None
                columns_page = await columns_task if columns_task else None
                form = await form_task if form_task else None
                recent = await recent_task if recent_task else None
                product, product_error = await product_task if product_task else (None, None)
                slack_ids = dict(await people_task) if people_task else {}
        except BaseExceptionGroup as failures:
            # The group has cancelled the other calls; callers see the one error tree, not a group.
            error = _first_error(failures)
            raise error from error.__cause__
        if product_error is not None:
            # Without the domains a domain steward would be told they are no approver: say that the
            # Marketplace could not be read instead (a product that is gone has no domains to offer).
            if needs_domains and not isinstance(product_error, NotFoundError):
                raise product_error
            log.warning("enrichment_failed", error=type(product_error).__name__)

        def person(user: wire.ImmutaUser) -> Person:
            return _person(user, slack_ids.get(user.email.casefold()) if user.email else None)

        answers, requested_duration = _answers(raw.form, form)
        columns = tuple(
            MaskedColumn(source=c.source_name, column=c.name, tags=tuple(c.tags))
            for c in (columns_page.data if columns_page else [])
        )
        product_name = (
            raw.data_product.name if raw.data_product else (raw.asset.name if raw.asset else product_id)
        )
        return AccessRequest(
            id=raw.id,
            kind=kind,
            status=_request_status(raw.status),
            raw_status=str(raw.status),
            product_id=product_id,
            product_name=product_name,
            domain_id=product.domains[0] if product and product.domains else None,
            domain_ids=tuple(dict.fromkeys(product.domains)) if product else (),
            requester=person(raw.user),
            requested_by=person(raw.requesting_user),
            through_app=await self._through_app(raw),
            created_at=raw.created_at,
            expiration=raw.expiration,
            steps=tuple(step_of(r, person) for r in records.approval_records),
            answers=answers,
            agreements=tuple(d.name for d in form.data_use_agreements) if form else (),
            columns=columns,
            columns_total=columns_page.meta.total_count if columns_page else 0,
            risk=risk_of(risk) if risk else None,
            recent=_recent(recent) if recent else None,
            requested_duration=requested_duration,
            marketplace_url=self.product_url(product_id) if product_id else None,
            updated_at=raw.updated_at,
        )

    async def _through_app(self, raw: wire.AccessRequest) -> bool:
        """Whether the app's own account filed this request for its requester (`requests.file_as_app`).
        Unknown (the account unreadable) counts as no: the card then names the account as the filer."""
        filer = raw.requesting_user.global_user_id
        if not self._files_as_app or filer == raw.user.global_user_id:
            return False
        if self._own_id is None:
            try:
                self._own_id = (await self._client.get_current_user()).global_user_id
            except MarketplaceError as exc:
                log.warning("own_account_unread", error=type(exc).__name__)
                return False
        return filer == self._own_id

    def product_url(self, product_id: str) -> str:
        """The product's page in the Marketplace app, in the deep-link format of the vendor's guides."""
        url = f"{self._app_url}/marketplace/data-product/{quote(product_id, safe='')}/details"
        return f"{url}?{urlencode({'accountId': self._account_id})}" if self._account_id else url

    async def whoami(self, token: SecretStr) -> Actor:
        return actor_of(await self._client.with_token(token).get_current_user())

    async def decide(self, token: SecretStr, step_id: str, decision: Decision) -> None:
        body = wire.UpdateApprovalRecordRequest(
            status=wire.ApprovalRecordStatus.APPROVED
            if decision.verdict is Verdict.APPROVE
            else wire.ApprovalRecordStatus.DENIED,
            reason=decision.reason,
            duration=decision.duration.amount if decision.duration else None,
            duration_unit=wire.DurationUnit(decision.duration.unit.value) if decision.duration else None,
        )
        await self._client.with_token(token).update_approval_record(step_id, body)

    async def record(self, request_id: str, record_id: str) -> ApprovalStep | None:
        """One approval record as the Marketplace has it now (None: the request has no such record).

        For finding out what became of a determination whose answer was lost: one call, with the
        app's own token, and nothing else loaded."""
        records = await self._client.get_access_request_records(request_id)
        found = next((r for r in records.approval_records if r.id == record_id), None)
        return None if found is None else step_of(found)

    async def pending_request_ids(self) -> AsyncIterator[str]:
        async for request in self._client.iter_access_requests(historical=False, page_size=CHANGES_PAGE):
            if str(request.status) == RequestStatus.PENDING.value:
                yield request.id

    async def request_changes(
        self, *, since: datetime | None = None, page_size: int = CHANGES_PAGE
    ) -> AsyncIterator[tuple[str, RequestStatus, datetime]]:
        """(id, status, updatedAt) of the requests the app can see, most recently changed first, down
        to the first one changed before `since` (None: all of them).

        Newest-first paging by offset is safe while requests change: a change moves its request to
        the front, so pages already read only shift later ones down (seen twice, not skipped; only a
        request deleted mid-walk can shift one past us, and the slow sweep is the backstop), and
        the moved request is newer than anything this walk saw, so the next walk finds it.
        `historical` is left at its documented default (true): settled requests are what we want.
        """
        pages = self._client.iter_access_requests(
            sort_by=wire.AccessRequestSortBy.UPDATED_AT, sort_order=wire.SortOrder.DESC, page_size=page_size
        )
        # Pages are fetched lazily: stopping here fetches no further page.
        async for request in pages:
            if since is not None and request.updated_at < since:
                return
            yield request.id, _request_status(request.status), request.updated_at

    async def user_email(self, marketplace_user: str) -> str | None:
        """A Marketplace user's email, by global user id or username (USER approvers name either)."""
        found = await self._client.get_immuta_users(global_user_id=[marketplace_user], limit=5)
        users = found.users or (await self._client.get_immuta_users(filter=marketplace_user, limit=20)).users
        match = next((u for u in users if marketplace_user in (u.global_user_id, u.username)), None)
        return match.email if match is not None else None

    def request_url(self, product_id: str, kind: RequestKind) -> str:
        """The product's request-access page, in the deep-link format of the catalog-integration guide."""
        access = "masking-exception" if kind is RequestKind.MASKING_EXCEPTION else "data-access"
        query = {"type": access, **({"accountId": self._account_id} if self._account_id else {})}
        page = f"{self._app_url}/marketplace/data-product/{quote(product_id, safe='')}/request-access"
        return f"{page}?{urlencode(query)}"

    async def temporary_grants(self) -> AsyncIterator[tuple[str, datetime]]:
        """(request id, expiration) of every approved request with an expiration the app can see."""
        async for request in self._client.iter_access_requests(status=["APPROVED"], expiration=True):
            if str(request.status) == RequestStatus.APPROVED.value and request.expiration is not None:
                yield request.id, request.expiration

    async def _form(self, version: str) -> wire.RequestForm | None:
        if version in self._forms:
            return self._forms[version]
        form: wire.RequestForm | None = await self._optional(
            self._client.get_request_form_by_version(version)
        )
        if len(self._forms) >= _FORM_CACHE_SIZE:
            self._forms.pop(next(iter(self._forms)))
        if form is not None:  # a failed read is tried again next time; a version's content never changes
            self._forms[version] = form
        return form

    @staticmethod
    async def _optional(call: Any) -> Any:
        """Enrichment is nice to have: a card without the risk assessment beats no card."""
        try:
            return await call
        except MarketplaceError as exc:
            log.warning("enrichment_failed", error=type(exc).__name__)
            return None


async def _attempt(
    call: Awaitable[wire.DataProduct],
) -> tuple[wire.DataProduct | None, MarketplaceError | None]:
    """The product, or why it could not be read: whether that matters is known only with the records."""
    try:
        return await call, None
    except MarketplaceError as exc:
        return None, exc


def summary_of(raw: wire.AccessRequest) -> AccessRequest:
    """A request as a list shows it: what the request itself says, no records, answers or enrichment."""
    product_id = raw.data_product.id if raw.data_product else (raw.asset.id if raw.asset else "")
    name = raw.data_product.name if raw.data_product else (raw.asset.name if raw.asset else product_id)
    return AccessRequest(
        id=raw.id,
        kind=_kind(raw.type),
        status=_request_status(raw.status),
        raw_status=str(raw.status),
        product_id=product_id,
        product_name=name,
        domain_id=None,
        requester=_person(raw.user),
        requested_by=_person(raw.requesting_user),
        created_at=raw.created_at,
        expiration=raw.expiration,
        steps=(),
        updated_at=raw.updated_at,
    )


def _needs_domains(records: list[wire.ApprovalRecord]) -> bool:
    """Whether meeting some approver depends on the product's domains (see `domain.approver_matches`)."""
    return any(
        isinstance(a, wire.CatalogPermissionApprover)
        or (isinstance(a, wire.DomainPermissionApprover) and not a.domain_id)
        for r in records
        for a in r.approvers
    )


async def _find(find_people: PeopleFinder, emails: list[str]) -> Mapping[str, str | None]:
    # A task group takes coroutines, and the finder may return any awaitable.
    return await find_people(emails)


def _first_error(failures: BaseExceptionGroup[BaseException]) -> BaseException:
    first = failures.exceptions[0]
    return _first_error(first) if isinstance(first, BaseExceptionGroup) else first


# --- wire → domain --------------------------------------------------------------------------------


def _kind(value: Any) -> RequestKind:
    return (
        RequestKind.MASKING_EXCEPTION
        if str(value) == RequestKind.MASKING_EXCEPTION.value
        else RequestKind.DATA_ACCESS
    )


def _request_status(value: Any) -> RequestStatus:
    try:
        return RequestStatus(str(value))
    except ValueError:
        return RequestStatus.OTHER


def _record_status(value: Any) -> RecordStatus:
    try:
        return RecordStatus(str(value))
    except ValueError:
        return RecordStatus.OTHER


def _person(user: wire.ImmutaUser, slack_user_id: str | None = None) -> Person:
    return Person(
        slack_user_id=slack_user_id,
        marketplace_id=user.global_user_id,
        username=user.username,
        name=user.name or user.username,
        email=user.email,
    )


def actor_of(me: wire.CurrentUser) -> Actor:
    """The caller of `GET /api/auth/user` as the approver rules see them.

    Domain permissions are read from each collection permission's own `collectionId` (the spec does
    not say what the map's keys are), as "domainId:permission"."""
    attributes = frozenset(f"{k}={v}" for k, values in (me.authorizations or {}).items() for v in values)
    return Actor(
        marketplace_id=me.global_user_id,
        username=me.username,
        email=me.email,
        groups=frozenset(me.groups),
        permissions=frozenset(str(p) for p in me.global_permissions),
        attributes=attributes,
        domain_permissions=frozenset(
            f"{p.collection_id}:{p.permission}" for held in me.collection_permissions.values() for p in held
        ),
    )


def approver_of(approver: Any) -> Approver:
    """One wire approver as the approver rules and a card see it."""
    kind = str(getattr(approver, "type", "UNKNOWN"))
    if isinstance(approver, wire.UserApprover):
        return Approver(kind, approver.display_name or approver.id, approver.id)
    if isinstance(approver, wire.GroupApprover):
        return Approver(kind, approver.name, str(approver.id) if approver.id is not None else approver.name)
    if isinstance(approver, wire.PermissionApprover):
        return Approver(kind, str(approver.permission), str(approver.permission))
    if isinstance(approver, wire.DomainPermissionApprover):
        ref = (
            f"{approver.domain_id}:{approver.permission}" if approver.domain_id else str(approver.permission)
        )
        return Approver(kind, str(approver.permission), ref)
    if isinstance(approver, wire.AttributeApprover):
        return Approver(kind, f"{approver.key}: {approver.value}", f"{approver.key}={approver.value}")
    return Approver(kind, kind.title())


def _duration(amount: Any, unit: Any) -> Duration | None:
    try:
        return Duration(int(amount), DurationUnit(str(unit))) if amount and unit else None
    except ValueError:
        return None


def step_of(
    record: wire.ApprovalRecord, person: Callable[[wire.ImmutaUser], Person] = _person
) -> ApprovalStep:
    return ApprovalStep(
        id=record.id,
        status=_record_status(record.status),
        approvers=tuple(approver_of(a) for a in record.approvers),
        prerequisites=tuple(record.prerequisites),
        decided_by=person(record.action_by) if record.action_by else None,
        reason=record.reason or None,
        duration=_duration(record.duration, record.duration_unit),
        updated_at=record.updated_at,
    )


def risk_of(risk: wire.RiskAssessment) -> RiskAssessment:
    return RiskAssessment(
        level=str(risk.approval_risk),
        recommendation=str(risk.recommendation) if risk.recommendation is not None else None,
        n_allowed=risk.n_allowed,
        n_denied=risk.n_denied,
        median_days_to_approve=float(risk.median_approval_time_window_in_days)
        if risk.median_approval_time_window_in_days is not None
        else None,
        explanation=risk.explanation,
        approval_reasons=tuple(risk.approval_reasons or ()),
        denial_reasons=tuple(risk.denial_reasons or ()),
        conflict_detected=bool(risk.conflict_detected),
    )


def _recent(recent: wire.RecentDeterminations) -> RecentDeterminations:
    items = recent.determinations
    approved = sum(1 for d in items if str(d.status) == "APPROVED")
    denied = sum(1 for d in items if str(d.status) == "DENIED")
    last = max(items, key=lambda d: d.updated_at, default=None)
    return RecentDeterminations(
        approved=approved,
        denied=denied,
        last_actor=(last.action_by.name if last and last.action_by else None),
        last_status=str(last.status) if last else None,
        last_at=last.updated_at if last else None,
    )


def _answers(
    submission: Any, form: wire.RequestForm | None
) -> tuple[tuple[FormAnswer, ...], Duration | None]:
    """Pair a submission's values with their questions. The vendor does not publish the submission's
    shape, so this accepts the plausible ones: `{fieldId: value}`, `{"answers": [...]}` or a list of
    `{"fieldId"|"id", "value"}`; values may be text, lists, numbers or `{duration, durationUnit}`."""
    values = _submission_values(submission)
    fields = {f.id: f for f in (form.fields if form else []) if getattr(f, "id", None)}
    answers: list[FormAnswer] = []
    duration: Duration | None = None
    for field_id, value in values:
        field = fields.get(field_id)
        label = getattr(field, "label", None) or field_id
        if isinstance(field, wire.AccessDurationFormField) or _looks_like_duration(value):
            duration = _duration_value(value) or duration
        answers.append(FormAnswer(question=str(label), answer=_answer_text(value)))
    return tuple(answers), duration


def _submission_values(submission: Any) -> list[tuple[str, Any]]:
    if isinstance(submission, dict):
        inner = submission.get("answers", submission.get("fields"))
        if isinstance(inner, list | dict):
            return _submission_values(inner)
        return [(str(k), v) for k, v in submission.items()]
    if isinstance(submission, list):
        pairs = []
        for item in submission:
            if isinstance(item, dict):
                key = item.get("fieldId") or item.get("id") or item.get("label") or "answer"
                pairs.append((str(key), item.get("value", item.get("answer"))))
        return pairs
    return []


def _looks_like_duration(value: Any) -> bool:
    return isinstance(value, dict) and "duration" in value and ("durationUnit" in value or "unit" in value)


def _duration_value(value: Any) -> Duration | None:
    if isinstance(value, dict):
        return _duration(value.get("duration"), value.get("durationUnit", value.get("unit")))
    return None


def _answer_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(_answer_text(v) for v in value)
    if _looks_like_duration(value):
        parsed = _duration_value(value)
        return parsed.describe() if parsed else str(value.get("duration"))
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_answer_text(v)}" for k, v in value.items())
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
