"""Which workspace a payload is for: the installation's, the same for every kind of payload."""

from __future__ import annotations

from slack_bolt.async_app import AsyncBoltContext


def installation_team(context: AsyncBoltContext) -> str:
    """The workspace a link is kept under, the same for every payload: the one the app is installed in.

    Bolt's `context.team_id` is read from a different field for each kind of payload: a modal's
    `view.app_installed_team_id` first, a slash command's `team_id` (the workspace it ran in), a
    click's `team.id`. In an Enterprise Grid organisation or a Slack Connect channel these differ, so a
    link made from the modal and an unlink from the command were keyed apart, and the unlink deleted
    nothing. The installation's team, from `auth.test` with the app's one bot token, is the same for
    all of them; the events that skip `auth.test` (`app_uninstalled`, `tokens_revoked`) name the
    installation's workspace themselves."""
    authorized = context.authorize_result
    return (authorized.team_id if authorized is not None else None) or context.team_id or ""
