"""A stand-in for Slack on loopback: the Web API, signed deliveries to the app, and readable output.

Used by the offline `marketplace-slack demo`, the tests and the benchmarks.
"""

from marketplace_slack.fakeslack.agent import Delivery, Forgery, SlackUserAgent
from marketplace_slack.fakeslack.api import Message
from marketplace_slack.fakeslack.errors import Violation
from marketplace_slack.fakeslack.payloads import (
    app_home_opened,
    block_action,
    event_callback,
    slash_command,
    url_verification,
    view_closed,
    view_state,
    view_submission,
)
from marketplace_slack.fakeslack.render import blocks_to_text, describe_call
from marketplace_slack.fakeslack.server import FakeSlack, RecordedCall
from marketplace_slack.fakeslack.signing import sign
from marketplace_slack.fakeslack.workspace import DEFAULT_CHANNELS, DEFAULT_USERS, SlackChannel, SlackUser

__all__ = [
    "DEFAULT_CHANNELS",
    "DEFAULT_USERS",
    "Delivery",
    "FakeSlack",
    "Forgery",
    "Message",
    "RecordedCall",
    "SlackChannel",
    "SlackUser",
    "SlackUserAgent",
    "Violation",
    "app_home_opened",
    "block_action",
    "blocks_to_text",
    "describe_call",
    "event_callback",
    "sign",
    "slash_command",
    "url_verification",
    "view_closed",
    "view_state",
    "view_submission",
]
