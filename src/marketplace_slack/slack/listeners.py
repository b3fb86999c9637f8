"""Bolt listeners: acknowledge first, hand the work to the workflow, answer bad input in one sentence.

Nothing here decides policy. Each listener takes what Bolt extracted (`action`, `view`, `command`,
`context.user_id` / `channel_id`, and the workspace from `installation_team`), acks within Slack's 3
seconds, and starts the workflow in the background. They are registered by surface: cards (and the
messages about them), modals, the slash command, and events.

What a person started is offered to the background (`handoff.hand_off`), which may refuse it when too
much already waits: then the person is told the app is busy, and nothing was done. A submitted modal
finishes work a click already began and is never refused (`urgent`). Events are the app's own to
handle (an uninstall, a changed member) and are never refused either.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import SecretStr
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond

from marketplace_slack.domain import Decision, Verdict
from marketplace_slack.infra.redaction import keep_handed_secret
from marketplace_slack.infra.tasks import BackgroundTasks
from marketplace_slack.slack import ids
from marketplace_slack.slack.directory import profile_from_user
from marketplace_slack.slack.handoff import BusyTeller, hand_off
from marketplace_slack.slack.installation import installation_team
from marketplace_slack.slack.limits import FALLBACK_TEXT_MAX
from marketplace_slack.slack.mrkdwn import sentence_text
from marketplace_slack.slack.request_listeners import register_home, register_requests, register_unfurls
from marketplace_slack.slack.request_status import request_loading_modal
from marketplace_slack.slack.views import (
    parse_decision_submission,
    parse_link_submission,
    shown_block_id,
)
from marketplace_slack.workflow import sentences
from marketplace_slack.workflow.context import peek
from marketplace_slack.workflow.decisions import Decisions
from marketplace_slack.workflow.digests import Digests
from marketplace_slack.workflow.events import Events
from marketplace_slack.workflow.identity import IdentityGuard
from marketplace_slack.workflow.linking import Accounts
from marketplace_slack.workflow.ports import ModalRef
from marketplace_slack.workflow.reminders import Reminders
from marketplace_slack.workflow.request_parts import Started, resume_of
from marketplace_slack.workflow.self_service import SelfService
from marketplace_slack.workflow.sentences import Sentence
from marketplace_slack.workflow.service import Workflow

Payload = dict[str, Any]

# The card's actions block has an id fresh per rendering (see ids.fresh); listeners match its base.
_CARD_ACTIONS = ids.matching(ids.CARD_ACTIONS_BLOCK)


def register(
    app: AsyncApp,
    workflow: Workflow,
    tasks: BackgroundTasks,
    *,
    reminders: Reminders | None = None,
    digests: Digests | None = None,
    busy: BusyTeller | None = None,
) -> None:
    """Attach every listener the app has to `app`. `busy` tells a person their click was shed."""
    busy = busy or BusyTeller()
    register_cards(app, workflow.decisions, workflow.accounts, tasks, reminders=reminders, busy=busy)
    register_modals(app, workflow.decisions, workflow.accounts, tasks, workflow.self_service)
    register_commands(app, workflow.accounts, tasks, digests=digests, workflow=workflow, busy=busy)
    if workflow.self_service is not None and workflow.home is not None:
        register_requests(app, workflow.self_service, tasks, busy=busy)
        register_home(app, workflow.home, workflow.self_service, tasks, busy=busy)
        if workflow.unfurls is not None:
            register_unfurls(app, workflow.unfurls, tasks)
    register_events(app, workflow.accounts, workflow.events, tasks, identity=workflow.identity)


def register_cards(
    app: AsyncApp,
    decisions: Decisions,
    accounts: Accounts,
    tasks: BackgroundTasks,
    *,
    reminders: Reminders | None = None,
    busy: BusyTeller | None = None,
) -> None:
    """Buttons on request cards and on the messages about them (reminders, notices, the link prompt)."""
    teller = busy or BusyTeller()

    async def verdict_clicked(
        ack: AsyncAck,
        body: Payload,
        action: Payload,
        context: AsyncBoltContext,
        respond: AsyncRespond,
        verdict: Verdict,
    ) -> None:
        await ack()
        request_id, user_id = str(action.get("value") or ""), context.user_id
        if not request_id or not user_id:
            await _answer(respond, sentences.BUTTON_WITHOUT_REQUEST)
            return
        hand_off(
            tasks,
            decisions.start(
                team_id=installation_team(context),
                user_id=user_id,
                request_id=request_id,
                verdict=verdict,
                trigger_id=str(body.get("trigger_id") or ""),
                channel=context.channel_id,
                message_ts=(body.get("container") or {}).get("message_ts"),
                duration_choice=_duration_choice(body),
            ),
            name=f"start-{verdict.value.lower()}",
            context=context,
            busy=teller,
        )

    @app.action({"block_id": _CARD_ACTIONS, "action_id": ids.APPROVE})
    async def approve_clicked(
        ack: AsyncAck, body: Payload, action: Payload, context: AsyncBoltContext, respond: AsyncRespond
    ) -> None:
        await verdict_clicked(ack, body, action, context, respond, Verdict.APPROVE)

    @app.action({"block_id": _CARD_ACTIONS, "action_id": ids.DENY})
    async def deny_clicked(
        ack: AsyncAck, body: Payload, action: Payload, context: AsyncBoltContext, respond: AsyncRespond
    ) -> None:
        await verdict_clicked(ack, body, action, context, respond, Verdict.DENY)

    @app.action({"block_id": _CARD_ACTIONS, "action_id": ids.DURATION})
    @app.action(ids.OPEN_IN_MARKETPLACE)
    @app.action({"block_id": ids.REMINDER_ACTIONS_BLOCK, "action_id": ids.VIEW_REQUEST})
    @app.action(ids.REQUEST_AGAIN)  # the url button of expiry notices sent before self-service
    async def nothing_to_do(ack: AsyncAck) -> None:
        # The picker is read when Approve is clicked, and the links open in the browser; Slack still
        # wants every interaction acknowledged.
        await ack()

    async def snooze_clicked(
        ack: AsyncAck, action: Payload, context: AsyncBoltContext, respond: AsyncRespond
    ) -> None:
        await ack()
        if reminders is None:
            return
        record_id, user_id = str(action.get("value") or ""), context.user_id
        if not record_id or not user_id:
            await _answer(respond, sentences.BUTTON_WITHOUT_REQUEST)
            return
        days = ids.SNOOZE_DAYS[str(action.get("action_id"))]
        hand_off(
            tasks,
            reminders.snooze(user_id=user_id, record_id=record_id, days=days, channel=context.channel_id),
            name="snooze",
            context=context,
            busy=teller,
        )

    for snooze_id in ids.SNOOZE_DAYS:
        app.action({"block_id": ids.REMINDER_ACTIONS_BLOCK, "action_id": snooze_id})(snooze_clicked)

    @app.action(ids.LINK_ACCOUNT)
    async def link_clicked(ack: AsyncAck, body: Payload, context: AsyncBoltContext) -> None:
        await ack()
        hand_off(
            tasks,
            accounts.start_link(trigger_id=str(body.get("trigger_id") or ""), channel=context.channel_id),
            name="start-link",
            context=context,
            busy=teller,
        )


def register_modals(
    app: AsyncApp,
    decisions: Decisions,
    accounts: Accounts,
    tasks: BackgroundTasks,
    service: SelfService | None = None,
) -> None:
    """Submissions of the Approve, Deny and link-account modals."""

    async def decision_submitted(ack: AsyncAck, view: Payload, context: AsyncBoltContext) -> None:
        verdict = Verdict.APPROVE if view.get("callback_id") == ids.APPROVE_MODAL else Verdict.DENY
        parsed = parse_decision_submission(view, verdict=verdict)
        if not isinstance(parsed, Decision):
            await ack(response_action="errors", errors=parsed)
            return
        # Only whether the form names a request is looked at here; whether it was signed for this
        # steward, team and verdict is the workflow's to check (it holds the keys), before anything.
        metadata = str(view.get("private_metadata") or "")
        request_id, user_id = str((peek(metadata) or {}).get("r") or ""), context.user_id
        if not request_id or not user_id:
            errors = {shown_block_id(view, ids.REASON_BLOCK): sentences.FORM_WITHOUT_REQUEST.text}
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        tasks.offer(
            decisions.submit(
                team_id=installation_team(context), user_id=user_id, decision=parsed, context=metadata
            ),
            name="submit-decision",
            urgent=True,
        )

    app.view(ids.APPROVE_MODAL)(decision_submitted)
    app.view(ids.DENY_MODAL)(decision_submitted)

    @app.view(ids.LINK_MODAL)
    async def link_submitted(ack: AsyncAck, view: Payload, context: AsyncBoltContext) -> None:
        token = parse_link_submission(view)
        if not isinstance(token, str):
            await ack(response_action="errors", errors=token)
            return
        keep_handed_secret(token)  # whatever logs it from here on (Bolt included), it is redacted
        resume = resume_of(_context(view))
        if resume is not None and service is not None:
            # Shown for a request: the modal stays open ("Loading…") and lands back in the request.
            await ack(response_action="update", view=request_loading_modal())
            tasks.offer(
                service.link_then_resume(
                    modal=ModalRef(str(view.get("id") or ""), None),
                    team_id=installation_team(context),
                    user_id=context.user_id or "",
                    token=SecretStr(token),
                    channel=_context(view).get("c"),
                    start=resume,
                ),
                name="link-then-request",
                urgent=True,
            )
            return
        await ack()
        tasks.offer(
            accounts.complete_link(
                team_id=installation_team(context),
                user_id=context.user_id or "",
                token=SecretStr(token),
                channel=_context(view).get("c"),
            ),
            name="complete-link",
            urgent=True,
        )


def register_commands(
    app: AsyncApp,
    accounts: Accounts,
    tasks: BackgroundTasks,
    *,
    digests: Digests | None = None,
    workflow: Workflow | None = None,
    busy: BusyTeller | None = None,
) -> None:
    """`/marketplace request [name] | requests | link | unlink | digest | help`."""
    teller = busy or BusyTeller()
    service = workflow.self_service if workflow is not None else None
    home = workflow.home if workflow is not None else None

    @app.command(ids.SLASH_COMMAND)
    async def slash(
        ack: AsyncAck, command: Payload, context: AsyncBoltContext, respond: AsyncRespond
    ) -> None:
        await ack()
        words = str(command.get("text") or "").split()
        sub = words[0].lower() if words else "help"
        user_id, channel = context.user_id or "", context.channel_id
        if sub == "link":
            trigger_id = str(command.get("trigger_id") or "")
            hand_off(
                tasks,
                accounts.start_link(trigger_id=trigger_id, channel=channel),
                name="start-link",
                context=context,
                busy=teller,
            )
        elif sub == "unlink":
            hand_off(
                tasks,
                accounts.unlink(team_id=installation_team(context), user_id=user_id, channel=channel),
                name="unlink",
                context=context,
                busy=teller,
            )
        elif sub == "request" and service is not None:
            trigger_id = str(command.get("trigger_id") or "")
            query = str(command.get("text") or "").strip()[len(words[0]) :].strip()
            hand_off(
                tasks,
                service.start(
                    trigger_id=trigger_id,
                    team_id=installation_team(context),
                    user_id=user_id,
                    channel=channel,
                    start=Started(query=query),
                ),
                name="start-request",
                context=context,
                busy=teller,
            )
        elif sub == "requests" and home is not None:
            hand_off(
                tasks,
                home.show_requests(installation_team(context), user_id, channel),
                name="my-requests",
                context=context,
                busy=teller,
            )
        elif sub == "digest" and digests is not None and channel:
            hand_off(
                tasks,
                digests.post_now(channel=channel, user_id=user_id),
                name="digest-now",
                context=context,
                busy=teller,
            )
        elif sub == "help":
            await _answer(respond, sentences.HELP)
        else:
            await _answer(respond, sentences.unknown_command(sub))


def register_events(
    app: AsyncApp,
    accounts: Accounts,
    events: Events,
    tasks: BackgroundTasks,
    *,
    identity: IdentityGuard | None = None,
) -> None:
    @app.event("app_uninstalled")
    @app.event("tokens_revoked")
    async def uninstalled(body: Payload, context: AsyncBoltContext) -> None:
        # Bolt acks events itself. Without the app, stored stewards' tokens have no business existing.
        # A delivery whose ack Slack missed comes again with the same event_id: the workflow acts once.
        team_id = installation_team(context)
        tasks.spawn(
            events.once(body.get("event_id"), lambda: accounts.forget_workspace(team_id)),
            name="forget-workspace",
        )

    @app.event("user_change")
    async def user_changed(body: Payload, event: Payload, context: AsyncBoltContext) -> None:
        # A member's email changed, or they were deactivated: their link ends (once per event id).
        user = event.get("user")
        profile = profile_from_user(user) if isinstance(user, dict) else None
        if identity is None or profile is None:
            return
        guard, team_id = identity, installation_team(context)
        tasks.spawn(
            events.once(body.get("event_id"), lambda: guard.user_changed(team_id, profile)),
            name="user-changed",
        )


async def _answer(respond: AsyncRespond, sentence: Sentence) -> None:
    """One sentence only the person who acted sees, through the response URL Slack gave us."""
    # Through the one renderer of catalogue sentences, so a sentence's mention reaches this surface too.
    text = sentence_text(sentence.text, sentence.mention, FALLBACK_TEXT_MAX)
    await respond(text=text, response_type="ephemeral", replace_original=False)


def _duration_choice(body: Payload) -> str:
    """The duration picked next to Approve: the live selection, else the picker's initial option; ""
    where there is no picker (App Home): the form then preselects the requester's answer."""
    values = (body.get("state") or {}).get("values") or {}
    for block in values.values():
        picked = (block.get(ids.DURATION) or {}).get("selected_option")
        if picked:
            return str(picked.get("value"))
    for block in (body.get("message") or {}).get("blocks") or []:
        for element in block.get("elements") or []:
            if element.get("action_id") == ids.DURATION and element.get("initial_option"):
                return str(element["initial_option"]["value"])
    return ids.DURATION_INDEFINITE if body.get("message") else ""


def _context(view: Payload) -> dict[str, Any]:
    try:
        value = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}
