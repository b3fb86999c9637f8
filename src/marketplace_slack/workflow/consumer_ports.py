"""What self-service asks of Slack: the request modal's states, App Home, and the "my requests" list.

Like `ports`, plain values in and Block Kit nowhere: the workflow decides what a consumer sees, the
renderers in `slack/request_views.py` and `slack/home.py` draw it. Untrusted strings stay raw here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from marketplace_slack.domain import AccessRequest, Person
from marketplace_slack.domain.forms import RequestDraft
from marketplace_slack.workflow.ports import ModalRef
from marketplace_slack.workflow.sentences import Sentence
from marketplace_slack.workflow.unfurls import UnfurlSlack


@dataclass(frozen=True, slots=True)
class Filed:
    """A request the Marketplace took: what the confirmation shows."""

    request: AccessRequest  # its status, steps (who reviews it) and expiry, as filed
    url: str | None = None  # the request in the Marketplace
    card_url: str | None = None  # where stewards see it in Slack, once its card is posted
    for_person: Person | None = None  # requested for someone else: who


@dataclass(frozen=True, slots=True)
class HomeSnapshot:
    """One person's App Home, read with their own token."""

    now: datetime
    linked_as: str | None = None  # their Marketplace username; None: not linked
    link_expires_at: datetime | None = None
    waiting_on_me: tuple[AccessRequest, ...] = ()  # awaiting their review, oldest first
    my_pending: tuple[AccessRequest, ...] = ()  # their own, pending, newest first
    my_recent: tuple[AccessRequest, ...] = ()  # their own, settled recently (denied, canceled, ...)
    my_access: tuple[AccessRequest, ...] = ()  # their active grants (approved, not expired)
    notice: Sentence | None = None  # why part of it could not be read (the Marketplace unreachable...)


class RequestModals(Protocol):
    """The request modal. A trigger lasts 3 s and forms take longer to read, so the modal opens at once
    in a loading state and the form (or why there is none) replaces it."""

    async def open_request_loading(self, trigger_id: str) -> ModalRef | None:
        """Open the modal saying the form is loading; None when Slack would not (an expired trigger)."""
        ...

    async def show_request_form(self, modal: ModalRef, draft: RequestDraft, *, context: str) -> None:
        """Turn the modal into the request form for `draft`; `context` comes back with the submission."""
        ...

    async def show_request_notice(
        self, modal: ModalRef, sentence: Sentence, *, url: str | None = None
    ) -> None:
        """Turn the modal into one sentence (an error, "you already have access"), with an optional link."""
        ...

    async def show_request_filed(self, modal: ModalRef, filed: Filed) -> None:
        """Turn the modal into the confirmation of a filed request."""
        ...

    async def show_link_form(self, modal: ModalRef, sentence: Sentence, *, context: str) -> None:
        """Turn the modal into the link-account form (as `Modals` does), led by `sentence`."""
        ...


class Home(Protocol):
    async def publish_home(self, user_id: str, snapshot: HomeSnapshot) -> None:
        """Publish `snapshot` as the user's App Home (`views.publish`)."""
        ...

    async def show_requests(self, user_id: str, channel: str | None, snapshot: HomeSnapshot) -> None:
        """The "my requests" part of `snapshot`, as an ephemeral message (a DM when no channel)."""
        ...


class ConsumerSlack(RequestModals, Home, UnfurlSlack, Protocol):
    """Both self-service surfaces at once, as the composition root hands them out."""
