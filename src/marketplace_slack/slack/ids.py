"""Every Slack identifier the app sends and listens for, defined once.

The card renderers put these on blocks and the listeners register on them, so a rename cannot leave a
button that nothing answers.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Final

# Buttons and menus on a request card. Their `value` is the access request id.
APPROVE: Final = "mp_approve"
DENY: Final = "mp_deny"
DURATION: Final = "mp_duration"  # static_select next to Approve
OPEN_IN_MARKETPLACE: Final = "mp_open"  # url button; Slack still sends a block_action we must ack
LINK_ACCOUNT: Final = "mp_link_account"  # in the "account not linked" reply

# Buttons on reminders, escalations and expiry notices. Snooze values are the approval record id.
SNOOZE_1D: Final = "mp_snooze_1d"
SNOOZE_3D: Final = "mp_snooze_3d"
SNOOZE_DAYS: Final = {SNOOZE_1D: 1, SNOOZE_3D: 3}
VIEW_REQUEST: Final = "mp_view_request"  # url button to the card; acked like OPEN_IN_MARKETPLACE
REQUEST_AGAIN: Final = "mp_request_again"  # url button (value: the expiring request's id)
REMINDER_ACTIONS_BLOCK: Final = "mp_reminder_actions"

# Block ids on the card, so the listener can find the duration picker's state.
CARD_ACTIONS_BLOCK: Final = "mp_card_actions"

# Modals (callback ids) and their inputs (block id, action id).
APPROVE_MODAL: Final = "mp_approve_modal"
DENY_MODAL: Final = "mp_deny_modal"
LINK_MODAL: Final = "mp_link_modal"
PENDING_MODAL: Final = "mp_pending_modal"  # "Checking…", shown at once while the Marketplace answers
REFUSAL_MODAL: Final = "mp_refusal_modal"  # why the steward cannot decide, with only a Close button

REASON_BLOCK: Final = "mp_reason"
REASON_INPUT: Final = "mp_reason_input"
DURATION_BLOCK: Final = "mp_duration_choice"
DURATION_INPUT: Final = "mp_duration_choice_input"
CUSTOM_AMOUNT_BLOCK: Final = "mp_custom_amount"
CUSTOM_AMOUNT_INPUT: Final = "mp_custom_amount_input"
CUSTOM_UNIT_BLOCK: Final = "mp_custom_unit"
CUSTOM_UNIT_INPUT: Final = "mp_custom_unit_input"
TOKEN_BLOCK: Final = "mp_token"  # noqa: S105 - a block id, not a secret
TOKEN_INPUT: Final = "mp_token_input"  # noqa: S105 - an action id, not a secret

# Values of the duration picker: "indefinite", "custom", or "<amount>:<UNIT>".
DURATION_INDEFINITE: Final = "indefinite"
DURATION_CUSTOM: Final = "custom"

SLASH_COMMAND: Final = "/marketplace"

# Self-service: the request modal (one callback id for the form, one for what it turns into), its inputs,
# and the buttons of App Home and of unfurls. Question blocks are `QUESTION_BLOCK` + the question id.
REQUEST_SHORTCUT: Final = "mp_request_shortcut"  # global shortcut "Request data access"
START_REQUEST: Final = "mp_start_request"  # button; value: a product id, or "" to pick one
REQUEST_MODAL: Final = "mp_request_modal"  # the form, submitted to file the request
REQUEST_STATUS_MODAL: Final = "mp_request_status"  # loading, filed, refused: nothing to submit
REQUEST_PRODUCT_BLOCK: Final = "mp_req_product"
REQUEST_PRODUCT_INPUT: Final = "mp_req_product_input"  # external_select; its options listener searches
REQUEST_KIND_BLOCK: Final = "mp_req_kind"
REQUEST_KIND_INPUT: Final = "mp_req_kind_input"  # radio buttons: data access / masking exception
REQUEST_FOR_BLOCK: Final = "mp_req_for"
REQUEST_FOR_INPUT: Final = "mp_req_for_input"  # users_select "Request for someone else"
QUESTION_BLOCK: Final = "mp_q."  # + question id
QUESTION_OPTIONS_INPUT: Final = "mp_q_options"  # external_select for a DROPDOWN past 100 options
AGREEMENT_BLOCK: Final = "mp_agree."  # + agreement id
AGREEMENT_INPUT: Final = "mp_agree_input"
COLUMNS_BLOCK: Final = "mp_req_columns"
COLUMNS_INPUT: Final = "mp_req_columns_input"  # multi_static_select, external past 100 columns
CANCEL_REQUEST: Final = "mp_cancel_request"  # button with a confirm dialog; value: the request id
REQUEST_AGAIN_OPEN: Final = "mp_request_again_open"  # button; value: the earlier request's id
UNLINK_ACCOUNT: Final = "mp_unlink_account"  # App Home
REMIND_RENEWAL: Final = "mp_remind_renewal"  # button in the "already have access until …" modal


# --- block ids that change per rendering ------------------------------------------------------------
# Slack keeps an input's state by block_id across chat.update and views.update, so a re-rendered card or
# modal that reused a block id could show the selection made on what was there before. The blocks that
# carry input state get `<base>:<digest of what the rendering shows>`: a new rendering gets a new id,
# the same rendering the same one (the renderers stay pure). Listeners and parsers match on the base.
_SEP: Final = ":"


def fresh(base: str, *rendered: Any) -> str:
    """`base` with a short digest of `rendered` (JSON-able), so a changed rendering has a new block id."""
    digest = hashlib.blake2s(
        json.dumps(rendered, sort_keys=True, default=str).encode(), digest_size=4
    ).hexdigest()
    return f"{base}{_SEP}{digest}"


def base_of(block_id: str) -> str:
    """The base of a block id `fresh` made (a base id is its own base)."""
    return block_id.split(_SEP, 1)[0]


def matching(base: str) -> re.Pattern[str]:
    """What a listener registers for the blocks `fresh(base, ...)` names (Bolt accepts a pattern)."""
    return re.compile(rf"^{re.escape(base)}(?:{_SEP}[0-9a-f]+)?$")
