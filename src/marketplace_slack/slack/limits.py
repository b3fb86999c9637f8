"""The Slack Block Kit limits this app's renderers keep under, and how Slack measures text.

Slack answers a message or view that breaks a limit with `invalid_blocks` and posts nothing, so a
steward would never see the request. The renderers keep under these numbers by construction; the
stand-in Slack's validator (`marketplace_slack_standins.fakeslack.blockkit`) proves it in tests and
holds the rest of Slack's limits, the ones no renderer here needs.

Lengths are measured in UTF-16 code units (`measure`), not code points: Slack's documentation says
"characters" without defining them, and counting an astral emoji as two can only make us stricter.
"""

from __future__ import annotations

from typing import Final

# --- text ---
SECTION_TEXT_MAX: Final = 3000
HEADER_TEXT_MAX: Final = 150
CONTEXT_ELEMENTS_MAX: Final = 10
INPUT_LABEL_MAX: Final = 2000
INPUT_HINT_MAX: Final = 2000

# --- urls ---
URL_MAX: Final = 3000

# --- interactive elements ---
BUTTON_TEXT_MAX: Final = 75
PLACEHOLDER_MAX: Final = 150
OPTION_TEXT_MAX: Final = 75
PLAIN_TEXT_INPUT_MAX: Final = 3000  # the ceiling for max_length, min_length and initial_value

# --- views ---
MODAL_TITLE_MAX: Final = 24
MODAL_SUBMIT_MAX: Final = 24
MODAL_CLOSE_MAX: Final = 24
PRIVATE_METADATA_MAX: Final = 3000

# --- top-level message text ---
FALLBACK_TEXT_MAX: Final = 3000  # our own cap: the fallback is a notification line, not a document


def measure(text: str) -> int:
    """Length as Slack may count it: UTF-16 code units (an astral emoji counts as 2)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)
