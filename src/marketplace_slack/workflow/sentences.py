"""Every sentence a person reads about an outcome, in one place: one `Outcome`, one wording.

The workflow and the listeners never write a sentence at the call site; they pick one here, filled in
with the names it carries. A `Sentence` holds plain words: values from users or the Marketplace (a
username, a refusal's detail, a mistyped command) stay raw, and the Slack renderer escapes the whole
sentence exactly once when it delivers it. So a sentence carries no mrkdwn of its own: the renderer
cannot tell our `*` from a username's, and shows every one literally.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum, auto
from typing import Final

from marketplace_slack.domain import Refusal
from marketplace_slack.domain.forms import DURATION_AMOUNT_MAX


class Outcome(StrEnum):
    """What happened, as the person who acted is told; the value names it in logs."""

    # Deciding
    LINK_FIRST = auto()
    RELINK_NEEDED = auto()
    REQUEST_GONE = auto()
    MARKETPLACE_UNREACHABLE = auto()
    DECISION_NOT_RECORDED = auto()  # the card's notice, for everyone in the channel
    DECISION_NOT_TAKEN = auto()  # the steward's own: looked up after a failure, the record still waits
    DECISION_OUTCOME_UNKNOWN = auto()
    FORM_CONTEXT_REFUSED = auto()
    ALREADY_RECORDING = auto()
    SOMEONE_DECIDING = auto()
    ALREADY_DECIDED = auto()
    MARKETPLACE_REFUSED = auto()
    MARKETPLACE_FORBIDDEN = auto()  # a 403 on the decision: its own text stays in the logs
    REQUEST_SETTLED = auto()
    OWN_REQUEST = auto()
    STEP_BLOCKED = auto()
    YOUR_STEP_DECIDED = auto()
    NOT_AN_APPROVER = auto()
    BUTTON_WITHOUT_REQUEST = auto()
    FORM_WITHOUT_REQUEST = auto()
    FORM_NOT_OPENED = auto()
    # The decision form's inputs
    REASON_TOO_LONG = auto()
    REASON_NEEDED = auto()
    DURATION_NEEDED = auto()
    DURATION_UNKNOWN = auto()
    CUSTOM_AMOUNT_NEEDED = auto()
    CUSTOM_AMOUNT_OUT_OF_RANGE = auto()
    CUSTOM_UNIT_NEEDED = auto()
    # Linking
    TOKEN_NOT_ACCEPTED = auto()
    EMAIL_MISMATCH = auto()
    LINKED = auto()
    UNLINKED = auto()
    NOTHING_TO_UNLINK = auto()
    PASTE_TOKEN = auto()
    TOKEN_HAS_SPACES = auto()
    # A link's end: another Slack account linked the same Marketplace user, or its time is up
    LINK_DISPLACED = auto()
    LINK_EXPIRES_SOON = auto()
    LINK_EXPIRED = auto()
    # Who the Slack user is now (checked at every click and submit)
    SLACK_EMAIL_CHANGED = auto()
    SLACK_ACCOUNT_DEACTIVATED = auto()
    SLACK_GUEST = auto()
    SLACK_EXTERNAL = auto()
    SLACK_EMAIL_UNCONFIRMED = auto()
    SLACK_PROFILE_UNREADABLE = auto()
    # Reminders and digests
    NO_REMINDERS_TO_SNOOZE = auto()
    NOTHING_TO_SNOOZE = auto()
    SNOOZED = auto()
    NO_DIGEST_HERE = auto()
    DIGEST_NOT_POSTABLE = auto()
    NOT_A_DIGEST_CHANNEL = auto()
    # Channels the app cannot post in
    CHANNEL_UNAVAILABLE = auto()
    # The slash command
    HELP = auto()
    UNKNOWN_COMMAND = auto()
    # A channel's backlog of new cards (Slack posts about one message a second per channel)
    CARDS_QUEUED = auto()
    # A notify-only route (`decisions: marketplace`): its requests are decided in the Marketplace only
    DECIDE_IN_MARKETPLACE = auto()
    # Requesting access from Slack (self-service)
    LINK_TO_REQUEST = auto()
    PRODUCT_NOT_FOUND = auto()
    ALREADY_HAVE_ACCESS = auto()
    RENEWAL_PLANNED = auto()
    ALREADY_REQUESTED = auto()
    REQUEST_REFUSED = auto()
    REQUEST_CONFLICT = auto()
    REQUEST_OUTCOME_UNKNOWN = auto()
    REQUEST_NOT_FILED = auto()
    REQUEST_CONTEXT_REFUSED = auto()
    REQUEST_CANCELED = auto()
    CANCEL_REFUSED = auto()
    PERSON_NOT_FOUND = auto()
    REQUEST_FILED_UNREAD = auto()
    LINK_NOT_MADE = auto()
    FOR_OTHERS_OFF = auto()
    HOME_UNREADABLE = auto()
    # Requesting: the consumer's request modal (slack/request_views.py)
    REQUEST_FORM_LOADING = auto()
    REQUEST_SUBMITTING = auto()
    REQUEST_PICK_PRODUCT = auto()
    REQUEST_NO_FORM = auto()
    REQUEST_FORM_UNSUPPORTED = auto()
    REQUEST_FORM_TOO_LARGE = auto()
    REQUEST_NO_MASKED_COLUMNS = auto()
    REQUEST_ANSWERS_DROPPED = auto()
    REQUEST_DURATION_AMOUNT_INVALID = auto()
    REQUEST_DURATION_UNIT_NEEDED = auto()
    REQUEST_AGREEMENT_NEEDED = auto()
    REQUEST_COLUMNS_NEEDED = auto()
    REQUEST_FILED = auto()
    REQUEST_APPROVED_AT_ONCE = auto()
    # Too much work already waiting: a click shed rather than queued (infra/tasks.py)
    BUSY = auto()


# Where a sentence names a Slack user, its text says MENTION and `mention` holds the id: the renderer
# escapes the words first and only then puts the mention in, so no other text can become one.
MENTION: Final = "{mention}"


@dataclass(frozen=True, slots=True)
class Sentence:
    outcome: Outcome
    text: str  # plain words, no mrkdwn: escaped once, by whatever renders it, `*` and all
    mention: str | None = None  # a Slack user id, shown where MENTION stands in `text`


LINK_FIRST: Final = Sentence(
    Outcome.LINK_FIRST, "Link your Marketplace account first, so decisions are made in your name."
)
RELINK_NEEDED: Final = Sentence(
    Outcome.RELINK_NEEDED,
    "The Marketplace no longer accepts your linked token; please link your account again.",
)
REQUEST_GONE: Final = Sentence(Outcome.REQUEST_GONE, "This request no longer exists in the Marketplace.")
MARKETPLACE_UNREACHABLE: Final = Sentence(
    Outcome.MARKETPLACE_UNREACHABLE,
    "The Marketplace is not answering right now, so nothing was recorded. Please try again in a minute.",
)
DECISION_NOT_RECORDED: Final = Sentence(
    Outcome.DECISION_NOT_RECORDED,
    "The last decision was not recorded; the request still waits.",
)
DECISION_NOT_TAKEN: Final = Sentence(
    Outcome.DECISION_NOT_TAKEN,
    "Your decision was not recorded: the Marketplace did not take it and the request still waits. "
    "Nothing changed, so you can try again now.",
)
DECISION_OUTCOME_UNKNOWN: Final = Sentence(
    Outcome.DECISION_OUTCOME_UNKNOWN,
    "The Marketplace did not confirm your decision and cannot be asked right now, so it is not known "
    "yet whether it was recorded. The card will be corrected as soon as the Marketplace answers.",
)
FORM_CONTEXT_REFUSED: Final = Sentence(
    Outcome.FORM_CONTEXT_REFUSED,
    "This form was not opened by you for this request, so nothing was recorded. Click Approve or Deny "
    "on the card again.",
)
ALREADY_RECORDING: Final = Sentence(
    Outcome.ALREADY_RECORDING, "Your decision on this request is already being recorded."
)
OWN_REQUEST: Final = Sentence(
    Outcome.OWN_REQUEST, "This request is yours, so another steward has to decide it."
)
STEP_BLOCKED: Final = Sentence(
    Outcome.STEP_BLOCKED, "Your approval is in a later stage: it opens once the earlier stage is approved."
)
NOT_AN_APPROVER: Final = Sentence(
    Outcome.NOT_AN_APPROVER, "You are not an approver of any pending step of this request."
)
BUTTON_WITHOUT_REQUEST: Final = Sentence(
    Outcome.BUTTON_WITHOUT_REQUEST,
    "That button does not say which request it is for, so nothing was done.",
)
FORM_WITHOUT_REQUEST: Final = Sentence(
    Outcome.FORM_WITHOUT_REQUEST,
    "This form does not say which request it is for, so nothing was recorded. Cancel it and click "
    "Approve or Deny on the card again.",
)
FORM_NOT_OPENED: Final = Sentence(
    Outcome.FORM_NOT_OPENED, "Slack did not let the form open in time; please click the button again."
)
REASON_NEEDED: Final = Sentence(
    Outcome.REASON_NEEDED, "Say why the request is denied; the requester will see it."
)
DURATION_NEEDED: Final = Sentence(Outcome.DURATION_NEEDED, "Choose how long access lasts.")
DURATION_UNKNOWN: Final = Sentence(
    Outcome.DURATION_UNKNOWN, "That duration is not one this app offers; choose again."
)
CUSTOM_AMOUNT_NEEDED: Final = Sentence(
    Outcome.CUSTOM_AMOUNT_NEEDED, "Enter how many hours, days... for a custom duration."
)
CUSTOM_UNIT_NEEDED: Final = Sentence(Outcome.CUSTOM_UNIT_NEEDED, "Choose a unit for the custom duration.")
TOKEN_NOT_ACCEPTED: Final = Sentence(Outcome.TOKEN_NOT_ACCEPTED, "The Marketplace did not accept that token.")
SLACK_EMAIL_CHANGED: Final = Sentence(
    Outcome.SLACK_EMAIL_CHANGED,
    "Your Slack email no longer matches the Marketplace account you linked, so the link has ended; "
    "link again with /marketplace link.",
)
SLACK_ACCOUNT_DEACTIVATED: Final = Sentence(
    Outcome.SLACK_ACCOUNT_DEACTIVATED,
    "Your Slack account is deactivated, so your linked Marketplace account has been unlinked.",
)
SLACK_GUEST: Final = Sentence(
    Outcome.SLACK_GUEST, "Guest accounts cannot link a Marketplace account or decide requests here."
)
SLACK_EXTERNAL: Final = Sentence(
    Outcome.SLACK_EXTERNAL,
    "Only members of this workspace can link a Marketplace account or decide requests here, "
    "not people from another organisation.",
)
SLACK_EMAIL_UNCONFIRMED: Final = Sentence(
    Outcome.SLACK_EMAIL_UNCONFIRMED,
    "Confirm the email address on your Slack account first, then try again.",
)
SLACK_PROFILE_UNREADABLE: Final = Sentence(
    Outcome.SLACK_PROFILE_UNREADABLE,
    "Slack could not confirm who you are just now, so nothing was done; try again in a minute.",
)
EMAIL_MISMATCH: Final = Sentence(
    Outcome.EMAIL_MISMATCH,
    "That token belongs to a Marketplace user whose email is not the one on your Slack profile, "
    "so it was not linked.",
)
UNLINKED: Final = Sentence(Outcome.UNLINKED, "Your Marketplace account is unlinked and its token deleted.")
NOTHING_TO_UNLINK: Final = Sentence(Outcome.NOTHING_TO_UNLINK, "No Marketplace account was linked.")
LINK_DISPLACED: Final = Sentence(
    Outcome.LINK_DISPLACED,
    "Your Marketplace account was linked from another Slack account, so this one is no longer linked. "
    "If that was not you, tell your Marketplace administrator; to decide from this account, "
    "run /marketplace link again.",
)
LINK_EXPIRED: Final = Sentence(
    Outcome.LINK_EXPIRED,
    "Your Marketplace link has expired and its token is deleted; run /marketplace link to link again.",
)
PASTE_TOKEN: Final = Sentence(Outcome.PASTE_TOKEN, "Paste your personal access token.")
TOKEN_HAS_SPACES: Final = Sentence(
    Outcome.TOKEN_HAS_SPACES, "A token has no spaces or line breaks; paste just the token."
)
NO_REMINDERS_TO_SNOOZE: Final = Sentence(
    Outcome.NO_REMINDERS_TO_SNOOZE, "You have no reminders about this request to snooze."
)
NOTHING_TO_SNOOZE: Final = Sentence(
    Outcome.NOTHING_TO_SNOOZE, "This request no longer waits for you, so there is nothing to snooze."
)
NO_DIGEST_HERE: Final = Sentence(
    Outcome.NO_DIGEST_HERE, "No request with a card here is waiting for a decision."
)
DIGEST_NOT_POSTABLE: Final = Sentence(
    Outcome.DIGEST_NOT_POSTABLE,
    "The digest could not be posted here; invite the app to this channel and try again.",
)
NOT_A_DIGEST_CHANNEL: Final = Sentence(
    Outcome.NOT_A_DIGEST_CHANNEL,
    "Digests are for channels that get access-request cards or have a digest configured; "
    "this one has neither.",
)
# The Marketplace's own words on a 403 name its internals (approver criteria, record ids) and say
# nothing a steward can act on; this says what they can do.
MARKETPLACE_FORBIDDEN: Final = Sentence(
    Outcome.MARKETPLACE_FORBIDDEN,
    "The Marketplace did not let you decide this request: you may no longer be one of its approvers. "
    "Open it in the Marketplace to check, or ask the data product's owner.",
)
HELP: Final = Sentence(
    Outcome.HELP,
    "/marketplace request [product]: ask for access to a data product, or for a masking exception.\n"
    "/marketplace requests: your requests and what became of them.\n"
    "/marketplace link: link your Marketplace account; the app then acts as you: requests and decisions.\n"
    "/marketplace unlink: forget your linked account and delete its token.\n"
    "/marketplace digest: post the requests waiting for a decision in this channel, now.\n"
    "/marketplace help: this message.",
)


def someone_deciding(slack_user_id: str) -> Sentence:
    return Sentence(
        Outcome.SOMEONE_DECIDING, f"{MENTION} is deciding this step right now.", mention=slack_user_id
    )


def already_decided(status: str | None, by: str | None) -> Sentence:
    """Someone else's determination reached the Marketplace first (`status` lower-case, if known)."""
    return Sentence(
        Outcome.ALREADY_DECIDED, f"This step was already {status or 'decided'} by {by or 'someone else'}."
    )


def marketplace_refused(detail: str) -> Sentence:
    return Sentence(Outcome.MARKETPLACE_REFUSED, f"The Marketplace did not accept your decision: {detail}")


def refusal(reason: Refusal) -> Sentence:
    """Why the steward cannot decide now, as `domain.eligibility` found it."""
    if reason.code == "settled":
        by = f" by {reason.by}" if reason.by is not None else ""
        return Sentence(Outcome.REQUEST_SETTLED, f"This request is already {reason.status}{by}.")
    if reason.code == "own_request":
        return OWN_REQUEST
    if reason.code == "blocked":
        return STEP_BLOCKED
    if reason.code == "decided":
        return Sentence(Outcome.YOUR_STEP_DECIDED, f"Your step was already {reason.status} by {reason.by}.")
    return NOT_AN_APPROVER


def reason_too_long(limit: int) -> Sentence:
    return Sentence(Outcome.REASON_TOO_LONG, f"Keep the reason to {limit} characters or fewer.")


def custom_amount_out_of_range(limit: int) -> Sentence:
    return Sentence(Outcome.CUSTOM_AMOUNT_OUT_OF_RANGE, f"Enter a whole number from 1 to {limit}.")


def linked(username: str) -> Sentence:
    return Sentence(
        Outcome.LINKED,
        f"Linked to the Marketplace as {username}. Decisions you make here are in your name.",
    )


def link_expires_soon(expires_at: datetime) -> Sentence:
    when = expires_at.astimezone(UTC)
    return Sentence(
        Outcome.LINK_EXPIRES_SOON,
        f"Your Marketplace link expires on {when.day} {when:%B %Y at %H:%M} UTC; "
        "run /marketplace link to renew it.",
    )


def snoozed(days: int) -> Sentence:
    word = "day" if days == 1 else "days"
    return Sentence(Outcome.SNOOZED, f"Snoozed: no reminders about this request for {days} {word}.")


# Why the app cannot post in a channel, from Slack's error code, in the words its owner can act on.
_CHANNEL_TROUBLE: Final = {
    "not_in_channel": "the app is not a member of it; invite it with /invite",
    "channel_not_found": "the app cannot see it (a private channel needs the app invited with /invite)",
    "is_archived": "it is archived",
    "missing_scope": "the app lacks a permission for it; reinstall the app with its manifest",
}


def channel_unavailable(channel: str, reason: str) -> Sentence:
    """For a route's owner: cards for `channel` cannot be posted (`reason`: Slack's error code)."""
    trouble = _CHANNEL_TROUBLE.get(reason, f"Slack answers {reason}")
    return Sentence(
        Outcome.CHANNEL_UNAVAILABLE,
        f"Request cards for channel {channel} cannot be posted: {trouble}. They are kept and posted "
        "as soon as the channel takes them.",
    )


def unknown_command(word: str) -> Sentence:
    return Sentence(Outcome.UNKNOWN_COMMAND, f'I don\'t know "{word[:40]}". Try /marketplace help.')


def cards_queued(waiting: int) -> Sentence:
    """The one message in a channel whose new cards queue up behind Slack's rate limit."""
    if waiting <= 0:
        return Sentence(Outcome.CARDS_QUEUED, "All queued requests are posted.")
    requests = "request is" if waiting == 1 else "requests are"
    return Sentence(Outcome.CARDS_QUEUED, f"{waiting:,} more {requests} queued; see the digest.")


DECIDE_IN_MARKETPLACE: Final = Sentence(
    Outcome.DECIDE_IN_MARKETPLACE,
    "Requests like this one are decided in the Marketplace, not in Slack, so nothing was recorded. "
    "Use Review in Marketplace on the card.",
)


# --- requesting access ---
LINK_TO_REQUEST: Final = Sentence(
    Outcome.LINK_TO_REQUEST,
    "Link your Marketplace account first: the app then acts as you, for your requests and decisions. "
    "Your request opens again right after.",
)
REQUEST_OUTCOME_UNKNOWN: Final = Sentence(
    Outcome.REQUEST_OUTCOME_UNKNOWN,
    "The Marketplace did not confirm your request and cannot be asked right now, so it is not known yet "
    "whether it was filed. Check My requests in a minute before asking again.",
)
REQUEST_NOT_FILED: Final = Sentence(
    Outcome.REQUEST_NOT_FILED,
    "The Marketplace did not take your request, so nothing was filed. Please try again in a minute.",
)
REQUEST_CONTEXT_REFUSED: Final = Sentence(
    Outcome.REQUEST_CONTEXT_REFUSED,
    "This form was not opened by you, so nothing was filed. Start a new request with /marketplace request.",
)
MARKETPLACE_UNREACHABLE_READ: Final = Sentence(
    Outcome.HOME_UNREADABLE,
    "The Marketplace is not answering right now, so your requests cannot be shown. Try again in a minute.",
)
FOR_OTHERS_OFF: Final = Sentence(
    Outcome.FOR_OTHERS_OFF, "Requesting access for someone else is turned off here, so nothing was filed."
)
LINK_NOT_MADE: Final = Sentence(
    Outcome.LINK_NOT_MADE,
    "Your account was not linked, so the request cannot go on; the message from the app says why.",
)
PERSON_NOT_FOUND: Final = Sentence(
    Outcome.PERSON_NOT_FOUND,
    "The person you are requesting for has no Marketplace account with their Slack email, so nothing "
    "was filed.",
)
CANCEL_REFUSED: Final = Sentence(
    Outcome.CANCEL_REFUSED, "The Marketplace would not cancel this request; it may have been decided already."
)


def product_not_found(query: str) -> Sentence:
    return Sentence(Outcome.PRODUCT_NOT_FOUND, f"No single data product is named “{query}”: pick one below.")


def already_have_access(product: str, until: datetime | None) -> Sentence:
    if until is None:
        return Sentence(Outcome.ALREADY_HAVE_ACCESS, f"You already have access to {product}.")
    return Sentence(
        Outcome.ALREADY_HAVE_ACCESS,
        f"You already have access to {product} until {until.astimezone(UTC):%Y-%m-%d %H:%M} UTC; "
        "you can request it again once it ends.",
    )


def renewal_planned(product: str, at: datetime) -> Sentence:
    return Sentence(
        Outcome.RENEWAL_PLANNED,
        f"I'll send you a message when your access to {product} ends "
        f"({at.astimezone(UTC):%Y-%m-%d %H:%M} UTC), with a button to request it again.",
    )


def already_requested(product: str) -> Sentence:
    return Sentence(
        Outcome.ALREADY_REQUESTED,
        f"You already asked for access to {product}; that request is still pending.",
    )


def request_refused(detail: str) -> Sentence:
    return Sentence(Outcome.REQUEST_REFUSED, f"The Marketplace refused the request: {detail}")


def request_conflict(detail: str) -> Sentence:
    return Sentence(
        Outcome.REQUEST_CONFLICT,
        f"You already have access or already asked, so the Marketplace kept what is there: {detail}",
    )


def request_filed_unread(request_id: str) -> Sentence:
    return Sentence(
        Outcome.REQUEST_FILED_UNREAD,
        f"Your request {request_id} is filed; the Marketplace will show its status in a moment.",
    )


def request_canceled(product: str) -> Sentence:
    return Sentence(Outcome.REQUEST_CANCELED, f"Your request for {product} is canceled.")


# --- request modal ---
# The consumer's request modal. The fixed sentences are outcomes (one each); the functions after them
# word the modal's own lines (a count, a bound), which are not outcomes and carry no names.

REQUEST_FORM_LOADING: Final = Sentence(Outcome.REQUEST_FORM_LOADING, "Loading the request form…")
REQUEST_SUBMITTING: Final = Sentence(
    Outcome.REQUEST_SUBMITTING, "Sending your request to the Marketplace… This takes a few seconds."
)
REQUEST_PICK_PRODUCT: Final = Sentence(
    Outcome.REQUEST_PICK_PRODUCT, "Pick a data product above to see what its request form asks."
)
REQUEST_NO_FORM: Final = Sentence(
    Outcome.REQUEST_NO_FORM,
    "This data product has no request form of this kind, so it cannot be requested from Slack; "
    "see its page in the Marketplace.",
)
REQUEST_FORM_UNSUPPORTED: Final = Sentence(
    Outcome.REQUEST_FORM_UNSUPPORTED,
    "This request form asks questions Slack cannot show, so please answer it in the Marketplace.",
)
REQUEST_FORM_TOO_LARGE: Final = Sentence(
    Outcome.REQUEST_FORM_TOO_LARGE,
    "This request form is too large for a Slack form, so please answer it in the Marketplace.",
)
REQUEST_NO_MASKED_COLUMNS: Final = Sentence(
    Outcome.REQUEST_NO_MASKED_COLUMNS,
    "This data product has no masked columns to unmask, so there is no masking exception to request.",
)
REQUEST_ANSWERS_DROPPED: Final = Sentence(
    Outcome.REQUEST_ANSWERS_DROPPED,
    "These earlier answers were left out because their questions changed:",  # the labels follow
)
REQUEST_DURATION_AMOUNT_INVALID: Final = Sentence(
    Outcome.REQUEST_DURATION_AMOUNT_INVALID, f"Enter a whole number from 1 to {DURATION_AMOUNT_MAX}."
)
REQUEST_DURATION_UNIT_NEEDED: Final = Sentence(
    Outcome.REQUEST_DURATION_UNIT_NEEDED, "Choose hours, days, weeks, months or years."
)
REQUEST_AGREEMENT_NEEDED: Final = Sentence(
    Outcome.REQUEST_AGREEMENT_NEEDED, "Tick the box to accept this agreement; the request needs it."
)
REQUEST_COLUMNS_NEEDED: Final = Sentence(
    Outcome.REQUEST_COLUMNS_NEEDED, "Choose at least one masked column to unmask."
)
REQUEST_FILED: Final = Sentence(Outcome.REQUEST_FILED, "Your request is filed.")
REQUEST_APPROVED_AT_ONCE: Final = Sentence(
    Outcome.REQUEST_APPROVED_AT_ONCE, "Your request is filed and approved at once."
)


def masked_columns_cut(shown: int, total: int) -> str:
    """Under the column picker when the product has more masked columns than the modal can offer."""
    return (
        f"This data product has {total:,} masked columns; {shown:,} of them can be picked here, "
        "the others only in the Marketplace."
    )


def duration_at_most(maximum: str) -> str:
    """The hint under an access duration whose policy says how long it grants at most."""
    return f"At most {maximum}."


# --- app home ---
# What App Home and the "my requests" list say in their own words. Plain words like every sentence
# here; `slack/home.py` escapes them when it renders them.
HOME_START: Final = "Ask for access to a data product; its stewards review it in the Marketplace or here."
HOME_NOT_LINKED: Final = "Your Slack account is not linked to a Marketplace account."
HOME_LINK_EXPLAINED: Final = (
    "Linking lets the app act as you in the Marketplace: requests and decisions you make here are "
    "made in your name."
)
HOME_NOTHING_WAITING: Final = "Nothing is waiting for your review."
HOME_NO_REQUESTS: Final = "You have no pending or recent requests."
HOME_NO_ACCESS: Final = "You have no active access from the Marketplace."
HOME_LINK_TO_SEE: Final = "Link your Marketplace account to see your requests and access here."
HOME_NOTHING_AT_ALL: Final = "You have no pending or recent requests and no active access."
HOME_NO_STEP_OPEN: Final = "No step is open for a decision right now."
HOME_CANCEL_TITLE: Final = "Cancel this request?"
HOME_UNLINK_TITLE: Final = "Unlink your account?"
HOME_UNLINK_CONFIRM: Final = (
    "The app deletes your token and no longer acts as you in the Marketplace until you link again."
)


def home_more(hidden: int) -> str:
    """The line under a list cut short, so nothing is left out silently."""
    return f"… and {hidden:,} more; see them all in the Marketplace."


def home_cancel_confirm(product: str) -> str:
    """The confirm dialog of a Cancel button; `product` raw, like every value in a sentence."""
    return f"Your request for {product} will be canceled, and its approvers will no longer be asked."


def home_requests_summary(pending: int, recent: int, active: int) -> str:
    """The notification line of the "my requests" message."""
    grants = "active grant" if active == 1 else "active grants"
    return f"Your requests: {pending} pending, {recent} recently settled, {active} {grants}."


BUSY: Final = Sentence(
    Outcome.BUSY, "The app is busy right now, so nothing was done; please try again in a minute."
)
