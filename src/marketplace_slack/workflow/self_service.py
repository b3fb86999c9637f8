"""Consumers request access from Slack: the request modal from opening to the filed request.

A consumer's request is filed with their own linked token, so the Marketplace records the true
requester and applies its rules; the app only carries the form there and back. The order of things
follows Slack's clock: a trigger lasts 3 s, so the modal opens first ("Loading…") and the slow reads
(the product, its form, its masked columns) replace it; a submission is checked locally inside the
3 s window (the listener answers `errors`), then filed in the background while the modal says so,
and the modal becomes the confirmation or one sentence saying why not.

Filing is not repeated after an ambiguous answer (a timeout, a dropped connection): the product's
requests are read to find out whether it was filed, and only then is the consumer told.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import structlog
from pydantic import SecretStr

from marketplace_slack.domain import RequestKind
from marketplace_slack.domain.forms import (
    ExistingAccess,
    MaskedColumnChoice,
    ProductChoice,
    RequestDraft,
    RequestForm,
    Submission,
)
from marketplace_slack.infra.clock import Clock
from marketplace_slack.marketplace.consumer import ConsumerGateway
from marketplace_slack.marketplace.errors import (
    APIConnectionError,
    BadRequestError,
    ConflictError,
    MarketplaceError,
    NotFoundError,
    ServerError,
    UnauthorizedError,
)
from marketplace_slack.store.audit import AuditKind
from marketplace_slack.store.repository import Repository
from marketplace_slack.workflow import sentences
from marketplace_slack.workflow.consumer_ports import Filed, RequestModals
from marketplace_slack.workflow.context import ContextSeal, RequestContext
from marketplace_slack.workflow.filers import Filers
from marketplace_slack.workflow.identity import IdentityGuard
from marketplace_slack.workflow.linking import Accounts
from marketplace_slack.workflow.ports import Directory, Gateway, ModalRef, Replies, filed_key
from marketplace_slack.workflow.request_parts import (
    Answers,
    Filer,
    Started,
    carry,
    kind_of,
    renewable,
    standing_of,
)
from marketplace_slack.workflow.sentences import Sentence

log = structlog.get_logger(__name__)

# A request filed a little before our clock says we sent it is still ours (clocks differ).
_CLOCK_SLACK = timedelta(minutes=2)


class SelfService:
    def __init__(
        self,
        *,
        accounts: Accounts,
        consumer: ConsumerGateway,
        gateway: Gateway,
        modals: RequestModals,
        replies: Replies,
        directory: Directory,
        seal: ContextSeal,
        store: Repository,
        clock: Clock,
        identity: IdentityGuard | None = None,
        file_as_app: bool = False,
        allow_for_others: bool = True,
        on_filed: Callable[[str], Awaitable[None]] | None = None,
        card_url: Callable[[str], Awaitable[str | None]] | None = None,
    ) -> None:
        self._on_filed = on_filed
        self._card_url = card_url
        self.allow_for_others = allow_for_others
        self._accounts = accounts
        self._consumer = consumer
        self._gateway = gateway
        self._modals = modals
        self._replies = replies
        self._directory = directory
        self._seal = seal
        self._store = store
        self._clock = clock
        self._filers = Filers(
            accounts=accounts, consumer=consumer, modals=modals, identity=identity, file_as_app=file_as_app
        )

    # --- opening and changing the modal ---------------------------------------------------------

    async def start(
        self, *, trigger_id: str, team_id: str, user_id: str, channel: str | None, start: Started
    ) -> None:
        """Open the request modal at once, then fill it in: the form of the product named, or a picker."""
        modal = await self._modals.open_request_loading(trigger_id)
        if modal is None:
            await self._replies.tell(user_id=user_id, channel=channel, sentence=sentences.FORM_NOT_OPENED)
            return
        await self.show(modal, RequestContext(team_id, user_id, channel), start)

    async def link_then_resume(
        self,
        *,
        modal: ModalRef,
        team_id: str,
        user_id: str,
        token: SecretStr,
        channel: str | None,
        start: Started,
    ) -> None:
        """The link form shown for a request was submitted: link, then back to the request (its
        product and kind as they were), or say that the link was not made (its reason is told too)."""
        await self._accounts.complete_link(team_id=team_id, user_id=user_id, token=token, channel=channel)
        if await self._accounts.linked(team_id, user_id) is None:
            await self._modals.show_request_notice(modal, sentences.LINK_NOT_MADE)
            return
        await self.show(modal, RequestContext(team_id, user_id, channel), start)

    async def request_again(
        self, *, trigger_id: str, team_id: str, user_id: str, channel: str | None, request_id: str
    ) -> None:
        """ "Request again": the modal of the earlier request's product and kind, prefilled with its
        answers where the current form still asks the same (the rest are dropped, and said so)."""
        modal = await self._modals.open_request_loading(trigger_id)
        if modal is None:
            await self._replies.tell(user_id=user_id, channel=channel, sentence=sentences.FORM_NOT_OPENED)
            return
        context = RequestContext(team_id, user_id, channel)
        filer = await self._filers.usable(modal, context, Started())
        if filer is None:
            return
        try:
            product_id, kind, previous, labels = await self._consumer.earlier_answers(filer.token, request_id)
        except MarketplaceError:
            await self._modals.show_request_notice(modal, sentences.REQUEST_GONE)
            return
        start = Started(product_id=product_id, kind=kind, answers=previous, labels=labels)
        await self.show(modal, context, start)

    async def show(self, modal: ModalRef, context: RequestContext, start: Started) -> None:
        """Turn `modal` into the request form for `start` (after a product or kind changed, too)."""
        filer = await self._filers.usable(modal, context, start)
        if filer is None:
            return
        try:
            await self._show(modal, context, start, filer)
        except UnauthorizedError:
            await self._accounts.forget(context.team_id, context.user_id)
            await self._modals.show_link_form(
                modal, sentences.RELINK_NEEDED, context=self._filers.resume(context, start)
            )
        except NotFoundError:
            await self._modals.show_request_notice(modal, sentences.REQUEST_GONE)
        except MarketplaceError as exc:
            log.warning("request_form_unreadable", error=type(exc).__name__)
            await self._modals.show_request_notice(modal, sentences.MARKETPLACE_UNREACHABLE)

    async def _show(self, modal: ModalRef, context: RequestContext, start: Started, filer: Filer) -> None:
        token = filer.token
        product: ProductChoice | None = None
        existing = ExistingAccess()
        notice: Sentence | None = None
        if start.product_id:
            product, existing = await self._consumer.product(token, start.product_id)
        elif start.query.strip():
            found = await self._consumer.find_product(token, start.query)
            if found is None:
                notice = sentences.product_not_found(start.query.strip())
            else:
                product, existing = await self._consumer.product(token, found.id)
        if product is None:
            sealed = self._seal.seal_request(context)
            await self._modals.show_request_form(
                modal,
                RequestDraft(None, start.kind, None, notice=notice.text if notice else None),
                context=sealed,
            )
            return
        # (Read with the app's account, the standing is the app's own: the tenant's 409 answers then.)
        if start.kind is RequestKind.DATA_ACCESS and existing.blocks_new_request and not filer.through_app:
            await self._show_standing(modal, context, product, existing, start.kind)
            return
        form = await self._consumer.form(token, product.id, start.kind)
        columns: tuple[MaskedColumnChoice, ...] = ()
        total = 0
        if start.kind is RequestKind.MASKING_EXCEPTION and form is not None:
            columns, total = await self._consumer.masked_columns(token, product.id)
        answers, dropped = carry(form, start.answers, start.labels)
        draft = RequestDraft(
            product, start.kind, form, answers, columns=columns, columns_total=total, dropped=dropped
        )
        opened = RequestContext(
            context.team_id,
            context.user_id,
            context.channel,
            product.id,
            start.kind.value,
            form.version if form else None,
        )
        await self._modals.show_request_form(modal, draft, context=self._seal.seal_request(opened))

    async def _show_standing(
        self,
        modal: ModalRef,
        context: RequestContext,
        product: ProductChoice,
        existing: ExistingAccess,
        kind: RequestKind,
    ) -> None:
        """Already asked, or access they hold: said instead of a form (a second request would only be
        refused), with "remind me when it ends" for access that ends."""
        draft = RequestDraft(
            product,
            kind,
            None,
            standing=standing_of(product, existing).text,
            renewable=renewable(existing, self._clock.now()),
        )
        opened = RequestContext(context.team_id, context.user_id, context.channel, product.id, kind.value)
        await self._modals.show_request_form(modal, draft, context=self._seal.seal_request(opened))

    async def remind_renewal(self, *, modal: ModalRef, team_id: str, user_id: str, raw_context: str) -> None:
        """ "Remind me when it ends": the grant is read again with the consumer's own token (nothing in
        the click is trusted but the signed context's product), and its end is when they hear."""
        context = self._seal.open_request(raw_context, team_id=team_id, user_id=user_id)
        if context is None or not context.product_id:
            await self._modals.show_request_notice(modal, sentences.REQUEST_CONTEXT_REFUSED)
            return
        start = Started(product_id=context.product_id, kind=kind_of(context.kind))
        filer = await self._filers.usable(modal, context, start)
        if filer is None:
            return
        if filer.through_app:
            # The app's account would read its own standing, not theirs: their grant needs their link.
            await self._modals.show_link_form(
                modal, sentences.LINK_TO_REQUEST, context=self._filers.resume(context, start)
            )
            return
        try:
            product, existing = await self._consumer.product(filer.token, context.product_id)
        except MarketplaceError as exc:
            log.warning("renewal_not_read", error=type(exc).__name__)
            await self._modals.show_request_notice(modal, sentences.MARKETPLACE_UNREACHABLE)
            return
        if not renewable(existing, self._clock.now()) or existing.request_id is None:
            # It changed since the modal said so (ended, revoked, made permanent): show what is now.
            await self.show(modal, RequestContext(team_id, user_id, context.channel), start)
            return
        assert existing.expires_at is not None  # (_renewable)
        await self._store.renewals.schedule(
            team_id, user_id, existing.request_id, due_at=existing.expires_at, now=self._clock.now()
        )
        await self._modals.show_request_notice(
            modal, sentences.renewal_planned(product.name, existing.expires_at), url=product.url
        )

    async def changed(
        self,
        *,
        modal: ModalRef,
        team_id: str,
        user_id: str,
        raw_context: str,
        product_id: str | None,
        kind: str | None,
    ) -> None:
        """The product or the kind was changed in an open modal: rebuild it (`views.update`)."""
        context = self._seal.open_request(raw_context, team_id=team_id, user_id=user_id)
        if context is None:
            await self._modals.show_request_notice(modal, sentences.REQUEST_CONTEXT_REFUSED)
            return
        start = Started(product_id=product_id or context.product_id, kind=kind_of(kind or context.kind))
        await self.show(modal, RequestContext(team_id, user_id, context.channel), start)

    async def products(self, *, team_id: str, user_id: str, query: str) -> list[ProductChoice]:
        """The picker's options: products whose name holds `query`, read with the consumer's token.
        Empty when they are not linked (the modal asks them to link) or the Marketplace fails."""
        filer = await self._filers.quiet(team_id, user_id)
        if filer is None:
            return []
        try:
            return await self._consumer.search_products(filer.token, query)
        except MarketplaceError as exc:
            log.warning("product_search_failed", error=type(exc).__name__)
            return []

    async def form_for(self, *, team_id: str, user_id: str, raw_context: str) -> RequestForm | None:
        """The form the open modal was built from (for an external select's options)."""
        context = self._seal.open_request(raw_context, team_id=team_id, user_id=user_id)
        filer = await self._filers.quiet(team_id, user_id)
        if context is None or filer is None or not context.product_id:
            return None
        try:
            return await self._consumer.form(filer.token, context.product_id, kind_of(context.kind))
        except MarketplaceError:
            return None

    async def columns_for(
        self, *, team_id: str, user_id: str, raw_context: str
    ) -> tuple[MaskedColumnChoice, ...]:
        context = self._seal.open_request(raw_context, team_id=team_id, user_id=user_id)
        filer = await self._filers.quiet(team_id, user_id)
        if context is None or filer is None or not context.product_id:
            return ()
        try:
            return (await self._consumer.masked_columns(filer.token, context.product_id))[0]
        except MarketplaceError:
            return ()

    # --- filing ---------------------------------------------------------------------------------

    async def submit(
        self, *, modal: ModalRef, team_id: str, user_id: str, raw_context: str, answers: Answers
    ) -> None:
        """File a submitted request with the consumer's token; the modal becomes what came of it."""
        context = self._seal.open_request(raw_context, team_id=team_id, user_id=user_id)
        if context is None or not context.product_id or not context.form_version:
            log.warning("request_context_refused", user_id=user_id)
            await self._modals.show_request_notice(modal, sentences.REQUEST_CONTEXT_REFUSED)
            return
        # Again at submit: the form may have stayed open while the account changed.
        again = Started(product_id=context.product_id, kind=kind_of(context.kind))
        filer = await self._filers.usable(modal, context, again)
        if filer is None:
            return
        kind = kind_of(context.kind)
        submission = Submission(
            product_id=context.product_id,
            kind=kind,
            form_version=context.form_version,
            answers=answers.answers,
            columns=answers.columns,
            agreements=answers.agreements,
            for_user=answers.for_user if answers.for_user != user_id else None,
        )
        if submission.for_user is not None and not self.allow_for_others:
            # The modal has no picker then: a payload that names someone anyway changes nothing.
            await self._modals.show_request_notice(modal, sentences.FOR_OTHERS_OFF)
            return
        try:
            user = await self._user_for(filer, submission)
        except MarketplaceError:
            await self._modals.show_request_notice(modal, sentences.MARKETPLACE_UNREACHABLE)
            return
        if user is None:
            await self._modals.show_request_notice(modal, sentences.PERSON_NOT_FOUND)
            return
        # One filing per modal: a submission delivered twice (a replay, a second replica) files once.
        if not await self._store.marks.claim(f"filing:{modal.view_id}", now=self._clock.now()):
            log.info("request_already_filing", view_id=modal.view_id)
            return
        sent_at = self._clock.now()
        request_id = await self._file(
            modal, context, filer, submission, user=user, since=sent_at - _CLOCK_SLACK
        )
        if request_id is None:
            return
        # Its people hear how it ends, card or not (an auto-approved request never has one).
        await self._store.marks.claim(filed_key(request_id), now=self._clock.now())
        await self._audit(filer, request_id, submission, user=user)
        if self._on_filed is not None:
            # Its card (or, settled at once, its DMs) now, not only when the webhook comes: the
            # webhook may have come before the mark above, and may not come at all.
            try:
                await self._on_filed(request_id)
            except MarketplaceError as exc:
                log.warning("filed_request_not_shown", request_id=request_id, error=type(exc).__name__)
        await self._confirm(modal, request_id, submission, filer)

    async def _user_for(self, filer: Filer, submission: Submission) -> str | None:
        """The Marketplace user the request is for: the consumer, or the Slack user they picked."""
        if submission.for_user is None:
            return filer.marketplace_user_id
        email = await self._directory.email_of(submission.for_user)
        return await self._consumer.user_by_email(filer.token, email) if email else None

    async def _file(
        self,
        modal: ModalRef,
        context: RequestContext,
        filer: Filer,
        submission: Submission,
        *,
        user: str,
        since: datetime,
    ) -> str | None:
        try:
            return await self._consumer.file(filer.token, submission, user=user)
        except BadRequestError as exc:
            await self._modals.show_request_notice(modal, sentences.request_refused(exc.message))
        except ConflictError as exc:
            await self._refused_as_conflict(modal, context, filer, submission, exc)
        except UnauthorizedError:
            if filer.link is not None:
                await self._accounts.forget(filer.team_id, filer.slack_user_id)
            await self._modals.show_link_form(modal, sentences.RELINK_NEEDED, context="{}")
        except (APIConnectionError, ServerError):
            # It may have been filed (the answer lost, or a 5xx after the work was done): find out
            # before saying anything, and never file it twice.
            return await self._look_for_filed(modal, filer, submission, user=user, since=since)
        except MarketplaceError as exc:
            log.warning("request_not_filed", error=type(exc).__name__)
            await self._modals.show_request_notice(modal, sentences.REQUEST_NOT_FILED)
        return None

    async def _refused_as_conflict(
        self,
        modal: ModalRef,
        context: RequestContext,
        filer: Filer,
        submission: Submission,
        exc: ConflictError,
    ) -> None:
        """A 409: the consumer already has access or already asked. Their own standing, read again, says
        which (and until when, with "remind me when it ends"); otherwise the tenant's words do."""
        if submission.for_user is None and not filer.through_app:
            product: ProductChoice | None
            try:
                product, existing = await self._consumer.product(filer.token, submission.product_id)
            except MarketplaceError:
                product, existing = None, ExistingAccess()
            if product is not None and existing.blocks_new_request:
                await self._show_standing(modal, context, product, existing, submission.kind)
                return
        await self._modals.show_request_notice(modal, sentences.request_conflict(exc.message))

    async def _look_for_filed(
        self, modal: ModalRef, filer: Filer, submission: Submission, *, user: str, since: datetime
    ) -> str | None:
        try:
            found = await self._consumer.find_filed(
                filer.token, submission.product_id, submission.kind, user=user, since=since
            )
        except MarketplaceError:
            await self._modals.show_request_notice(modal, sentences.REQUEST_OUTCOME_UNKNOWN)
            return None
        if found is None:
            await self._modals.show_request_notice(modal, sentences.REQUEST_NOT_FILED)
        return found

    async def _audit(self, filer: Filer, request_id: str, submission: Submission, *, user: str) -> None:
        """The request filed (through the app's account or the consumer's own), then each agreement
        accepted, by id and form version."""
        now = self._clock.now()
        await self._store.audit.record(
            kind=AuditKind.REQUEST,
            at=now,
            team_id=filer.team_id,
            slack_user_id=filer.slack_user_id,
            marketplace_user_id=filer.marketplace_user_id,
            request_id=request_id,
            detail={
                "product_id": submission.product_id,
                "kind": submission.kind.value,
                "for": user,
                "through_app": filer.through_app,
            },
        )
        for agreement in submission.agreements:
            await self._store.audit.record(
                kind=AuditKind.AGREEMENT,
                at=now,
                team_id=filer.team_id,
                slack_user_id=filer.slack_user_id,
                marketplace_user_id=filer.marketplace_user_id,
                request_id=request_id,
                detail={"agreement_id": agreement, "form_version": submission.form_version},
            )

    async def _confirm(self, modal: ModalRef, request_id: str, submission: Submission, filer: Filer) -> None:
        try:
            request = await self._gateway.load(request_id, enrich=False)
        except MarketplaceError:
            # Filed, yet the app's own account cannot read it (yet): the consumer's own view suffices.
            try:
                request = await self._consumer.request(filer.token, request_id)
            except MarketplaceError:
                await self._modals.show_request_notice(modal, sentences.request_filed_unread(request_id))
                return
        url = self._consumer.request_page(submission.product_id, submission.kind)
        for_person = request.requester if submission.for_user else None
        card = await self._card_url(request_id) if self._card_url is not None else None
        filed = Filed(request, url=url, card_url=card, for_person=for_person)
        await self._modals.show_request_filed(modal, filed)
