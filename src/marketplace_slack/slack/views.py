"""Modals (checking, approve, deny, refusal, link account), their submission parsers, and the duration
picker.

A click opens the "Checking…" modal at once (Slack's trigger id lasts 3 seconds, a slow Marketplace
takes longer), and `views.update` turns it into the form, the link form, or the refusal.

The duration picker lives here because the card's select and the approve modal's select must
offer the same values, and `parse_decision_submission` is where those values are read back.

Duration values (ids.py): `"indefinite"`, `"custom"`, or `"<amount>:<UNIT>"` such as `"7:DAYS"`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from marketplace_slack.domain import Decision, Duration, DurationUnit, Verdict
from marketplace_slack.slack import ids
from marketplace_slack.slack.limits import (
    INPUT_HINT_MAX,
    INPUT_LABEL_MAX,
    MODAL_CLOSE_MAX,
    MODAL_SUBMIT_MAX,
    MODAL_TITLE_MAX,
    OPTION_TEXT_MAX,
    PLACEHOLDER_MAX,
    PLAIN_TEXT_INPUT_MAX,
    PRIVATE_METADATA_MAX,
    measure,
)
from marketplace_slack.slack.mrkdwn import (
    context_block,
    escape_line,
    plain,
    section_block,
    sentence_text,
)
from marketplace_slack.workflow import sentences
from marketplace_slack.workflow.sentences import Sentence

REASON_MAX: Final = 1000
SENTENCE_MAX: Final = 2000  # a refusal is one sentence; the cut is only a guard
CUSTOM_AMOUNT_MAX: Final = 1000  # 1000 of any unit; longer grants are "Indefinite" in practice

_D = DurationUnit
DURATION_PRESETS: Final[tuple[tuple[str, Duration | None], ...]] = (
    ("Indefinite", None),
    ("1 day", Duration(1, _D.DAYS)),
    ("7 days", Duration(7, _D.DAYS)),
    ("30 days", Duration(30, _D.DAYS)),
    ("90 days", Duration(90, _D.DAYS)),
    ("1 year", Duration(1, _D.YEARS)),
)
# When the requester asked for no particular duration we preselect a bounded grant: least privilege,
# and the steward can still pick "Indefinite" in one click.
DEFAULT_DURATION_VALUE: Final = "7:DAYS"
_CUSTOM_LABEL: Final = "Custom…"
_REQUESTED_SUFFIX: Final = " (requested)"

ViewStateValues = Mapping[str, Any]


# --- duration values ------------------------------------------------------------------------------


def encode_duration(duration: Duration | None) -> str:
    """The picker value of a duration: `"indefinite"` for None, else `"<amount>:<UNIT>"`."""
    return ids.DURATION_INDEFINITE if duration is None else f"{duration.amount}:{duration.unit.value}"


def decode_duration(value: str) -> Duration | None:
    """The duration a picker value stands for (None = indefinite).

    Raises ValueError for `"custom"` (the amount is in other inputs) and for anything malformed.
    """
    if value == ids.DURATION_INDEFINITE:
        return None
    amount, sep, unit = value.partition(":")
    if not sep or not _is_count(amount) or unit not in DurationUnit.__members__:
        raise ValueError(f"not a duration value: {value!r}")
    return Duration(int(amount), DurationUnit(unit))  # Duration rejects 0


def _is_count(text: str) -> bool:
    # ASCII only: str.isdigit accepts "²", which int() rejects; the length cap keeps int() cheap.
    return text.isascii() and text.isdigit() and len(text) <= 12


def initial_duration_value(requested: Duration | None) -> str:
    """What the picker preselects for a request: the requester's own duration, else the default."""
    return DEFAULT_DURATION_VALUE if requested is None else encode_duration(requested)


def duration_select(action_id: str, *, initial: str, requested: Duration | None = None) -> dict[str, Any]:
    """A static_select of the presets, plus `initial` when it is not a preset, plus "Custom…".

    An unknown or malformed `initial` falls back to the default rather than producing an
    `initial_option` that Slack would reject. The option matching `requested` says "(requested)".
    """
    try:
        wanted = (
            ids.DURATION_CUSTOM
            if initial == ids.DURATION_CUSTOM
            else encode_duration(decode_duration(initial))
        )
    except ValueError:
        wanted = DEFAULT_DURATION_VALUE
    entries = [(label, encode_duration(d)) for label, d in DURATION_PRESETS]
    values = {value for _, value in entries}
    if wanted not in values and wanted != ids.DURATION_CUSTOM:
        extra = decode_duration(wanted)
        assert extra is not None  # "indefinite" is a preset
        entries.append((extra.describe(), wanted))
    entries.append((_CUSTOM_LABEL, ids.DURATION_CUSTOM))
    requested_value = encode_duration(requested) if requested is not None else None
    options = [
        _option(label + (_REQUESTED_SUFFIX if value == requested_value else ""), value)
        for label, value in entries
    ]
    initial_option = next(o for o in options if o["value"] == wanted)
    return {
        "type": "static_select",
        "action_id": action_id,
        "placeholder": plain("Access duration", PLACEHOLDER_MAX),
        "options": options,
        "initial_option": initial_option,
    }


def _option(text: str, value: str) -> dict[str, Any]:
    # The text is ours (a preset label or Duration.describe), so the label cut is only a guard.
    return {"text": plain(text, OPTION_TEXT_MAX), "value": value}


# --- modals ---------------------------------------------------------------------------------------


def approve_modal(
    request_id: str, product_name: str, *, initial_duration: str, private_metadata: str
) -> dict[str, Any]:
    """The approve dialog: duration (preselected), custom amount + unit, optional reason.

    Slack cannot show the custom inputs only when "Custom…" is chosen without a round trip, so
    they are always there and marked as used only with "Custom…". `private_metadata` is opaque
    and passed through; more than 3000 characters is a caller bug and raises ValueError.
    """
    blocks = [
        section_block(f"Approve the request for *{escape_line(product_name, 500) or 'this data product'}*."),
        _input(
            ids.DURATION_BLOCK,
            "Access lasts",
            duration_select(ids.DURATION_INPUT, initial=initial_duration),
        ),
        _input(
            ids.CUSTOM_AMOUNT_BLOCK,
            "Custom duration",
            {
                "type": "number_input",
                "action_id": ids.CUSTOM_AMOUNT_INPUT,
                "is_decimal_allowed": False,
                "min_value": "1",
                "max_value": str(CUSTOM_AMOUNT_MAX),
                "placeholder": plain("How many", PLACEHOLDER_MAX),
            },
            optional=True,
            hint="Only used when you choose “Custom…” above.",
        ),
        _input(
            ids.CUSTOM_UNIT_BLOCK,
            "Custom duration unit",
            _unit_select(),
            optional=True,
            hint="Only used when you choose “Custom…” above.",
        ),
        _input(
            ids.REASON_BLOCK,
            "Reason",
            _reason_input("Optional; shown to the requester and recorded in the Marketplace"),
            optional=True,
        ),
        context_block(f"Request {escape_line(request_id, 300)}"),
    ]
    return _modal(ids.APPROVE_MODAL, "Approve request", "Approve", blocks, private_metadata)


def deny_modal(request_id: str, product_name: str, *, private_metadata: str) -> dict[str, Any]:
    """The deny dialog: a required reason (the requester sees it), at most 1000 characters."""
    blocks = [
        section_block(f"Deny the request for *{escape_line(product_name, 500) or 'this data product'}*."),
        _input(
            ids.REASON_BLOCK,
            "Reason",
            _reason_input("Why is this request denied?", min_length=1),
            hint="The requester will see this reason.",
        ),
        context_block(f"Request {escape_line(request_id, 300)}"),
    ]
    return _modal(ids.DENY_MODAL, "Deny request", "Deny", blocks, private_metadata)


def pending_modal(verdict: Verdict) -> dict[str, Any]:
    """What a click on Approve or Deny opens at once, before any Marketplace call: nothing to fill in."""
    blocks = [section_block("Checking the request in the Marketplace…")]
    return _modal(ids.PENDING_MODAL, _title(verdict), None, blocks, "", close="Cancel")


def refusal_modal(verdict: Verdict, sentence: Sentence) -> dict[str, Any]:
    """Why the steward cannot decide now, in the modal the click opened: one sentence and Close."""
    blocks = [section_block(_sentence(sentence))]
    return _modal(ids.REFUSAL_MODAL, _title(verdict), None, blocks, "", close="Close")


def _title(verdict: Verdict) -> str:
    return "Approve request" if verdict is Verdict.APPROVE else "Deny request"


def _sentence(sentence: Sentence) -> str:
    return sentence_text(sentence.text, sentence.mention, SENTENCE_MAX)


def link_modal(*, private_metadata: str = "", lead: Sentence | None = None) -> dict[str, Any]:
    """The dialog that asks for a Marketplace personal access token. Never prefilled.

    `lead` is the sentence that says why it is shown (a click by a steward who is not linked)."""
    blocks = [section_block(_sentence(lead))] if lead is not None else []
    blocks += [
        section_block(
            "Paste a Marketplace *personal access token*. This app then acts as you: requests and "
            "decisions. It uses it only to request access, approve and deny as you, so the Marketplace "
            "checks your permissions and records what you do under your name. It is never shown in "
            "Slack, and you can revoke it in the Marketplace at any time."
        ),
        _input(
            ids.TOKEN_BLOCK,
            "Personal access token",
            {
                "type": "plain_text_input",
                "action_id": ids.TOKEN_INPUT,
                "min_length": 1,
                "max_length": PLAIN_TEXT_INPUT_MAX,
                "placeholder": plain("Paste your token", PLACEHOLDER_MAX),
            },
        ),
    ]
    return _modal(ids.LINK_MODAL, "Link Marketplace", "Link account", blocks, private_metadata)


def _modal(
    callback_id: str,
    title: str,
    submit: str | None,
    blocks: list[dict[str, Any]],
    private_metadata: str,
    *,
    close: str = "Cancel",
) -> dict[str, Any]:
    if measure(private_metadata) > PRIVATE_METADATA_MAX:
        raise ValueError(f"private_metadata is {measure(private_metadata)} characters; Slack allows 3000")
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(title, MODAL_TITLE_MAX),
        "close": plain(close, MODAL_CLOSE_MAX),
        "private_metadata": private_metadata,
        "blocks": _fresh_inputs(callback_id, blocks),
    }
    if submit is not None:
        view["submit"] = plain(submit, MODAL_SUBMIT_MAX)
    return view


def _fresh_inputs(callback_id: str, blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Input blocks get ids fresh to this rendering: `views.update` keeps state by block id, so the
    modal a click opened would otherwise keep what was typed into what it showed before."""
    return [
        {**b, "block_id": ids.fresh(b["block_id"], callback_id, blocks)} if b.get("type") == "input" else b
        for b in blocks
    ]


def _input(
    block_id: str, label: str, element: dict[str, Any], *, optional: bool = False, hint: str | None = None
) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label, INPUT_LABEL_MAX),
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(hint, INPUT_HINT_MAX)
    return block


def _reason_input(placeholder: str, *, min_length: int | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": ids.REASON_INPUT,
        "multiline": True,
        "max_length": REASON_MAX,
        "placeholder": plain(placeholder, PLACEHOLDER_MAX),
    }
    if min_length is not None:
        element["min_length"] = min_length
    return element


def _unit_select() -> dict[str, Any]:
    options = [_option(unit.value.capitalize(), unit.value) for unit in DurationUnit]
    return {
        "type": "static_select",
        "action_id": ids.CUSTOM_UNIT_INPUT,
        "options": options,
        "initial_option": next(o for o in options if o["value"] == DurationUnit.DAYS.value),
    }


# --- submissions ----------------------------------------------------------------------------------


def parse_decision_submission(
    view_state_values: ViewStateValues, *, verdict: Verdict | None = None
) -> Decision | dict[str, str]:
    """Read an approve or deny modal's `view.state.values` into a Decision.

    Also accepts the whole `view` (its `state.values` is used). Without `verdict`, the approve
    modal is recognised by its duration input. On invalid input, returns the errors as
    `{block_id: message}`, ready for `errors_response` (Slack shows each under its input).
    """
    values = _state_values(view_state_values)
    errors: dict[str, str] = {}
    reason = (_text_value(values, ids.REASON_BLOCK, ids.REASON_INPUT) or "").strip() or None
    if reason is not None and len(reason) > REASON_MAX:
        errors[ids.REASON_BLOCK] = sentences.reason_too_long(REASON_MAX).text
    if verdict is None:
        verdict = Verdict.APPROVE if _block(values, ids.DURATION_BLOCK) is not None else Verdict.DENY
    if verdict is Verdict.DENY:
        if reason is None:
            errors[ids.REASON_BLOCK] = sentences.REASON_NEEDED.text
        return _as_shown(view_state_values, errors) or Decision(Verdict.DENY, reason=reason)

    duration: Duration | None = None
    choice = _selected_value(values, ids.DURATION_BLOCK, ids.DURATION_INPUT)
    if choice is None:
        errors[ids.DURATION_BLOCK] = sentences.DURATION_NEEDED.text
    elif choice == ids.DURATION_CUSTOM:
        duration = _custom_duration(values, errors)
    else:
        try:
            duration = decode_duration(choice)
        except ValueError:
            errors[ids.DURATION_BLOCK] = sentences.DURATION_UNKNOWN.text
    return _as_shown(view_state_values, errors) or Decision(Verdict.APPROVE, reason=reason, duration=duration)


def _custom_duration(values: ViewStateValues, errors: dict[str, str]) -> Duration | None:
    raw_amount = (_text_value(values, ids.CUSTOM_AMOUNT_BLOCK, ids.CUSTOM_AMOUNT_INPUT) or "").strip()
    raw_unit = _selected_value(values, ids.CUSTOM_UNIT_BLOCK, ids.CUSTOM_UNIT_INPUT)
    amount: int | None = None
    if not raw_amount:
        errors[ids.CUSTOM_AMOUNT_BLOCK] = sentences.CUSTOM_AMOUNT_NEEDED.text
    elif not _is_count(raw_amount) or not 1 <= int(raw_amount) <= CUSTOM_AMOUNT_MAX:
        errors[ids.CUSTOM_AMOUNT_BLOCK] = sentences.custom_amount_out_of_range(CUSTOM_AMOUNT_MAX).text
    else:
        amount = int(raw_amount)
    if raw_unit is None or raw_unit not in DurationUnit.__members__:
        errors[ids.CUSTOM_UNIT_BLOCK] = sentences.CUSTOM_UNIT_NEEDED.text
        return None
    return Duration(amount, DurationUnit(raw_unit)) if amount is not None else None


def parse_link_submission(view_state_values: ViewStateValues) -> str | dict[str, str]:
    """The token from the link modal, stripped, or `{block_id: message}` when it cannot be one."""
    values = _state_values(view_state_values)
    token = (_text_value(values, ids.TOKEN_BLOCK, ids.TOKEN_INPUT) or "").strip()
    if not token:
        return _as_shown(view_state_values, {ids.TOKEN_BLOCK: sentences.PASTE_TOKEN.text})
    if any(ch.isspace() for ch in token):
        return _as_shown(view_state_values, {ids.TOKEN_BLOCK: sentences.TOKEN_HAS_SPACES.text})
    return token


def shown_block_id(view: ViewStateValues, base: str) -> str:
    """The id the view's block of `base` carries (Slack shows an error only under a block it knows)."""
    values = _state_values(view)
    found = _block_id(values, base)
    if found is not None:
        return found
    blocks = view.get("blocks")
    for block in blocks if isinstance(blocks, list) else []:
        block_id = block.get("block_id") if isinstance(block, Mapping) else None
        if isinstance(block_id, str) and ids.base_of(block_id) == base:
            return block_id
    return base


def errors_response(errors: Mapping[str, str]) -> dict[str, Any]:
    """The body to ack a view_submission with, so Slack shows the errors and keeps the modal open."""
    return {"response_action": "errors", "errors": dict(errors)}


def _state_values(values_or_view: ViewStateValues) -> ViewStateValues:
    # Listeners get the whole `view`; tests and callers may pass just `view["state"]["values"]`.
    state = values_or_view.get("state")
    if isinstance(state, Mapping) and isinstance(state.get("values"), Mapping):
        inner: ViewStateValues = state["values"]
        return inner
    return values_or_view


def _block_id(values: ViewStateValues, base: str) -> str | None:
    """The key of `values` whose base is `base`: the view's block ids are fresh per rendering."""
    if base in values:
        return base
    return next((k for k in values if isinstance(k, str) and ids.base_of(k) == base), None)


def _block(values: ViewStateValues, base: str) -> Any:
    found = _block_id(values, base)
    return values.get(found) if found is not None else None


def _as_shown(view: ViewStateValues, errors: dict[str, str]) -> dict[str, str]:
    """`errors` keyed by the block ids the view carries, not by their bases."""
    return {shown_block_id(view, base): message for base, message in errors.items()}


def _state(values: ViewStateValues, block_id: str, action_id: str) -> Mapping[str, Any]:
    block = _block(values, block_id)
    state = block.get(action_id) if isinstance(block, Mapping) else None
    return state if isinstance(state, Mapping) else {}


def _text_value(values: ViewStateValues, block_id: str, action_id: str) -> str | None:
    value = _state(values, block_id, action_id).get("value")
    return value if isinstance(value, str) else None


def _selected_value(values: ViewStateValues, block_id: str, action_id: str) -> str | None:
    option = _state(values, block_id, action_id).get("selected_option")
    value = option.get("value") if isinstance(option, Mapping) else None
    return value if isinstance(value, str) else None
