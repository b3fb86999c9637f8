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
