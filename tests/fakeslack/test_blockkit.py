"""The validator: it must catch every limit it claims to, and accept valid Block Kit of any kind."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from marketplace_slack.slack import limits
from marketplace_slack_standins.fakeslack import blockkit
from marketplace_slack_standins.fakeslack.blockkit import validate_blocks, validate_message, validate_view


def _text(kind: str, text: str) -> dict[str, Any]:
    return {"type": kind, "text": text}


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": _text("plain_text", text), "value": value}


def _valid_blocks() -> list[dict[str, Any]]:
    """One of each block the validator knows, every field at a legal value."""
    options = [_option("One", "1"), _option("Two", "2")]
    return [
        {"type": "header", "text": _text("plain_text", "h" * limits.HEADER_TEXT_MAX)},
        {
            "type": "section",
            "block_id": "s",
            "text": _text("mrkdwn", "s" * limits.SECTION_TEXT_MAX),
            "fields": [_text("mrkdwn", "f" * blockkit.SECTION_FIELD_TEXT_MAX)] * blockkit.SECTION_FIELDS_MAX,
            "accessory": {
                "type": "button",
                "action_id": "a",
                "text": _text("plain_text", "Go"),
                "value": "v",
            },
        },
        {"type": "context", "elements": [_text("mrkdwn", "c")] * limits.CONTEXT_ELEMENTS_MAX},
        {"type": "divider"},
        {
            "type": "actions",
            "block_id": "act",
            "elements": [
                {
                    "type": "button",
                    "action_id": "b" * blockkit.ACTION_ID_MAX,
                    "text": _text("plain_text", "b" * limits.BUTTON_TEXT_MAX),
                    "value": "v" * blockkit.BUTTON_VALUE_MAX,
                    "url": "https://x.example/" + "u" * (limits.URL_MAX - 18),
                    "style": "primary",
                },
                {
                    "type": "static_select",
                    "action_id": "sel",
                    "options": [_option("o" * limits.OPTION_TEXT_MAX, f"{i}") for i in range(100)],
                    "initial_option": _option("o" * limits.OPTION_TEXT_MAX, "0"),
                },
                {"type": "overflow", "action_id": "ov", "options": options},
                {"type": "users_select", "action_id": "us", "placeholder": _text("plain_text", "Who")},
            ],
        },
        {
            "type": "input",
            "block_id": "in",
            "label": _text("plain_text", "Label"),
            "element": {
                "type": "plain_text_input",
                "action_id": "t",
                "max_length": limits.PLAIN_TEXT_INPUT_MAX,
                "multiline": True,
            },
            "optional": True,
        },
        {
            "type": "input",
            "block_id": "num",
            "label": _text("plain_text", "N"),
            "element": {
                "type": "number_input",
                "action_id": "n",
                "is_decimal_allowed": False,
                "min_value": "1",
            },
        },
        {"type": "image", "image_url": "https://x.example/i.png", "alt_text": "an image"},
        {
            "type": "rich_text",
            "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": "hi"}]}],
        },
    ]


def test_valid_blocks_at_every_limit_pass() -> None:
    assert validate_blocks(_valid_blocks(), surface="message") == []


Mutation = Callable[[list[dict[str, Any]]], Any]


def _set(path: tuple[Any, ...], value: Any) -> Mutation:
    def mutate(blocks: list[dict[str, Any]]) -> None:
        node: Any = blocks
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return mutate


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda b: b.extend([{"type": "divider"}] * (51 - len(b))), "blocks: 51 blocks > 50"),
        (_set((1, "text", "text"), "s" * 3001), "blocks[1].text.text: 3001 characters > 3000"),
        (_set((1, "fields"), [_text("mrkdwn", "f")] * 11), "blocks[1].fields: 11 items > 10"),
        (_set((1, "fields", 0, "text"), "f" * 2001), "blocks[1].fields[0].text: 2001 characters > 2000"),
        (_set((0, "text", "text"), "h" * 151), "blocks[0].text.text: 151 characters > 150"),
        (
            _set((0, "text", "text"), "😀" * 76),
            "blocks[0].text.text: 152 characters > 150",
        ),  # astral = 2 units
        (_set((0, "text", "type"), "mrkdwn"), "blocks[0].text.type: must be 'plain_text'"),
        (_set((0, "text", "text"), ""), "blocks[0].text.text: must not be empty"),
        (_set((1, "text", "text"), "  \n "), "blocks[1].text.text: must not be empty"),
        (_set((2, "elements"), [_text("mrkdwn", "c")] * 11), "blocks[2].elements: 11 items > 10"),
        (
            _set((4, "elements", 0, "text", "text"), "b" * 76),
            "blocks[4].elements[0].text.text: 76 characters > 75",
        ),
        (
            _set((4, "elements", 0, "value"), "v" * 2001),
            "blocks[4].elements[0].value: 2001 characters > 2000",
        ),
        (
            _set((4, "elements", 0, "action_id"), "a" * 256),
            "blocks[4].elements[0].action_id: 256 characters > 255",
        ),
        (_set((4, "elements", 0, "url"), "u" * 3001), "blocks[4].elements[0].url: 3001 characters > 3000"),
        (_set((4, "elements", 0, "style"), "green"), "blocks[4].elements[0].style: 'green'"),
        (_set((1, "block_id"), "b" * 256), "blocks[1].block_id: 256 characters > 255"),
        (_set((4, "block_id"), "s"), "blocks[4].block_id: 's' is used by another block"),
        (
            _set((4, "elements", 3, "action_id"), "sel"),
            "blocks[4].elements[3].action_id: 'sel' is used twice",
        ),
        (
            _set((4, "elements", 1, "options"), [_option("o", f"{i}") for i in range(101)]),
            "blocks[4].elements[1].options: 101 items > 100",
        ),
        (
            _set((4, "elements", 1, "options", 5, "text", "text"), "o" * 76),
            "blocks[4].elements[1].options[5].text.text: 76 characters > 75",
        ),
        (
            _set((4, "elements", 1, "options", 5, "value"), "v" * 151),
            "blocks[4].elements[1].options[5].value: 151 characters > 150",
        ),
        (
            _set((4, "elements", 1, "options", 5, "value"), "0"),
            "options[5].value: '0' is used by another option",
        ),
        (
            _set((4, "elements", 1, "initial_option"), _option("nope", "0")),
            "blocks[4].elements[1].initial_option: ",
        ),
        (_set((4, "elements", 2, "options"), [_option("o", f"{i}") for i in range(6)]), "6 items > 5"),
        (_set((4, "elements"), []), "blocks[4].elements: needs at least 1 item"),
        (_set((4, "elements", 3, "type"), "frobnicator"), "unknown element type 'frobnicator'"),
        (
            _set((5, "element", "max_length"), 3001),
            "blocks[5].element.max_length: 3001 is not an integer in 1..3000",
        ),
        (
            _set((5, "element", "initial_value"), "x" * 3001),
            "blocks[5].element.initial_value: 3001 characters",
        ),
        (_set((5, "label", "text"), "l" * 2001), "blocks[5].label.text: 2001 characters > 2000"),
        (_set((5, "element", "type"), "button"), "'button' cannot be used in an input block"),
        (_set((6, "element", "min_value"), "1.5"), "is not an integer but decimals are not allowed"),
        (_set((6, "element", "is_decimal_allowed"), None), "is_decimal_allowed: required boolean"),
        (_set((7, "alt_text"), None), "blocks[7].alt_text: required"),
        (_set((8, "elements"), "nope"), "blocks[8].elements: must be a list"),
        (_set((3, "type"), "marquee"), "unknown block type 'marquee'"),
        (_set((1, "text", "text"), "half \ud83d emoji"), "not valid UTF-8"),
        (_set((1, "text", "emoji"), True), "blocks[1].text.emoji: only allowed on plain_text"),
        (lambda b: b.__setitem__(3, "divider"), "blocks[3]: must be an object"),
    ],
)
def test_each_violation_is_reported(mutate: Mutation, expected: str) -> None:
    blocks = copy.deepcopy(_valid_blocks())
    mutate(blocks)
    problems = validate_blocks(blocks, surface="message")
    assert any(expected in p for p in problems), problems


def test_modal_surface_allows_100_blocks_and_no_more() -> None:
    blocks = [{"type": "divider"}] * 100
    assert validate_blocks(blocks, surface="modal") == []
    assert validate_blocks(blocks, surface="message") != []
    assert validate_blocks([*blocks, {"type": "divider"}], surface="modal") == [
        "blocks: 101 blocks > 100 allowed in a modal"
    ]


def test_blocks_must_be_a_list() -> None:
    assert validate_blocks('[{"type": "divider"}]', surface="message") != []
    assert validate_blocks(None, surface="message") != []


def _modal(**overrides: Any) -> dict[str, Any]:
    view = {
        "type": "modal",
        "callback_id": "cb",
        "title": _text("plain_text", "t" * limits.MODAL_TITLE_MAX),
        "submit": _text("plain_text", "s" * limits.MODAL_SUBMIT_MAX),
        "close": _text("plain_text", "c" * limits.MODAL_CLOSE_MAX),
        "private_metadata": "m" * limits.PRIVATE_METADATA_MAX,
        "blocks": [_valid_blocks()[5]],
    }
    view.update(overrides)
    return view


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, None),
        ({"title": _text("plain_text", "t" * 25)}, "view.title.text: 25 characters > 24"),
        ({"submit": _text("plain_text", "s" * 25)}, "view.submit.text: 25 characters > 24"),
        ({"close": _text("plain_text", "c" * 25)}, "view.close.text: 25 characters > 24"),
        ({"private_metadata": "m" * 3001}, "view.private_metadata: 3001 characters > 3000"),
        ({"callback_id": "c" * 256}, "view.callback_id: 256 characters > 255"),
        ({"type": "home"}, "view.type"),
        ({"submit": None}, "view.submit"),
    ],
)
def test_view_limits(overrides: dict[str, Any], expected: str | None) -> None:
    view = _modal(**overrides)
    if overrides.get("submit", "") is None:
        del view["submit"]
    problems = validate_view(view)
    if expected is None:
        assert problems == []
    else:
        assert any(expected in p for p in problems), problems


def test_message_text_limits() -> None:
    assert validate_message({"text": "x" * blockkit.MESSAGE_TEXT_MAX}) == []
    assert validate_message({"text": "x" * (blockkit.MESSAGE_TEXT_MAX + 1)}) == [
        "text: 40001 characters > 40000"
    ]
    assert validate_message({}) == ["text: a message needs text, blocks or attachments"]
    assert validate_message({"text": "ok", "blocks": '[{"type": "divider"}]'}) == []  # JSON string form
    assert validate_message({"text": "ok", "blocks": "[not json"}) == ["blocks: not valid JSON"]
