"""What the request modal's values mean: encoded ids and option values, the options lists the options
listeners answer, and the parser of a submission (see `request_views` for how a submission is read
back without the form: the block id names the question, the action id how to read its answer).

Pure, like `request_views`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from marketplace_slack.domain import Duration, DurationUnit, RequestKind
from marketplace_slack.domain.forms import DURATION_AMOUNT_MAX, Answer, MaskedColumnChoice, ProductChoice
from marketplace_slack.slack import ids
from marketplace_slack.slack.limits import OPTION_TEXT_MAX, measure
from marketplace_slack.slack.mrkdwn import one_line, plain
from marketplace_slack.workflow import sentences

# Action ids of the question inputs. Nothing listens to them (only the parser reads them back), so
# they live here rather than in `ids`; `ids.QUESTION_OPTIONS_INPUT` is the one a listener answers.
PICK_INPUT: Final = "mp_q_pick"  # static_select: a DROPDOWN of at most 100 options
PICKS_INPUT: Final = "mp_q_picks"  # checkboxes (<= 10) or multi_static_select (<= 100): CHECKBOXES
TEXT_INPUT: Final = "mp_q_text"  # plain_text_input: SHORT_ANSWER
AMOUNT_INPUT: Final = "mp_q_amount"  # number_input: ACCESS_DURATION's amount
UNIT_INPUT: Final = "mp_q_unit"  # static_select: ACCESS_DURATION's unit
AGREED: Final = "agreed"  # the value of an agreement's one checkbox

SELECT_OPTIONS_MAX: Final = 100  # static selects; past this, an external select searches
OPTION_VALUE_MAX: Final = 150
OPTION_GROUP_LABEL_MAX: Final = 75

_ENCODE = re.compile("[%:<>&\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_DECODE = re.compile(r"%(?:u([0-9A-F]{4})|([0-9A-F]{2}))")


def as_option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(text, OPTION_TEXT_MAX), "value": value}


def encode_value(text: str) -> str:
    """`text` as an option value or an id part: reversible, with nothing Slack or `base_of` reads."""

    def one(m: re.Match[str]) -> str:
        cp = ord(m.group())
        return f"%{cp:02X}" if cp < 0x100 else f"%u{cp:04X}"

    return _ENCODE.sub(one, text)


def decode_value(value: str) -> str:
    """The text `encode_value` made `value` from."""
    return _DECODE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), value)


def question_id_of(block_id: str) -> str | None:
    """The question a block id (as Slack reports it, fresh or not) names; None for any other block.

    The options listener uses it: a block_suggestion carries the block id and `QUESTION_OPTIONS_INPUT`."""
    return _id_after(ids.QUESTION_BLOCK, block_id)


def agreement_id_of(block_id: str) -> str | None:
    return _id_after(ids.AGREEMENT_BLOCK, block_id)


def _id_after(prefix: str, block_id: str) -> str | None:
    base = ids.base_of(block_id)
    return decode_value(base[len(prefix) :]) if base.startswith(prefix) and len(base) > len(prefix) else None


def offerable(value: str) -> str | None:
    """The option value for `value`, or None when Slack cannot carry it (blank or too long)."""
    encoded = encode_value(value)
    if not encoded.strip() or measure(encoded) > OPTION_VALUE_MAX:
        return None
    return encoded


def product_options(products: Sequence[ProductChoice]) -> list[dict[str, Any]]:
    """The product picker's options: one per product (at most 100), its name shown, its id encoded as
    the value the parser decodes; a product whose id Slack cannot carry is left out."""
    out: list[dict[str, Any]] = []
    values: set[str] = set()
    for product in products:
        value = offerable(product.id)
        if value is None or value in values:
            continue
        values.add(value)
        out.append(as_option(one_line(product.name) or product.id, value))
        if len(out) == SELECT_OPTIONS_MAX:
            break
    return out


def question_options(options: Sequence[str], query: str) -> list[dict[str, Any]]:
    """The options listener's answer for a question past 100 options: those containing `query` (any
    case), at most 100, once each; values as the form's modal offers them."""
    wanted = query.strip().casefold()
    out: list[dict[str, Any]] = []
    values: set[str] = set()
    for option in options:
        if wanted and wanted not in option.casefold():
            continue
        value = offerable(option) if option.strip() else None
        if value is None or value in values:
            continue
        values.add(value)
        out.append(as_option(one_line(option) or option, value))
        if len(out) == SELECT_OPTIONS_MAX:
            break
    return out


def unique_columns(columns: Sequence[MaskedColumnChoice]) -> list[MaskedColumnChoice]:
    seen: set[str] = set()
    out = []
    for column in columns:
        if column.key not in seen:
            seen.add(column.key)
            out.append(column)
    return out


def column_option_list(columns: Sequence[MaskedColumnChoice]) -> list[dict[str, Any]]:
    out = []
    for column in columns:
        value = offerable(column.key)
        if value is not None:
            out.append(as_option(one_line(column.column) or column.column, value))
    return out


def column_options(columns: Sequence[MaskedColumnChoice], query: str) -> list[dict[str, Any]]:
    """Option groups (one per data source, in the order first seen) of the columns whose name or source
    contains `query` (any case): at most 100 columns, values `MaskedColumnChoice.key` encoded."""
    wanted = query.strip().casefold()
    groups: dict[str, tuple[str, list[dict[str, Any]]]] = {}
    count = 0
    for column in unique_columns(columns):
        if wanted and wanted not in column.column.casefold() and wanted not in column.source_name.casefold():
            continue
        options = column_option_list([column])
        if not options:
            continue
        label = one_line(column.source_name) or one_line(column.source_id) or "Data source"
        groups.setdefault(column.source_id, (label, []))[1].extend(options)
        count += 1
        if count == SELECT_OPTIONS_MAX:
            break
    return [
        {"label": plain(label, OPTION_GROUP_LABEL_MAX), "options": options}
        for label, options in groups.values()
    ]


@dataclass(frozen=True)
class RequestAnswers:
    """A request modal's submission as read from the view alone; the workflow checks it against the form."""

    answers: dict[str, Answer]  # by question id; unanswered questions are absent
    columns: tuple[tuple[str, str], ...]  # (source id, column)
    agreements: tuple[str, ...]  # ids of the agreements ticked
    for_user: str | None  # a Slack user id
    product_id: str | None
    kind: str | None  # a RequestKind value


def parse_request_submission(view: Mapping[str, Any]) -> RequestAnswers | dict[str, str]:
    """Read the request modal's `view.state.values` (or the whole view) into `RequestAnswers`.

    Checks only what the view alone can tell: a duration's amount (a whole number from 1 to
    DURATION_AMOUNT_MAX) and unit, each agreement ticked, a column picked. Otherwise returns
    `{block_id: sentence}` with the block ids as shown, ready for `views.errors_response`."""
    values = _state_values(view)
    answers: dict[str, Answer] = {}
    errors: dict[str, str] = {}
    amounts: dict[str, tuple[str, str]] = {}  # question id -> (block id, raw amount)
    units: dict[str, tuple[str, str | None]] = {}  # question id -> (block id, unit)
    columns: list[tuple[str, str]] = []
    agreements: list[str] = []
    for_user = product_id = kind = None
    for block_id, actions in values.items():
        if not isinstance(block_id, str) or not isinstance(actions, Mapping):
            continue
        base = ids.base_of(block_id)
        if base == ids.REQUEST_PRODUCT_BLOCK:
            chosen = _selected(actions.get(ids.REQUEST_PRODUCT_INPUT))
            product_id = decode_value(chosen) if chosen is not None else None
        elif base == ids.REQUEST_KIND_BLOCK:
            chosen = _selected(actions.get(ids.REQUEST_KIND_INPUT))
            kind = chosen if chosen in RequestKind.__members__ else None
        elif base == ids.REQUEST_FOR_BLOCK:
            state = actions.get(ids.REQUEST_FOR_INPUT)
            user = state.get("selected_user") if isinstance(state, Mapping) else None
            for_user = user if isinstance(user, str) and user else None
        elif base == ids.COLUMNS_BLOCK:
            columns = _columns(actions.get(ids.COLUMNS_INPUT))
            if not columns:
                errors[block_id] = sentences.REQUEST_COLUMNS_NEEDED.text
        elif (agreement := agreement_id_of(block_id)) is not None:
            if AGREED in _selected_all(actions.get(ids.AGREEMENT_INPUT)):
                agreements.append(agreement)
            else:
                errors[block_id] = sentences.REQUEST_AGREEMENT_NEEDED.text
        elif (question := question_id_of(block_id)) is not None:
            if AMOUNT_INPUT in actions:
                amounts[question] = (block_id, _text(actions.get(AMOUNT_INPUT)))
            elif UNIT_INPUT in actions:
                units[question] = (block_id, _selected(actions.get(UNIT_INPUT)))
            else:
                answer = _answer(actions)
                if answer is not None:
                    answers[question] = answer
    for question, (block_id, raw) in amounts.items():
        duration = _duration(question, block_id, raw, units, errors)
        if duration is not None:
            answers[question] = duration
    if errors:
        return errors
    return RequestAnswers(
        answers=answers,
        columns=tuple(columns),
        agreements=tuple(agreements),
        for_user=for_user,
        product_id=product_id,
        kind=kind,
    )


def _duration(
    question: str,
    block_id: str,
    raw: str,
    units: Mapping[str, tuple[str, str | None]],
    errors: dict[str, str],
) -> Duration | None:
    raw = raw.strip()
    if not raw:
        return None  # unanswered: Slack itself holds a required question open
    # ASCII only: str.isdigit accepts "²", which int() rejects; the length cap keeps int() cheap.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 12 and 1 <= int(raw) <= DURATION_AMOUNT_MAX):
        errors[block_id] = sentences.REQUEST_DURATION_AMOUNT_INVALID.text
        return None
    unit_block, unit = units.get(question, (block_id, None))
    if unit is None or unit not in DurationUnit.__members__:
        errors[unit_block] = sentences.REQUEST_DURATION_UNIT_NEEDED.text
        return None
    return Duration(int(raw), DurationUnit(unit))


def _answer(actions: Mapping[str, Any]) -> Answer | None:
    if TEXT_INPUT in actions:
        text = _text(actions.get(TEXT_INPUT)).strip()
        return text or None
    if PICK_INPUT in actions:
        chosen = _selected(actions.get(PICK_INPUT))
        return decode_value(chosen) if chosen is not None else None
    if PICKS_INPUT in actions:
        return tuple(decode_value(v) for v in _selected_all(actions.get(PICKS_INPUT))) or None
    state = actions.get(ids.QUESTION_OPTIONS_INPUT)
    if not isinstance(state, Mapping):
        return None
    if state.get("type") == "multi_external_select" or "selected_options" in state:
        return tuple(decode_value(v) for v in _selected_all(state)) or None
    chosen = _selected(state)
    return decode_value(chosen) if chosen is not None else None


def _columns(state: Any) -> list[tuple[str, str]]:
    # A key is "<source id>/<column>": split at the first "/", as source ids are the Marketplace's own.
    out = []
    for value in _selected_all(state):
        source, slash, column = decode_value(value).partition("/")
        if slash and source and column:
            out.append((source, column))
    return out


def _state_values(view: Mapping[str, Any]) -> Mapping[str, Any]:
    state = view.get("state")
    if isinstance(state, Mapping) and isinstance(state.get("values"), Mapping):
        inner: Mapping[str, Any] = state["values"]
        return inner
    return view


def _text(state: Any) -> str:
    value = state.get("value") if isinstance(state, Mapping) else None
    return value if isinstance(value, str) else ""


def _selected(state: Any) -> str | None:
    option = state.get("selected_option") if isinstance(state, Mapping) else None
    value = option.get("value") if isinstance(option, Mapping) else None
    return value if isinstance(value, str) else None


def _selected_all(state: Any) -> list[str]:
    options = state.get("selected_options") if isinstance(state, Mapping) else None
    if not isinstance(options, list):
        return []
    return [o["value"] for o in options if isinstance(o, Mapping) and isinstance(o.get("value"), str)]
