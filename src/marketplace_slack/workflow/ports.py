"""The narrow interfaces the workflow declares for the world it talks to: Slack and the Marketplace.

The workflow decides; an implementation of these only renders and delivers (`slack/messenger.py` does
it with Slack's Web API, `marketplace/gateway.py` with the Marketplace's). Slack is split by surface:
`Cards` in channels, `Replies` of one sentence to one person, `Notices` (DMs and posts besides the
card) and `Modals`, and each part of the workflow asks only for the surfaces it uses. Keeping Slack
behind this seam is what lets the workflow be read, and tested, without Block Kit in sight.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from pydantic import SecretStr

from marketplace_slack.domain import (
    AccessRequest,
    Actor,
    ApprovalStep,
    Approver,
    CardState,
    Decision,
    Person,
    RequestKind,
    RequestStatus,
    Verdict,
)
from marketplace_slack.store.marks import OutcomeUnknown
from marketplace_slack.workflow.sentences import Sentence


@dataclass(frozen=True, slots=True)
class MessageRef:
    channel: str
    ts: str


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a message goes: a channel, a card's thread, or a direct message with a user."""

    channel: str | None = None
    thread_ts: str | None = None
    user_id: str | None = None

    @classmethod
    def thread(cls, ref: MessageRef) -> Destination:
        return cls(channel=ref.channel, thread_ts=ref.ts)

    @classmethod
    def in_channel(cls, channel: str) -> Destination:
        return cls(channel=channel)

    @classmethod
    def dm(cls, user_id: str) -> Destination:
        return cls(user_id=user_id)


@dataclass(frozen=True, slots=True)
class SlackPerson:
    """Someone found in Slack: who to mention, and the time zone on their profile."""

    user_id: str
    tz: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class SlackProfile:
    """Who a Slack user is now, as far as vouching for their linked Marketplace account goes."""

    user_id: str
    email: str | None
    deleted: bool = False
    restricted: bool = False  # a multi-channel guest
    ultra_restricted: bool = False  # a single-channel guest
    stranger: bool = False  # of another organisation, seen through a shared channel
    team_id: str | None = None  # their own team (None: Slack did not say)
    email_confirmed: bool = True


# What the workflow asks Slack to say besides the card: reminders, escalations, digests, expiry
# notices. Plain frozen values, free of Block Kit: the workflow decides who gets which, `slack/`
# renders and delivers them. Untrusted strings stay raw here; the renderers escape them.
@dataclass(frozen=True, slots=True)
class ReminderNote:
    """One reminder about one approval step, to `recipients` (Slack user ids, mentioned)."""

    request_id: str
    record_id: str
    product_name: str
    kind: RequestKind
    requester: Person
    waiting_since: datetime  # when the step became open
    recipients: tuple[str, ...]
    number: int  # 1 for the first reminder
    step_number: int | None = None
    steps_total: int = 1
    card_url: str | None = None  # the card's permalink, for reminders outside its thread
    marketplace_url: str | None = None
    notify_only: bool = False  # its route decides in the Marketplace: the reminder points there


@dataclass(frozen=True, slots=True)
class EscalationNote:
    """A step that stayed undecided after its reminders, for an escalation channel or user group."""

    request_id: str
    record_id: str
    product_name: str
    kind: RequestKind
    requester: Person
    waiting_since: datetime
    reminders: int
    not_acted: tuple[str, ...]  # names of the reminded approvers, shown, not mentioned
    approvers: tuple[Approver, ...] = ()
    usergroup: str | None = None  # a Slack user group id to mention
    step_number: int | None = None
    steps_total: int = 1
    card_url: str | None = None
    marketplace_url: str | None = None
    notify_only: bool = False


@dataclass(frozen=True, slots=True)
class DigestEntry:
    """One pending request as a digest lists it (from what its card last showed)."""

    request_id: str
    product_name: str
    requester: str  # a name, never a mention: a digest pings nobody
    created_at: datetime
    product_id: str = ""
    risk: str | None = None
    waiting_for: tuple[Approver, ...] = ()
    step_number: int | None = None
    steps_total: int = 1
    card: MessageRef | None = None
    url: str | None = None  # the card's permalink, once known


@dataclass(frozen=True, slots=True)
class Digest:
    entries: tuple[DigestEntry, ...]
    scope: str = "channel"  # "channel": the requests whose cards are in this channel; "all"


@dataclass(frozen=True, slots=True)
class ExpiryNote:
    """Temporary access ending soon, for the member who holds it."""

    request_id: str
    product_id: str
    product_name: str
    kind: RequestKind
    expires_at: datetime
    timezone: str  # the member's, for the fallback text (Slack renders dates per reader anyway)
    marketplace_url: str | None = None


def age_words(delta: timedelta) -> str:
    """`45 minutes`, `5 hours`, `3 days`: coarse on purpose, it is read at a glance."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 60:
        return f"{minutes} minute{'' if minutes == 1 else 's'}"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} hour{'' if hours == 1 else 's'}"
    days = hours // 24
    return f"{days} days"


def step_key(step: ApprovalStep) -> str:
    """The delivery key of a determination's thread reply (its once-mark, and its message's tag)."""
    return f"step:{step.id}:{step.status.value}"


def dm_key(request: AccessRequest) -> str:
    """The delivery key of the requester's DM about how the request ended."""
    return f"dm:{request.id}:{request.status.value}"


def filer_dm_key(request: AccessRequest) -> str:
    """The same DM, to whoever filed the request for someone else."""
    return f"dm:{request.id}:{request.status.value}:filer"


def filed_key(request_id: str) -> str:
    """Marks a request filed from Slack: its people hear how it ended even if it never had a card."""
    return f"filed:{request_id}"


class CardError(Exception):
    """Slack would not take a card where it was meant to go; the workflow decides what happens next."""


class ChannelUnavailable(CardError):
    """The bot cannot post in `channel` now: `reason` is Slack's word for it (`not_in_channel`,
    `channel_not_found` for a private channel the bot is not in, `is_archived`, `missing_scope`...)."""

    def __init__(self, channel: str, reason: str) -> None:
        super().__init__(f"cannot post in {channel}: {reason}")
        self.channel = channel
        self.reason = reason


class MessageGone(CardError):
    """The card at `ref` can no longer be changed (`message_not_found`: deleted; `is_archived`)."""

    def __init__(self, ref: MessageRef, reason: str) -> None:
        super().__init__(f"card {ref.channel}/{ref.ts} cannot be updated: {reason}")
        self.ref = ref
        self.reason = reason


class DeliveryUnknown(OutcomeUnknown):
    """Nobody can tell whether a message reached Slack: a post's answer was lost twice, or lost once
    and the channel's history could not be read to find it (a missing history scope...). Whoever
    guards the message (a card claim, a once-mark) keeps its claim held: the message is then late,
    retried with a look first once the claim's lease lapses, and never doubled."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"delivery of {key} unknown: {reason}")
        self.key = key
        self.reason = reason


class Cards(Protocol):
    """Request cards in channels, and their threads."""

    async def post_request(
        self, channel: str, state: CardState, *, look_first: bool = False, replacing: MessageRef | None = None
    ) -> MessageRef:
        """Post a new request card; return where it landed. Raises ChannelUnavailable, DeliveryUnknown.

        `look_first`: an earlier attempt may have posted it (its owner died): find it and adopt it
        before posting. An ambiguous answer (timeout, dropped connection, 5xx) is looked into the
        same way before posting once more. `replacing`: a card that can no longer be updated, which
        is never the one adopted."""
        ...

    async def update_request(self, ref: MessageRef, state: CardState) -> None:
        """Replace a card with the rendering of `state`. Raises MessageGone, or ChannelUnavailable when
        the bot can no longer see the card's channel (taken out of a private channel)."""
        ...

    async def retire(self, ref: MessageRef, state: CardState, *, live: MessageRef | None = None) -> None:
        """Make a second card of one request (an orphan that lost a race) true and inert: `state`
        without buttons, pointing to the `live` card."""
        ...

    async def announce_step(
        self, ref: MessageRef, request: AccessRequest, step: ApprovalStep, *, look_first: bool = False
    ) -> None:
        """Record a determination as a reply in the card's thread. Raises DeliveryUnknown."""
        ...

    async def permalink(self, ref: MessageRef) -> str | None:
        """A link to a posted message (a card), or None when Slack will not give one."""
        ...


class Replies(Protocol):
    """One sentence for one person, answering something they did."""

    async def tell(self, *, user_id: str, channel: str | None, sentence: Sentence) -> None:
        """Only `user_id` sees it: ephemeral in `channel`, or a DM when there is none."""
        ...

    async def prompt_link(self, *, user_id: str, channel: str | None, sentence: Sentence) -> None:
        """Like `tell`, with a button that starts account linking."""
        ...


class Notices(Protocol):
    """Messages the workflow sends on its own: to requesters, approvers, members and channels."""

    # Each message is tagged with its delivery `key` (a once-mark's), so that after an ambiguous
    # answer, or with `look_first`, it is looked for before it is posted (again); see `Cards`.

    async def notify_requester(
        self, slack_user_id: str, request: AccessRequest, *, look_first: bool = False, as_filer: bool = False
    ) -> None:
        """Tell the requester (`as_filer`: whoever filed it for them), in a DM, how their request ended.
        Raises DeliveryUnknown."""
        ...

    async def send_reminder(
        self, to: Destination, note: ReminderNote, *, key: str | None = None, look_first: bool = False
    ) -> MessageRef:
        """A reminder with snooze buttons, in a card's thread (mentioning its recipients) or a DM."""
        ...

    async def send_escalation(
        self, to: Destination, note: EscalationNote, *, key: str | None = None, look_first: bool = False
    ) -> MessageRef: ...

    async def send_digest(
        self, to: Destination, digest: Digest, *, key: str | None = None, look_first: bool = False
    ) -> MessageRef:
        """A digest, with a link to each card it shows."""
        ...

    async def send_expiry_notice(
        self, user_id: str, note: ExpiryNote, *, key: str | None = None, look_first: bool = False
    ) -> MessageRef: ...

    async def notify_owner(self, user_id: str, sentence: Sentence) -> None:
        """Tell someone responsible for a channel (a route's owner), in a DM, what is wrong with it."""
        ...

    async def send_link_notice(
        self, user_id: str, sentence: Sentence, *, key: str | None = None, look_first: bool = False
    ) -> MessageRef:
        """A DM about the person's own link (ended, or ending soon), with a button to link again."""
        ...


@dataclass(frozen=True, slots=True)
class ModalRef:
    """A modal the app opened: its view id, and the hash Slack gave its last rendering."""

    view_id: str
    hash: str | None = None


class Modals(Protocol):
    """Modals. A click's trigger id lasts 3 seconds and a Marketplace call may take longer, so a click
    opens a modal at once (`open_pending`) and the slow work's outcome replaces it (`show_*`)."""

    async def open_pending(self, trigger_id: str, verdict: Verdict) -> ModalRef | None:
        """Open the "Checking…" modal for Approve or Deny; None when Slack would not (an expired trigger)."""
        ...

    async def show_decision_form(
        self,
        modal: ModalRef,
        request: AccessRequest,
        verdict: Verdict,
        *,
        initial_duration: str,
        context: str,
    ) -> None:
        """Turn the modal into the Approve or Deny form; `context` comes back with the submission."""
        ...

    async def show_refusal(self, modal: ModalRef, verdict: Verdict, sentence: Sentence) -> None:
        """Turn the modal into one sentence saying why the steward cannot decide, with a Close button."""
        ...

    async def show_link_form(self, modal: ModalRef, sentence: Sentence, *, context: str) -> None:
        """Turn the modal into the link-account form, led by `sentence` (why it is asked for)."""
        ...

    async def open_link_form(self, trigger_id: str, *, context: str) -> None:
        """Open the modal that asks for a Marketplace personal access token."""
        ...


class Messenger(Cards, Replies, Notices, Modals, Protocol):
    """Every Slack surface at once, as the composition root hands it out."""


class Directory(Protocol):
    """Who is who in Slack, by email (Slack and Marketplace users are matched by email)."""

    async def slack_id_for_email(self, email: str) -> str | None: ...

    async def person_for_email(self, email: str) -> SlackPerson | None:
        """Like `slack_id_for_email`, with the profile's time zone and name."""
        ...

    async def email_of(self, slack_user_id: str) -> str | None: ...

    async def profile_of(self, slack_user_id: str) -> SlackProfile | None:
        """The user's profile as Slack has it now (never from the store's cache); None when unreadable."""
        ...

    async def usergroup_members(self, usergroup_id: str) -> list[str]:
        """Slack user ids in a user group (empty when it cannot be read)."""
        ...


class Gateway(Protocol):
    """The Marketplace as cards, decisions and linking see it: domain objects in and out."""

    async def load(
        self,
        request_id: str,
        *,
        enrich: bool = True,
        find_people: Callable[[list[str]], Awaitable[Mapping[str, str | None]]] | None = None,
    ) -> AccessRequest: ...

    async def whoami(self, token: SecretStr) -> Actor: ...

    async def decide(self, token: SecretStr, step_id: str, decision: Decision) -> ApprovalStep:
        """Record a determination with the steward's token; the record as the PUT's answer has it."""
        ...

    async def steps(
        self,
        request_id: str,
        *,
        find_people: Callable[[list[str]], Awaitable[Mapping[str, str | None]]] | None = None,
    ) -> tuple[ApprovalStep, ...]:
        """The request's approval records as they stand now (one call)."""
        ...

    async def after_decision(
        self,
        request: AccessRequest,
        answers: Sequence[ApprovalStep],
        *,
        find_people: Callable[[list[str]], Awaitable[Mapping[str, str | None]]] | None = None,
    ) -> AccessRequest:
        """`request` once the Marketplace answered `answers`: read again only where its rules do not
        tell what the determination did to the request."""
        ...

    async def record(self, request_id: str, record_id: str) -> ApprovalStep | None:
        """One approval record as it stands now; None when the request has no such record."""
        ...

    def pending_request_ids(self) -> AsyncIterator[str]:
        """Ids of the PENDING requests the app's own account can manage."""
        ...

    def request_changes(
        self, *, since: datetime | None = None
    ) -> AsyncIterator[tuple[str, RequestStatus, datetime]]:
        """(id, status, the Marketplace's updatedAt) of the requests the app can see, most recently
        changed first, ending before the first one changed before `since` (None: every one)."""
        ...
