"""A stand-in for Slack on loopback: the Web API, signed deliveries to the app, and readable output.

Used by the offline `marketplace-slack demo`, the tests and the benchmarks.
"""

from marketplace_slack_standins.fakeslack.agent import Delivery, Forgery, SlackUserAgent
from marketplace_slack_standins.fakeslack.api import Message
from marketplace_slack_standins.fakeslack.blockkit import check_options_response
from marketplace_slack_standins.fakeslack.errors import Violation
from marketplace_slack_standins.fakeslack.formatting import Span, formatting, payload_formatting
from marketplace_slack_standins.fakeslack.install import ALL_HISTORY_SCOPES, Install
from marketplace_slack_standins.fakeslack.interactions import (
    block_suggestion,
    global_shortcut,
    link_shared,
    view_block_action,
)
from marketplace_slack_standins.fakeslack.payloads import (
    Grid,
    app_home_opened,
    block_action,
    event_callback,
    slash_command,
    url_verification,
    user_change,
    view_closed,
    view_state,
    view_submission,
)
from marketplace_slack_standins.fakeslack.render import blocks_to_text, describe_call
from marketplace_slack_standins.fakeslack.server import FakeSlack, RecordedCall
from marketplace_slack_standins.fakeslack.signing import sign
from marketplace_slack_standins.fakeslack.workspace import (
    DEFAULT_CHANNELS,
    DEFAULT_USERS,
    SlackChannel,
    SlackUser,
)

__all__ = [
    "ALL_HISTORY_SCOPES",
    "DEFAULT_CHANNELS",
    "DEFAULT_USERS",
    "Delivery",
    "FakeSlack",
    "Forgery",
    "Grid",
    "Install",
    "Message",
    "RecordedCall",
    "SlackChannel",
    "SlackUser",
    "SlackUserAgent",
    "Span",
    "Violation",
    "app_home_opened",
    "block_action",
    "block_suggestion",
    "blocks_to_text",
    "check_options_response",
    "describe_call",
    "event_callback",
    "formatting",
    "global_shortcut",
    "link_shared",
    "payload_formatting",
    "sign",
    "slash_command",
    "url_verification",
    "user_change",
    "view_block_action",
    "view_closed",
    "view_state",
    "view_submission",
]
