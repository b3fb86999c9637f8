"""Bolt listeners of self-service: the request modal, its pickers, App Home and its buttons.

As in `listeners`: ack first, hand the work to the workflow, answer bad input in one sentence. Two
kinds of payload are answered with data rather than a bare ack, inside Slack's 3 seconds: an
external select's options (`block_suggestion`; what the Marketplace has not answered by then is an
empty list, never a late answer), and a submitted request form whose local checks fail (`errors`).
"""

from __future__ import annotations

import asyncio
from typing import Any, Final, TypeVar

import structlog
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from marketplace_slack.domain.forms import ProductChoice, RequestForm
from marketplace_slack.infra.tasks import BackgroundTasks
from marketplace_slack.slack import ids
from marketplace_slack.slack.handoff import BusyTeller, hand_off
from marketplace_slack.slack.installation import installation_team
from marketplace_slack.slack.request_status import request_submitting_modal
from marketplace_slack.slack.request_values import (
    RequestAnswers,
    column_options,
    decode_value,
    parse_request_submission,
    product_options,
    question_id_of,
    question_options,
)
from marketplace_slack.workflow.home import HomeService
from marketplace_slack.workflow.ports import ModalRef
from marketplace_slack.workflow.request_parts import Answers, Started
from marketplace_slack.workflow.self_service import SelfService
from marketplace_slack.workflow.unfurls import Unfurls

log = structlog.get_logger(__name__)

Payload = dict[str, Any]
T = TypeVar("T")

# What an options answer may wait for: Slack gives up on it at 3 s, and the ack must travel too.
OPTIONS_BUDGET: Final = 2.0


def register_requests(
    app: AsyncApp, service: SelfService, tasks: BackgroundTasks, *, busy: BusyTeller | None = None
) -> None:
    """`/marketplace request` is the command's; everything from the modal on is here. A click the app
    is too busy to take is answered with `busy` (see handoff.py)."""
    busy = busy or BusyTeller()

    @app.shortcut(ids.REQUEST_SHORTCUT)
    async def shortcut(ack: AsyncAck, body: Payload, context: AsyncBoltContext) -> None:
        await ack()
        _start(service, tasks, body, context, Started(), busy)

    @app.action(ids.START_REQUEST)
    async def start_clicked(ack: AsyncAck, action: Payload, body: Payload, context: AsyncBoltContext) -> None:
        await ack()
        product_id = str(action.get("value") or "") or None
        _start(service, tasks, body, context, Started(product_id=product_id), busy)

    async def picked(ack: AsyncAck, body: Payload, context: AsyncBoltContext) -> None:
        await ack()
        view = body.get("view") or {}
        values = (view.get("state") or {}).get("values") or {}
        # The element that fired says its new value; the other one is read from the view's state.
        fired: Payload = next(iter(body.get("actions") or []), {})
        chosen: dict[str, str | None] = {ids.REQUEST_PRODUCT_INPUT: None, ids.REQUEST_KIND_INPUT: None}
        for action_id in chosen:
            option = fired.get("selected_option") if fired.get("action_id") == action_id else None
            value = option.get("value") if isinstance(option, dict) else _selected(values, action_id)
            chosen[action_id] = str(value) if value else None
        encoded = chosen[ids.REQUEST_PRODUCT_INPUT]
        product = decode_value(encoded) if encoded else None
        kind = chosen[ids.REQUEST_KIND_INPUT]
        modal = ModalRef(str(view.get("id") or ""), view.get("hash"))
        hand_off(
            tasks,
            service.changed(
                modal=modal,
                team_id=installation_team(context),
                user_id=context.user_id or "",
                raw_context=str(view.get("private_metadata") or ""),
                product_id=product,
                kind=kind,
            ),
            name="request-changed",
            context=context,
            busy=busy,
        )

    app.action(ids.REQUEST_PRODUCT_INPUT)(picked)
    app.action(ids.REQUEST_KIND_INPUT)(picked)

    @app.options(ids.REQUEST_PRODUCT_INPUT)
    async def product_search(ack: AsyncAck, body: Payload, context: AsyncBoltContext) -> None:
        query = str(body.get("value") or "")
        found: list[ProductChoice] = await _within(
            service.products(team_id=installation_team(context), user_id=context.user_id or "", query=query),
            [],
        )
        await ack(options=product_options(found))

    @app.options(ids.QUESTION_OPTIONS_INPUT)
    async def question_search(ack: AsyncAck, body: Payload, context: AsyncBoltContext) -> None:
        view = body.get("view") or {}
        form: RequestForm | None = await _within(
            service.form_for(
                team_id=installation_team(context),
                user_id=context.user_id or "",
                raw_context=str(view.get("private_metadata") or ""),
            ),
            None,
        )
        asked = question_id_of(str(body.get("block_id") or ""))
        question = form.question(asked) if form and asked else None
        await ack(
            options=question_options(question.options if question else (), str(body.get("value") or ""))
        )

    @app.options(ids.COLUMNS_INPUT)
    async def column_search(ack: AsyncAck, body: Payload, context: AsyncBoltContext) -> None:
        view = body.get("view") or {}
        columns = await _within(
            service.columns_for(
                team_id=installation_team(context),
                user_id=context.user_id or "",
                raw_context=str(view.get("private_metadata") or ""),
            ),
            (),
        )
        await ack(option_groups=column_options(columns, str(body.get("value") or "")))

    @app.view(ids.REQUEST_MODAL)
    async def submitted(ack: AsyncAck, view: Payload, context: AsyncBoltContext) -> None:
        parsed = parse_request_submission(view)
        if not isinstance(parsed, RequestAnswers):
            await ack(response_action="errors", errors=parsed)
            return
        # The form becomes "Submitting…" in the ack itself; the filing's outcome replaces it.
        await ack(response_action="update", view=request_submitting_modal())
        modal = ModalRef(str(view.get("id") or ""), None)
        # Never refused: the form holds what the person typed, and its click was let in.
        tasks.offer(
            service.submit(
                modal=modal,
                team_id=installation_team(context),
                user_id=context.user_id or "",
                raw_context=str(view.get("private_metadata") or ""),
                answers=Answers(parsed.answers, parsed.columns, parsed.agreements, parsed.for_user),
            ),
            name="file-request",
            urgent=True,
        )


def register_unfurls(app: AsyncApp, unfurls: Unfurls, tasks: BackgroundTasks) -> None:
    @app.event("link_shared")
    async def link_shared(event: Payload) -> None:
        urls = [str(link.get("url") or "") for link in event.get("links") or [] if isinstance(link, dict)]
        tasks.spawn(
            unfurls.link_shared(
                channel=str(event.get("channel") or ""),
                ts=str(event.get("message_ts") or ""),
                unfurl_id=event.get("unfurl_id"),
                source=event.get("source"),
                urls=urls,
            ),
            name="unfurl",
        )


def register_home(
    app: AsyncApp,
    home: HomeService,
    service: SelfService,
    tasks: BackgroundTasks,
    *,
    busy: BusyTeller | None = None,
) -> None:
    busy = busy or BusyTeller()

    @app.event("app_home_opened")
    async def home_opened(event: Payload, context: AsyncBoltContext) -> None:
        if event.get("tab") not in (None, "home"):
            return  # the messages tab: nothing to publish
        user_id = str(event.get("user") or context.user_id or "")
        tasks.spawn(home.refresh(installation_team(context), user_id), name="home-opened")

    @app.action(ids.CANCEL_REQUEST)
    async def cancel_clicked(
        ack: AsyncAck, action: Payload, body: Payload, context: AsyncBoltContext
    ) -> None:
        await ack()
        hand_off(
            tasks,
            home.cancel(
                installation_team(context),
                context.user_id or "",
                str(action.get("value") or ""),
                context.channel_id,
            ),
            name="cancel-request",
            context=context,
            busy=busy,
        )

    @app.action(ids.REMIND_RENEWAL)
    async def remind_clicked(ack: AsyncAck, body: Payload, context: AsyncBoltContext) -> None:
        await ack()
        view = body.get("view") or {}
        hand_off(
            tasks,
            service.remind_renewal(
                modal=ModalRef(str(view.get("id") or ""), view.get("hash")),
                team_id=installation_team(context),
                user_id=context.user_id or "",
                raw_context=str(view.get("private_metadata") or ""),
            ),
            name="remind-renewal",
            context=context,
            busy=busy,
        )

    @app.action(ids.REQUEST_AGAIN_OPEN)
    async def again_clicked(ack: AsyncAck, action: Payload, body: Payload, context: AsyncBoltContext) -> None:
        await ack()
        hand_off(
            tasks,
            service.request_again(
                trigger_id=str(body.get("trigger_id") or ""),
                team_id=installation_team(context),
                user_id=context.user_id or "",
                channel=context.channel_id,
                request_id=str(action.get("value") or ""),
            ),
            name="request-again",
            context=context,
            busy=busy,
        )

    @app.action(ids.UNLINK_ACCOUNT)
    async def unlink_clicked(ack: AsyncAck, context: AsyncBoltContext) -> None:
        await ack()
        hand_off(
            tasks,
            home.unlink(installation_team(context), context.user_id or ""),
            name="unlink-home",
            context=context,
            busy=busy,
        )


def _start(
    service: SelfService,
    tasks: BackgroundTasks,
    body: Payload,
    context: AsyncBoltContext,
    start: Started,
    busy: BusyTeller,
) -> None:
    hand_off(
        tasks,
        service.start(
            trigger_id=str(body.get("trigger_id") or ""),
            team_id=installation_team(context),
            user_id=context.user_id or "",
            channel=context.channel_id,
            start=start,
        ),
        name="start-request",
        context=context,
        busy=busy,
    )


async def _within(work: Any, fallback: T) -> T:
    try:
        result: T = await asyncio.wait_for(work, OPTIONS_BUDGET)
        return result
    except TimeoutError:
        log.warning("options_late")
        return fallback


def _selected(values: Payload, action_id: str) -> str | None:
    for block in values.values():
        entry = block.get(action_id)
        if isinstance(entry, dict):
            option = entry.get("selected_option")
            if isinstance(option, dict) and option.get("value"):
                return str(option["value"])
    return None
