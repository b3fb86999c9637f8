"""A strict validator for any Block Kit JSON: the stand-in Slack Web API checks every call with it.

Slack refuses a message or view that breaks a limit with `invalid_blocks` and posts nothing. The
product's renderers keep under the budgets in `marketplace_slack.slack.limits`; this module proves it,
and holds the rest of Slack's limits (the ones no renderer needs).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal

from marketplace_slack.slack.limits import (
    BUTTON_TEXT_MAX,
    CONTEXT_ELEMENTS_MAX,
    HEADER_TEXT_MAX,
    INPUT_HINT_MAX,
    INPUT_LABEL_MAX,
    MODAL_CLOSE_MAX,
    MODAL_SUBMIT_MAX,
    MODAL_TITLE_MAX,
    OPTION_TEXT_MAX,
    PLACEHOLDER_MAX,
    PLAIN_TEXT_INPUT_MAX,
    PRIVATE_METADATA_MAX,
    SECTION_TEXT_MAX,
    URL_MAX,
    measure,
)

Surface = Literal["message", "modal"]

# --- blocks per surface ---
MESSAGE_BLOCKS_MAX: Final = 50
MODAL_BLOCKS_MAX: Final = 100
BLOCKS_MAX: Final[Mapping[str, int]] = {"message": MESSAGE_BLOCKS_MAX, "modal": MODAL_BLOCKS_MAX}

# --- text ---
TEXT_OBJECT_MAX: Final = 3000  # any text object without a tighter limit (section text, context)
SECTION_FIELDS_MAX: Final = 10
SECTION_FIELD_TEXT_MAX: Final = 2000
MARKDOWN_BLOCK_TEXT_MAX: Final = 12000
ACTIONS_ELEMENTS_MAX: Final = 25
IMAGE_ALT_TEXT_MAX: Final = 2000
IMAGE_TITLE_MAX: Final = 2000

# --- ids ---
ACTION_ID_MAX: Final = 255
BLOCK_ID_MAX: Final = 255
CALLBACK_ID_MAX: Final = 255
EXTERNAL_ID_MAX: Final = 255

# --- interactive elements ---
BUTTON_VALUE_MAX: Final = 2000
BUTTON_ACCESSIBILITY_LABEL_MAX: Final = 75
SELECT_OPTIONS_MAX: Final = 100
SELECT_OPTION_GROUPS_MAX: Final = 100
OPTION_VALUE_MAX: Final = 150
OPTION_DESCRIPTION_MAX: Final = 75
OPTION_GROUP_LABEL_MAX: Final = 75
CHOICE_OPTIONS_MAX: Final = 10  # checkboxes and radio_buttons
OVERFLOW_OPTIONS_MAX: Final = 5
CONFIRM_TITLE_MAX: Final = 100
CONFIRM_TEXT_MAX: Final = 300
CONFIRM_BUTTON_MAX: Final = 30

# --- top-level message text ---
MESSAGE_TEXT_MAX: Final = 40_000  # Slack truncates beyond this

_SELECTS_WITH_OPTIONS: Final = frozenset({"static_select", "multi_static_select"})
_SELECTS_WITHOUT_OPTIONS: Final = frozenset(
    {
        "external_select",
        "multi_external_select",
        "users_select",
        "multi_users_select",
        "conversations_select",
        "multi_conversations_select",
        "channels_select",
        "multi_channels_select",
    }
)
_SIMPLE_INPUTS: Final = frozenset(
    {
        "datepicker",
        "timepicker",
        "datetimepicker",
        "email_text_input",
        "url_text_input",
        "rich_text_input",
        "file_input",
        "workflow_button",
    }
)
_INPUT_ELEMENTS: Final = (
    _SELECTS_WITH_OPTIONS
    | _SELECTS_WITHOUT_OPTIONS
    | _SIMPLE_INPUTS
    | {"plain_text_input", "number_input", "checkboxes", "radio_buttons"}
) - {"workflow_button"}
_BUTTON_STYLES: Final = frozenset({"primary", "danger"})


def validate_blocks(blocks: object, *, surface: Surface) -> list[str]:
    """Every way `blocks` breaks Slack's rules for `surface`, as `path: problem` lines; empty means OK.

    Generic over Block Kit JSON (section, header, context, actions, divider, input, image, rich_text,
    markdown...), not just what this app renders, so the fake Slack Web API can check any call.
    """
    out: list[str] = []
    if not isinstance(blocks, Sequence) or isinstance(blocks, str | bytes):
        return ["blocks: must be a JSON array of block objects"]
    limit = BLOCKS_MAX[surface]
    if len(blocks) > limit:
        out.append(f"blocks: {len(blocks)} blocks > {limit} allowed in a {surface}")
    seen_block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        _block(block, f"blocks[{i}]", out, seen_block_ids)
    _strings_are_utf8(blocks, "blocks", out)
    return out


def validate_view(view: object) -> list[str]:
    """Violations of a `views.open`/`views.update`/`views.push` payload (a modal); empty means OK."""
    if not isinstance(view, Mapping):
        return ["view: must be an object"]
    out: list[str] = []
    if view.get("type") != "modal":
        out.append(f"view.type: {view.get('type')!r}, expected 'modal'")
    _text(view.get("title"), "view.title", out, MODAL_TITLE_MAX, plain_only=True)
    for key, limit in (("submit", MODAL_SUBMIT_MAX), ("close", MODAL_CLOSE_MAX)):
        if key in view:
            _text(view[key], f"view.{key}", out, limit, plain_only=True)
    _view_fields(view, out)
    blocks = view.get("blocks")
    if isinstance(blocks, Sequence) and not isinstance(blocks, str | bytes):
        has_input = any(isinstance(b, Mapping) and b.get("type") == "input" for b in blocks)
        if has_input and "submit" not in view:
            out.append("view.submit: required when the view has input blocks")
    return out


def validate_home(view: object) -> list[str]:
    """Violations of a `views.publish` payload (an App Home tab); empty means OK.

    A Home tab has no title, submit or close of its own (Slack draws the app's name); its blocks
    follow a modal's limits (100 blocks), its ids and private_metadata a modal's."""
    if not isinstance(view, Mapping):
        return ["view: must be an object"]
    out: list[str] = []
    if view.get("type") != "home":
        out.append(f"view.type: {view.get('type')!r}, expected 'home'")
    for key in ("title", "submit", "close", "submit_disabled", "notify_on_close", "clear_on_close"):
        if key in view:
            out.append(f"view.{key}: a Home tab has none")
    _view_fields(view, out)
    return out


def _view_fields(view: Mapping[str, Any], out: list[str]) -> None:
    """What modals and Home tabs share: ids, private_metadata and the blocks."""
    _id(view.get("callback_id"), "view.callback_id", out, CALLBACK_ID_MAX)
    _id(view.get("external_id"), "view.external_id", out, EXTERNAL_ID_MAX)
    metadata = view.get("private_metadata")
    if metadata is not None:
        if not isinstance(metadata, str):
            out.append("view.private_metadata: must be a string")
        elif measure(metadata) > PRIVATE_METADATA_MAX:
            out.append(f"view.private_metadata: {measure(metadata)} characters > {PRIVATE_METADATA_MAX}")
    out.extend(validate_blocks(view.get("blocks"), surface="modal"))


def validate_message(message: Mapping[str, Any]) -> list[str]:
    """Violations of a `chat.postMessage`/`chat.update`-style payload (`text` and `blocks`)."""
    out: list[str] = []
    text, blocks = message.get("text"), message.get("blocks")
    if isinstance(blocks, str):  # the Web API also accepts blocks as a JSON-encoded string
        try:
            blocks = json.loads(blocks)
        except ValueError:
            return ["blocks: not valid JSON"]
    if text is None and not blocks and not message.get("attachments"):
        out.append("text: a message needs text, blocks or attachments")
    if text is not None:
        if not isinstance(text, str):
            out.append("text: must be a string")
        elif measure(text) > MESSAGE_TEXT_MAX:
            out.append(f"text: {measure(text)} characters > {MESSAGE_TEXT_MAX}")
        else:
            _strings_are_utf8(text, "text", out)
    if blocks is not None:
        out.extend(validate_blocks(blocks, surface="message"))
    return out


def check_options_response(body: object) -> list[str]:
    """What Slack refuses in an app's answer to a block_suggestion (an external select's options load).

    Slack reads `options` or `option_groups` (one of them, possibly empty): at most 100 options or 100
    groups of at most 100, plain_text labels of at most 75 characters, values of at most 150, every
    value distinct. Anything else and the user sees an error in the menu instead of choices.
    """
    if not isinstance(body, Mapping):
        return ["body: must be a JSON object with options or option_groups"]
    out: list[str] = []
    has_options, has_groups = "options" in body, "option_groups" in body
    if has_options == has_groups:
        out.append("body: needs exactly one of options and option_groups")
    everything: list[Any] = []
    if has_options:
        options = _list(body["options"], "options", out, 0, SELECT_OPTIONS_MAX)
        _options(options, "options", out, plain_only=True)
        everything.extend(options)
    if has_groups:
        groups = _list(body["option_groups"], "option_groups", out, 0, SELECT_OPTION_GROUPS_MAX)
        group_of: dict[str, int] = {}  # value -> the group it first appeared in
        for i, group in enumerate(groups):
            where = f"option_groups[{i}]"
            if not isinstance(group, Mapping):
                out.append(f"{where}: must be an object")
                continue
            _text(group.get("label"), f"{where}.label", out, OPTION_GROUP_LABEL_MAX, plain_only=True)
            in_group = _list(group.get("options"), f"{where}.options", out, 1, SELECT_OPTIONS_MAX)
            _options(in_group, f"{where}.options", out, plain_only=True)  # distinct within the group
            everything.extend(in_group)
            for option in in_group:
                value = option.get("value") if isinstance(option, Mapping) else None
                if isinstance(value, str) and group_of.setdefault(value, i) != i:
                    out.append(f"{where}: value {value!r} is used in option_groups[{group_of[value]}] too")
    for i, option in enumerate(everything):
        if isinstance(option, Mapping) and "url" in option:
            out.append(f"option {i}: url is only allowed on an overflow menu's options")
    _strings_are_utf8(body, "body", out)
    return out


# --- blocks ---------------------------------------------------------------------------------------


def _block(block: object, path: str, out: list[str], seen_block_ids: set[str]) -> None:
    if not isinstance(block, Mapping):
        out.append(f"{path}: must be an object")
        return
    block_id = block.get("block_id")
    if _id(block_id, f"{path}.block_id", out, BLOCK_ID_MAX) and isinstance(block_id, str):
        if block_id in seen_block_ids:
            out.append(f"{path}.block_id: {block_id!r} is used by another block")
        seen_block_ids.add(block_id)
    kind = block.get("type")
    if kind == "section":
        _section(block, path, out)
    elif kind == "header":
        _text(block.get("text"), f"{path}.text", out, HEADER_TEXT_MAX, plain_only=True)
    elif kind == "context":
        _context(block, path, out)
    elif kind == "actions":
        elements = _list(block.get("elements"), f"{path}.elements", out, 1, ACTIONS_ELEMENTS_MAX)
        _elements(elements, f"{path}.elements", out)
    elif kind == "divider":
        pass
    elif kind == "input":
        _input(block, path, out)
    elif kind == "image":
        _image(block, path, out)
        if "title" in block:
            _text(block["title"], f"{path}.title", out, IMAGE_TITLE_MAX, plain_only=True)
    elif kind == "rich_text":
        # Passed through as Slack produced it (e.g. from a rich_text_input); only its shape is checked.
        _list(block.get("elements"), f"{path}.elements", out, 0, math.inf)
    elif kind == "markdown":
        _str(block.get("text"), f"{path}.text", out, MARKDOWN_BLOCK_TEXT_MAX, required=True)
    elif kind in ("file", "video"):
        pass
    else:
        out.append(f"{path}.type: unknown block type {kind!r}")


def _section(block: Mapping[str, Any], path: str, out: list[str]) -> None:
    has_text, has_fields = "text" in block, "fields" in block
    if not has_text and not has_fields:
        out.append(f"{path}: a section needs text or fields")
    if has_text:
        _text(block["text"], f"{path}.text", out, SECTION_TEXT_MAX)
    if has_fields:
        fields = _list(block["fields"], f"{path}.fields", out, 1, SECTION_FIELDS_MAX)
        for i, field in enumerate(fields):
            _text(field, f"{path}.fields[{i}]", out, SECTION_FIELD_TEXT_MAX)
    if "accessory" in block:
        _element(block["accessory"], f"{path}.accessory", out)


def _context(block: Mapping[str, Any], path: str, out: list[str]) -> None:
    elements = _list(block.get("elements"), f"{path}.elements", out, 1, CONTEXT_ELEMENTS_MAX)
    for i, element in enumerate(elements):
        where = f"{path}.elements[{i}]"
        if isinstance(element, Mapping) and element.get("type") == "image":
            _image(element, where, out)
        else:
            _text(element, where, out, TEXT_OBJECT_MAX)


def _input(block: Mapping[str, Any], path: str, out: list[str]) -> None:
    _text(block.get("label"), f"{path}.label", out, INPUT_LABEL_MAX, plain_only=True)
    if "hint" in block:
        _text(block["hint"], f"{path}.hint", out, INPUT_HINT_MAX, plain_only=True)
    for flag in ("optional", "dispatch_action"):
        if flag in block and not isinstance(block[flag], bool):
            out.append(f"{path}.{flag}: must be a boolean")
    element = block.get("element")
    if isinstance(element, Mapping) and element.get("type") not in _INPUT_ELEMENTS:
        out.append(f"{path}.element.type: {element.get('type')!r} cannot be used in an input block")
    _element(element, f"{path}.element", out)


def _image(obj: Mapping[str, Any], path: str, out: list[str]) -> None:
    if "slack_file" not in obj:
        _str(obj.get("image_url"), f"{path}.image_url", out, URL_MAX, required=True)
    _str(obj.get("alt_text"), f"{path}.alt_text", out, IMAGE_ALT_TEXT_MAX, required=True)


# --- elements -------------------------------------------------------------------------------------


def _elements(elements: Sequence[Any], path: str, out: list[str]) -> None:
    seen: set[str] = set()
    for i, element in enumerate(elements):
        _element(element, f"{path}[{i}]", out)
        action_id = element.get("action_id") if isinstance(element, Mapping) else None
        if isinstance(action_id, str):
            if action_id in seen:
                out.append(f"{path}[{i}].action_id: {action_id!r} is used twice in one block")
            seen.add(action_id)


def _element(element: object, path: str, out: list[str]) -> None:
    if not isinstance(element, Mapping):
        out.append(f"{path}: must be an element object")
        return
    kind = element.get("type")
    if kind == "image":
        _image(element, path, out)
        return
    _id(element.get("action_id"), f"{path}.action_id", out, ACTION_ID_MAX)
    if "placeholder" in element:
        _text(element["placeholder"], f"{path}.placeholder", out, PLACEHOLDER_MAX, plain_only=True)
    if "confirm" in element:
        _confirm(element["confirm"], f"{path}.confirm", out)
    if kind == "button":
        _button(element, path, out)
    elif kind in _SELECTS_WITH_OPTIONS:
        _static_select(element, path, out, multi=kind == "multi_static_select")
    elif kind in ("checkboxes", "radio_buttons"):
        options = _list(element.get("options"), f"{path}.options", out, 1, CHOICE_OPTIONS_MAX)
        _options(options, f"{path}.options", out, plain_only=False)
        _initial_options(element, options, path, out, multi=kind == "checkboxes")
    elif kind == "overflow":
        options = _list(element.get("options"), f"{path}.options", out, 1, OVERFLOW_OPTIONS_MAX)
        _options(options, f"{path}.options", out, plain_only=True)
    elif kind == "plain_text_input":
        _plain_text_input(element, path, out)
    elif kind == "number_input":
        _number_input(element, path, out)
    elif kind in _SELECTS_WITHOUT_OPTIONS or kind in _SIMPLE_INPUTS:
        pass
    else:
        out.append(f"{path}.type: unknown element type {kind!r}")


def _button(element: Mapping[str, Any], path: str, out: list[str]) -> None:
    _text(element.get("text"), f"{path}.text", out, BUTTON_TEXT_MAX, plain_only=True)
    _str(element.get("value"), f"{path}.value", out, BUTTON_VALUE_MAX)
    _str(element.get("url"), f"{path}.url", out, URL_MAX)
    _str(
        element.get("accessibility_label"), f"{path}.accessibility_label", out, BUTTON_ACCESSIBILITY_LABEL_MAX
    )
    style = element.get("style")
    if style is not None and style not in _BUTTON_STYLES:
        out.append(f"{path}.style: {style!r} is not 'primary' or 'danger'")


def _static_select(element: Mapping[str, Any], path: str, out: list[str], *, multi: bool) -> None:
    has_options, has_groups = "options" in element, "option_groups" in element
    if has_options == has_groups:
        out.append(f"{path}: needs exactly one of options and option_groups")
    options: list[Any] = []
    if has_options:
        options = list(_list(element["options"], f"{path}.options", out, 1, SELECT_OPTIONS_MAX))
        _options(options, f"{path}.options", out, plain_only=True)
    if has_groups:
        groups = _list(element["option_groups"], f"{path}.option_groups", out, 1, SELECT_OPTION_GROUPS_MAX)
        for i, group in enumerate(groups):
            where = f"{path}.option_groups[{i}]"
            if not isinstance(group, Mapping):
                out.append(f"{where}: must be an object")
                continue
            _text(group.get("label"), f"{where}.label", out, OPTION_GROUP_LABEL_MAX, plain_only=True)
            in_group = _list(group.get("options"), f"{where}.options", out, 1, SELECT_OPTIONS_MAX)
            _options(in_group, f"{where}.options", out, plain_only=True)
            options.extend(in_group)
    _initial_options(element, options, path, out, multi=multi)


def _options(options: Sequence[Any], path: str, out: list[str], *, plain_only: bool) -> None:
    values: set[str] = set()
    for i, option in enumerate(options):
        where = f"{path}[{i}]"
        if not isinstance(option, Mapping):
            out.append(f"{where}: must be an option object")
            continue
        _text(option.get("text"), f"{where}.text", out, OPTION_TEXT_MAX, plain_only=plain_only)
        value = option.get("value")
        if _str(value, f"{where}.value", out, OPTION_VALUE_MAX, required=True) and isinstance(value, str):
            if value in values:
                out.append(f"{where}.value: {value!r} is used by another option")
            values.add(value)
        if "description" in option:
            _text(option["description"], f"{where}.description", out, OPTION_DESCRIPTION_MAX, plain_only=True)
        _str(option.get("url"), f"{where}.url", out, URL_MAX)


def _initial_options(
    element: Mapping[str, Any], options: Sequence[Any], path: str, out: list[str], *, multi: bool
) -> None:
    # Slack rejects an initial option that is not one of the options, byte for byte.
    key = "initial_options" if multi else "initial_option"
    if key not in element:
        return
    chosen = element[key] if multi else [element[key]]
    if not isinstance(chosen, Sequence):
        out.append(f"{path}.{key}: must be a list")
        return
    for option in chosen:
        if option not in options:
            out.append(f"{path}.{key}: {option!r} is not one of the options")


def _plain_text_input(element: Mapping[str, Any], path: str, out: list[str]) -> None:
    max_length = _int(element.get("max_length"), f"{path}.max_length", out, 1, PLAIN_TEXT_INPUT_MAX)
    min_length = _int(element.get("min_length"), f"{path}.min_length", out, 0, PLAIN_TEXT_INPUT_MAX)
    if max_length is not None and min_length is not None and min_length > max_length:
        out.append(f"{path}: min_length {min_length} > max_length {max_length}")
    ceiling = PLAIN_TEXT_INPUT_MAX if max_length is None else max_length
    _str(element.get("initial_value"), f"{path}.initial_value", out, ceiling)
    if "multiline" in element and not isinstance(element["multiline"], bool):
        out.append(f"{path}.multiline: must be a boolean")


def _number_input(element: Mapping[str, Any], path: str, out: list[str]) -> None:
    decimal = element.get("is_decimal_allowed")
    if not isinstance(decimal, bool):
        out.append(f"{path}.is_decimal_allowed: required boolean")
    bounds: dict[str, float] = {}
    for key in ("min_value", "max_value", "initial_value"):
        raw = element.get(key)
        if raw is None:
            continue
        try:
            number = float(raw) if isinstance(raw, str) else math.nan
        except ValueError:
            number = math.nan
        if math.isnan(number):
            out.append(f"{path}.{key}: {raw!r} is not a number in a string")
        elif decimal is False and not number.is_integer():
            out.append(f"{path}.{key}: {raw!r} is not an integer but decimals are not allowed")
        else:
            bounds[key] = number
    low, high, initial = bounds.get("min_value"), bounds.get("max_value"), bounds.get("initial_value")
    if low is not None and high is not None and low > high:
        out.append(f"{path}: min_value > max_value")
    if initial is not None and ((low is not None and initial < low) or (high is not None and initial > high)):
        out.append(f"{path}.initial_value: outside min_value..max_value")


def _confirm(confirm: object, path: str, out: list[str]) -> None:
    if not isinstance(confirm, Mapping):
        out.append(f"{path}: must be a confirmation dialog object")
        return
    _text(confirm.get("title"), f"{path}.title", out, CONFIRM_TITLE_MAX, plain_only=True)
    _text(confirm.get("text"), f"{path}.text", out, CONFIRM_TEXT_MAX)
    _text(confirm.get("confirm"), f"{path}.confirm", out, CONFIRM_BUTTON_MAX, plain_only=True)
    _text(confirm.get("deny"), f"{path}.deny", out, CONFIRM_BUTTON_MAX, plain_only=True)


# --- primitives -----------------------------------------------------------------------------------


def _text(obj: object, path: str, out: list[str], limit: int, *, plain_only: bool = False) -> None:
    if not isinstance(obj, Mapping):
        out.append(f"{path}: must be a text object")
        return
    kind = obj.get("type")
    if kind not in ("plain_text", "mrkdwn"):
        out.append(f"{path}.type: {kind!r} is not 'plain_text' or 'mrkdwn'")
    elif plain_only and kind != "plain_text":
        out.append(f"{path}.type: must be 'plain_text'")
    if "emoji" in obj and kind != "plain_text":
        out.append(f"{path}.emoji: only allowed on plain_text")
    if "verbatim" in obj and kind != "mrkdwn":
        out.append(f"{path}.verbatim: only allowed on mrkdwn")
    _str(obj.get("text"), f"{path}.text", out, limit, required=True)


def _str(value: object, path: str, out: list[str], limit: int, *, required: bool = False) -> bool:
    """Check an optional (or required) string; True when it is a present, valid string."""
    if value is None:
        if required:
            out.append(f"{path}: required")
        return False
    if not isinstance(value, str):
        out.append(f"{path}: must be a string")
        return False
    if required and not value.strip():
        # Slack rejects empty text ("must be more than 0 characters") and blank text renders as nothing.
        out.append(f"{path}: must not be empty")
        return False
    if measure(value) > limit:
        out.append(f"{path}: {measure(value)} characters > {limit}")
        return False
    return True


def _id(value: object, path: str, out: list[str], limit: int) -> bool:
    if value is None:
        return True
    if not isinstance(value, str) or not value:
        out.append(f"{path}: must be a non-empty string")
        return False
    if measure(value) > limit:
        out.append(f"{path}: {measure(value)} characters > {limit}")
        return False
    return True


def _int(value: object, path: str, out: list[str], low: int, high: int) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        out.append(f"{path}: {value!r} is not an integer in {low}..{high}")
        return None
    return value


def _list(value: object, path: str, out: list[str], low: int, high: float) -> Sequence[Any]:
    if not isinstance(value, Sequence) or isinstance(value, str | bytes):
        out.append(f"{path}: must be a list")
        return ()
    if len(value) < low:
        out.append(f"{path}: needs at least {low} item(s)")
    if len(value) > high:
        out.append(f"{path}: {len(value)} items > {int(high)} allowed")
    return value


def _strings_are_utf8(value: object, path: str, out: list[str]) -> None:
    # A lone surrogate (e.g. half an emoji cut by a careless truncation) cannot be encoded, and Slack
    # rejects the whole request; report where it is rather than failing at send time.
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            out.append(f"{path}: not valid UTF-8 (lone surrogate)")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _strings_are_utf8(item, f"{path}.{key}", out)
    elif isinstance(value, Sequence) and not isinstance(value, bytes):
        for i, item in enumerate(value):
            _strings_are_utf8(item, f"{path}[{i}]", out)
