"""Who files a consumer's request: their own link (still theirs, per the identity rules), or, with
`requests.file_as_app`, the app's own account for a consumer found in the Marketplace by Slack email;
else the modal asks them to link, and the link form carries them back into the request."""

from __future__ import annotations

import json

from marketplace_slack.marketplace.consumer import ConsumerGateway
from marketplace_slack.marketplace.errors import MarketplaceError
from marketplace_slack.workflow import sentences
from marketplace_slack.workflow.consumer_ports import RequestModals
from marketplace_slack.workflow.context import RequestContext
from marketplace_slack.workflow.identity import IdentityGuard
from marketplace_slack.workflow.linking import Accounts
from marketplace_slack.workflow.ports import ModalRef
from marketplace_slack.workflow.request_parts import Filer, Started


class Filers:
    def __init__(
        self,
        *,
        accounts: Accounts,
        consumer: ConsumerGateway,
        modals: RequestModals,
        identity: IdentityGuard | None,
        file_as_app: bool,
    ) -> None:
        self._accounts = accounts
        self._consumer = consumer
        self._modals = modals
        self._identity = identity
        self._file_as_app = file_as_app

    async def usable(self, modal: ModalRef, context: RequestContext, start: Started) -> Filer | None:
        """Who files for this person: their link (still theirs, per the identity rules), else the app's
        account when the deployment allows it; else the modal asks them to link (or says why not)."""
        link = await self._accounts.linked(context.team_id, context.user_id)
        if link is not None:
            refused = await self._identity.vouch(link) if self._identity is not None else None
            if refused is not None:
                await self._modals.show_request_notice(modal, refused)
                return None
            return Filer(link.team_id, link.slack_user_id, link.marketplace_user_id, link.token, link)
        if self._file_as_app and self._identity is not None:
            email, refused = await self._identity.vouch_unlinked(context.team_id, context.user_id)
            if refused is not None:
                await self._modals.show_request_notice(modal, refused)
                return None
            try:
                found = await self._consumer.user_by_email(None, email) if email else None
            except MarketplaceError:
                await self._modals.show_request_notice(modal, sentences.MARKETPLACE_UNREACHABLE)
                return None
            if found is not None:
                return Filer(context.team_id, context.user_id, found, None)
        await self._modals.show_link_form(
            modal, sentences.LINK_TO_REQUEST, context=self.resume(context, start)
        )
        return None

    async def quiet(self, team_id: str, user_id: str) -> Filer | None:
        """Who files, without a word to anyone (an options list: the modal says the rest)."""
        link = await self._accounts.linked(team_id, user_id)
        if link is not None:
            return Filer(link.team_id, link.slack_user_id, link.marketplace_user_id, link.token, link)
        if self._file_as_app and self._identity is not None:
            email, refused = await self._identity.vouch_unlinked(team_id, user_id)
            found = await self._consumer.user_by_email(None, email) if email and refused is None else None
            return Filer(team_id, user_id, found, None) if found else None
        return None

    @staticmethod
    def resume(context: RequestContext, start: Started) -> str:
        """The link form's context: where to come back to once linked (nothing typed is lost)."""
        return json.dumps(
            {
                "c": context.channel,
                "resume": "request",
                "q": start.query,
                "p": start.product_id,
                "k": start.kind.value,
            }
        )
