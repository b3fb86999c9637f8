"""Self-service's Slack ports (`RequestModals`, `Home`), done with Slack's Web API.

Render with the pure builders (`request_views`, `home`), then deliver. A modal that changed since it
was rendered (the person picked another product meanwhile) or was closed is not overwritten: Slack
refuses the update (`hash_conflict`, `not_found`) and the newer state stands.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from marketplace_slack.domain.forms import ProductChoice, RequestDraft
from marketplace_slack.slack import views
from marketplace_slack.slack.cards import Card
from marketplace_slack.slack.home import home_view, requests_message
from marketplace_slack.slack.request_views import (
    request_filed_modal,
    request_loading_modal,
    request_modal,
    request_notice_modal,
)
from marketplace_slack.slack.unfurl import product_unfurl
from marketplace_slack.workflow.consumer_ports import Filed, HomeSnapshot
from marketplace_slack.workflow.ports import ModalRef
from marketplace_slack.workflow.sentences import Sentence

log = structlog.get_logger(__name__)

Whisper = Callable[[str, str | None, Card], Awaitable[None]]


class RequestMessenger:
    def __init__(self, client: AsyncWebClient, *, whisper: Whisper, allow_for_others: bool = True) -> None:
        self._client = client
        self._whisper = whisper
        self._allow_for_others = allow_for_others

    async def open_request_loading(self, trigger_id: str) -> ModalRef | None:
        try:
            response = await self._client.views_open(trigger_id=trigger_id, view=request_loading_modal())
        except SlackApiError as exc:
            log.warning("modal_not_opened", error=exc.response.get("error"))
            return None
        view = response.get("view") or {}
        return ModalRef(str(view.get("id") or ""), view.get("hash"))

    async def show_request_form(self, modal: ModalRef, draft: RequestDraft, *, context: str) -> None:
        await self._update(
            modal, request_modal(draft, context=context, allow_for_others=self._allow_for_others)
        )

    async def show_request_notice(
        self, modal: ModalRef, sentence: Sentence, *, url: str | None = None
    ) -> None:
        await self._update(modal, request_notice_modal(sentence.text, url=url))

    async def show_request_filed(self, modal: ModalRef, filed: Filed) -> None:
        await self._update(modal, request_filed_modal(filed))

    async def show_link_form(self, modal: ModalRef, sentence: Sentence, *, context: str) -> None:
        await self._update(modal, views.link_modal(private_metadata=context, lead=sentence))

    async def publish_home(self, user_id: str, snapshot: HomeSnapshot) -> None:
        try:
            await self._client.views_publish(user_id=user_id, view=home_view(snapshot))
        except SlackApiError as exc:
            log.warning("home_not_published", error=exc.response.get("error"))

    async def show_requests(self, user_id: str, channel: str | None, snapshot: HomeSnapshot) -> None:
        message = requests_message(snapshot)
        await self._whisper(user_id, channel, Card(text=str(message["text"]), blocks=list(message["blocks"])))

    async def unfurl(
        self,
        *,
        channel: str,
        ts: str,
        unfurl_id: str | None,
        source: str | None,
        products: dict[str, ProductChoice],
    ) -> None:
        unfurls = {url: product_unfurl(product) for url, product in products.items()}
        where: dict[str, Any] = (
            {"unfurl_id": unfurl_id, "source": source} if unfurl_id else {"channel": channel, "ts": ts}
        )
        try:
            await self._client.chat_unfurl(unfurls=unfurls, **where)
        except SlackApiError as exc:
            log.warning("unfurl_refused", error=exc.response.get("error"))

    async def _update(self, modal: ModalRef, view: dict[str, Any]) -> None:
        try:
            await self._client.views_update(view_id=modal.view_id, hash=modal.hash, view=view)
        except SlackApiError as exc:
            log.warning("modal_not_updated", view_id=modal.view_id, error=exc.response.get("error"))
