"""Bolt listeners: acknowledge first, hand the work to the workflow, answer bad input in one sentence.

Nothing here decides policy. Each listener reads what Slack sent, acks within Slack's 3 seconds, and
starts the workflow in the background.
"""

from __future__ import annotations

import json
from typing import Any

import structlog
from pydantic import SecretStr
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from marketplace_slack.domain import Decision, Verdict
from marketplace_slack.infra.tasks import BackgroundTasks
from marketplace_slack.slack import ids
from marketplace_slack.slack.views import parse_decision_submission
from marketplace_slack.workflow.digests import Digests
from marketplace_slack.workflow.reminders import Reminders
from marketplace_slack.workflow.service import Workflow

log = structlog.get_logger(__name__)

HELP = (
    "*/marketplace link*: link your Marketplace account, so you can approve and deny requests here.\n"
    "*/marketplace unlink*: forget your linked account and delete its token.\n"
    "*/marketplace digest*: post the requests waiting for a decision in this channel, now.\n"
    "*/marketplace help*: this message."
)


def register(
    app: AsyncApp,
    workflow: Workflow,
    tasks: BackgroundTasks,
    *,
    reminders: Reminders | None = None,
    digests: Digests | None = None,
) -> None:
    """Attach every listener the app has to `app`."""

    async def on_verdict(ack: AsyncAck, body: dict[str, Any], verdict: Verdict) -> None:
        await ack()
        action = (body.get("actions") or [{}])[0]
        tasks.spawn(
            workflow.start_decision(
                team_id=_team_id(body),
                user_id=body["user"]["id"],
                request_id=str(action.get("value", "")),
                verdict=verdict,
                trigger_id=body.get("trigger_id", ""),
                channel=_channel_id(body),
                message_ts=(body.get("container") or {}).get("message_ts"),
                duration_choice=_duration_choice(body),
            ),
            name=f"start-{verdict.value.lower()}",
        )

    @app.action(ids.APPROVE)
    async def approve_clicked(ack: AsyncAck, body: dict[str, Any]) -> None:
        await on_verdict(ack, body, Verdict.APPROVE)

    @app.action(ids.DENY)
    async def deny_clicked(ack: AsyncAck, body: dict[str, Any]) -> None:
        await on_verdict(ack, body, Verdict.DENY)

    @app.action(ids.DURATION)
    @app.action(ids.OPEN_IN_MARKETPLACE)
    @app.action(ids.VIEW_REQUEST)
    @app.action(ids.REQUEST_AGAIN)
    async def nothing_to_do(ack: AsyncAck) -> None:
        # The picker is read when Approve is clicked, and the link opens in the browser; Slack still
        # wants every interaction acknowledged.
        await ack()

    async def on_snooze(ack: AsyncAck, body: dict[str, Any], days: int) -> None:
        await ack()
        if reminders is None:
            return
        action = (body.get("actions") or [{}])[0]
        tasks.spawn(
            reminders.snooze(
                user_id=body["user"]["id"],
                record_id=str(action.get("value", "")),
                days=days,
                channel=_channel_id(body),
            ),
            name="snooze",
        )

    @app.action(ids.SNOOZE_1D)
    async def snooze_one_day(ack: AsyncAck, body: dict[str, Any]) -> None:
        await on_snooze(ack, body, ids.SNOOZE_DAYS[ids.SNOOZE_1D])

    @app.action(ids.SNOOZE_3D)
    async def snooze_three_days(ack: AsyncAck, body: dict[str, Any]) -> None:
        await on_snooze(ack, body, ids.SNOOZE_DAYS[ids.SNOOZE_3D])

    @app.action(ids.LINK_ACCOUNT)
    async def link_clicked(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        tasks.spawn(
            workflow.start_link(trigger_id=body.get("trigger_id", ""), channel=_channel_id(body)),
            name="start-link",
        )

    async def on_decision_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        parsed = parse_decision_submission(view, verdict=_verdict_of(view))
        if not isinstance(parsed, Decision):
            await ack(response_action="errors", errors=parsed)
            return
        await ack()
        context = _context(view)
        tasks.spawn(
            workflow.submit_decision(
                team_id=_team_id(body),
                user_id=body["user"]["id"],
                request_id=str(context.get("r", "")),
                decision=parsed,
                channel=context.get("c"),
            ),
            name="submit-decision",
        )

    @app.view(ids.APPROVE_MODAL)
    async def approve_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        await on_decision_submitted(ack, body, view)

    @app.view(ids.DENY_MODAL)
    async def deny_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        await on_decision_submitted(ack, body, view)

    @app.view(ids.LINK_MODAL)
    async def link_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        token = (
            ((view.get("state") or {}).get("values") or {})
            .get(ids.TOKEN_BLOCK, {})
            .get(ids.TOKEN_INPUT, {})
            .get("value")
            or ""
        ).strip()
        if not token:
            await ack(
                response_action="errors",
                errors={ids.TOKEN_BLOCK: "Paste a Marketplace personal access token."},
            )
            return
        await ack()
        tasks.spawn(
            workflow.complete_link(
                team_id=_team_id(body),
                user_id=body["user"]["id"],
                token=SecretStr(token),
                channel=_context(view).get("c"),
            ),
            name="complete-link",
        )

    @app.event("app_uninstalled")
    @app.event("tokens_revoked")
    async def uninstalled(body: dict[str, Any]) -> None:
        # Bolt acks events itself. Without the app, stored stewards' tokens have no business existing.
        tasks.spawn(workflow.forget_workspace(str(body.get("team_id") or "")), name="forget-workspace")

    @app.command(ids.SLASH_COMMAND)
    async def slash(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        words = (body.get("text") or "").split()
        sub = words[0].lower() if words else "help"
        user_id, channel = body.get("user_id", ""), body.get("channel_id")
        if sub == "link":
            tasks.spawn(
                workflow.start_link(trigger_id=body.get("trigger_id", ""), channel=channel), name="start-link"
            )
        elif sub == "unlink":
            tasks.spawn(
                workflow.unlink(team_id=body.get("team_id", ""), user_id=user_id, channel=channel),
                name="unlink",
            )
        elif sub == "digest" and digests is not None and channel:
            tasks.spawn(digests.post_now(channel=channel, user_id=user_id), name="digest-now")
        elif sub == "help":
            await respond(text=HELP, response_type="ephemeral")
        else:
            await respond(
                text=f"I don't know `{_escape(sub[:40])}`. Try `/marketplace help`.",
                response_type="ephemeral",
            )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _team_id(body: dict[str, Any]) -> str:
    team = body.get("team") or {}
    return str(team.get("id") or (body.get("user") or {}).get("team_id") or body.get("team_id") or "")


def _channel_id(body: dict[str, Any]) -> str | None:
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    return str(channel) if channel else None


def _duration_choice(body: dict[str, Any]) -> str:
    """The duration picked next to Approve: the live selection, else the picker's initial option."""
    values = (body.get("state") or {}).get("values") or {}
    for block in values.values():
        picked = (block.get(ids.DURATION) or {}).get("selected_option")
        if picked:
            return str(picked.get("value"))
    for block in (body.get("message") or {}).get("blocks") or []:
        for element in block.get("elements") or []:
            if element.get("action_id") == ids.DURATION and element.get("initial_option"):
                return str(element["initial_option"]["value"])
    return ids.DURATION_INDEFINITE


def _verdict_of(view: dict[str, Any]) -> Verdict:
    return Verdict.APPROVE if view.get("callback_id") == ids.APPROVE_MODAL else Verdict.DENY


def _context(view: dict[str, Any]) -> dict[str, Any]:
    try:
        value = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}
