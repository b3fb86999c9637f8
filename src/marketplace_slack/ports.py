"""The narrow interfaces the workflow declares for the outside world it talks to in Slack.

`service.Workflow` decides; an implementation of these only renders and delivers (`slack/notifier.py`
does it with Slack's Web API). Keeping Slack behind this seam is what lets the workflow be read, and
tested, without Block Kit in sight.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from marketplace_slack.domain import AccessRequest, ApprovalStep, CardState, Verdict


@dataclass(frozen=True, slots=True)
class MessageRef:
    channel: str
    ts: str


class Messenger(Protocol):
    async def post_request(self, channel: str, state: CardState) -> MessageRef:
        """Post a new request card; return where it landed."""
        ...

    async def update_request(self, ref: MessageRef, state: CardState) -> None:
        """Replace a card with the rendering of `state`."""
        ...

    async def announce_step(self, ref: MessageRef, request: AccessRequest, step: ApprovalStep) -> None:
        """Record a determination as a reply in the card's thread."""
        ...

    async def notify_requester(self, slack_user_id: str, request: AccessRequest) -> None:
        """Tell the requester, in a DM, how their request ended."""
        ...

    async def tell(self, *, user_id: str, channel: str | None, text: str) -> None:
        """One sentence only `user_id` sees: ephemeral in `channel`, or a DM when there is none."""
        ...

    async def prompt_link(self, *, user_id: str, channel: str | None, text: str) -> None:
        """Like `tell`, with a button that starts account linking."""
        ...

    async def open_decision_form(
        self,
        trigger_id: str,
        request: AccessRequest,
        verdict: Verdict,
        *,
        initial_duration: str,
        context: str,
    ) -> None:
        """Open the Approve or Deny modal; `context` comes back with the submission."""
        ...

    async def open_link_form(self, trigger_id: str, *, context: str) -> None:
        """Open the modal that asks for a Marketplace personal access token."""
        ...


class Directory(Protocol):
    """Who is who in Slack, by email (Slack and Marketplace users are matched by email)."""

    async def slack_id_for_email(self, email: str) -> str | None: ...

    async def email_of(self, slack_user_id: str) -> str | None: ...
