"""Modals and their submissions, in the shape Slack sends (`view.state.values[block][action]`)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from marketplace_slack.domain import Decision, Duration, DurationUnit, Verdict
from marketplace_slack.slack import ids
from marketplace_slack.slack.views import (
    DEFAULT_DURATION_VALUE,
    approve_modal,
    decode_duration,
    deny_modal,
    duration_select,
    encode_duration,
    errors_response,
    initial_duration_value,
    link_modal,
    parse_decision_submission,
    parse_link_submission,
)
from marketplace_slack_standins.fakeslack.blockkit import validate_view

PAYLOADS = Path(__file__).parents[1] / "data" / "slack-payloads"


def _submission(view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """The recorded view_submission body, carrying our modal and the given state values."""
    body = json.loads((PAYLOADS / "view_submission.json").read_text())
    body["view"].update(copy.deepcopy(view))
    body["view"]["state"] = {"values": values}
    return body


def _select(block: str, action: str, value: str | None) -> dict[str, Any]:
    option = None if value is None else {"text": {"type": "plain_text", "text": value}, "value": value}
    return {block: {action: {"type": "static_select", "selected_option": option}}}


def _text(block: str, action: str, value: str | None, kind: str = "plain_text_input") -> dict[str, Any]:
    return {block: {action: {"type": kind, "value": value}}}


def _approve_values(
    choice: str | None, amount: str | None = None, unit: str | None = "DAYS", reason: str | None = None
) -> dict[str, Any]:
    return {
        **_select(ids.DURATION_BLOCK, ids.DURATION_INPUT, choice),
        **_text(ids.CUSTOM_AMOUNT_BLOCK, ids.CUSTOM_AMOUNT_INPUT, amount, kind="number_input"),
        **_select(ids.CUSTOM_UNIT_BLOCK, ids.CUSTOM_UNIT_INPUT, unit),
        **_text(ids.REASON_BLOCK, ids.REASON_INPUT, reason),
    }


APPROVE = approve_modal("req-1", "Customer 360", initial_duration="7:DAYS", private_metadata="{}")
DENY = deny_modal("req-1", "Customer 360", private_metadata="{}")


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (_approve_values("7:DAYS"), Decision(Verdict.APPROVE, None, Duration(7, DurationUnit.DAYS))),
        (
            _approve_values("1:YEARS", reason="  ok  "),
            Decision(Verdict.APPROVE, "ok", Duration(1, DurationUnit.YEARS)),
        ),
        (_approve_values("indefinite", reason=""), Decision(Verdict.APPROVE, None, None)),
        (
            _approve_values("custom", amount="36", unit="HOURS"),
            Decision(Verdict.APPROVE, None, Duration(36, DurationUnit.HOURS)),
        ),
        (_approve_values("14:DAYS"), Decision(Verdict.APPROVE, None, Duration(14, DurationUnit.DAYS))),
        (
            _text(ids.REASON_BLOCK, ids.REASON_INPUT, "Use the aggregate"),
            Decision(Verdict.DENY, "Use the aggregate"),
        ),
    ],
)
def test_valid_submissions_parse(values: dict[str, Any], expected: Decision) -> None:
    view = APPROVE if expected.verdict is Verdict.APPROVE else DENY
    body = _submission(view, values)
    assert parse_decision_submission(body["view"]["state"]["values"]) == expected
    assert parse_decision_submission(body["view"]) == expected  # the whole view, as listeners have it


@pytest.mark.parametrize(
    ("values", "block", "fragment"),
    [
        (_approve_values("custom", amount=None), ids.CUSTOM_AMOUNT_BLOCK, "Enter how many"),
        (_approve_values("custom", amount="0"), ids.CUSTOM_AMOUNT_BLOCK, "from 1 to 1000"),
        (_approve_values("custom", amount="1001"), ids.CUSTOM_AMOUNT_BLOCK, "from 1 to 1000"),
        (_approve_values("custom", amount="2.5"), ids.CUSTOM_AMOUNT_BLOCK, "whole number"),
        (_approve_values("custom", amount="²"), ids.CUSTOM_AMOUNT_BLOCK, "whole number"),
        (_approve_values("custom", amount="9" * 5000), ids.CUSTOM_AMOUNT_BLOCK, "whole number"),
        (_approve_values("custom", amount="3", unit=None), ids.CUSTOM_UNIT_BLOCK, "Choose a unit"),
        (_approve_values("custom", amount="3", unit="FORTNIGHTS"), ids.CUSTOM_UNIT_BLOCK, "Choose a unit"),
        (_approve_values(None), ids.DURATION_BLOCK, "Choose how long"),
        (_approve_values("0:DAYS"), ids.DURATION_BLOCK, "not one this app offers"),
        (_approve_values("forever"), ids.DURATION_BLOCK, "not one this app offers"),
        (_approve_values("7:DAYS", reason="r" * 1001), ids.REASON_BLOCK, "1000 characters"),
        (_text(ids.REASON_BLOCK, ids.REASON_INPUT, "   \n "), ids.REASON_BLOCK, "Say why"),
        (_text(ids.REASON_BLOCK, ids.REASON_INPUT, None), ids.REASON_BLOCK, "Say why"),
        ({}, ids.REASON_BLOCK, "Say why"),
    ],
)
def test_invalid_submissions_return_errors_keyed_by_block(
    values: dict[str, Any], block: str, fragment: str
) -> None:
    result = parse_decision_submission(values)
    assert isinstance(result, dict)
    assert fragment in result[block]
    response = errors_response(result)
    assert response["response_action"] == "errors"
    assert set(response["errors"]) <= {
        b["block_id"] for b in APPROVE["blocks"] + DENY["blocks"] if "block_id" in b
    }


def test_explicit_verdict_wins_over_the_shape() -> None:
    values = _approve_values("7:DAYS", reason="not needed")
    assert parse_decision_submission(values, verdict=Verdict.DENY) == Decision(Verdict.DENY, "not needed")
    result = parse_decision_submission({}, verdict=Verdict.APPROVE)
    assert isinstance(result, dict) and ids.DURATION_BLOCK in result


def test_approve_modal_shape() -> None:
    assert validate_view(APPROVE) == []
    assert APPROVE["callback_id"] == ids.APPROVE_MODAL
    blocks = {b.get("block_id"): b for b in APPROVE["blocks"]}
    select = blocks[ids.DURATION_BLOCK]["element"]
    assert select["action_id"] == ids.DURATION_INPUT and select["initial_option"]["value"] == "7:DAYS"
    amount = blocks[ids.CUSTOM_AMOUNT_BLOCK]["element"]
    assert (
        amount["type"] == "number_input"
        and amount["min_value"] == "1"
        and amount["is_decimal_allowed"] is False
    )
    units = [o["value"] for o in blocks[ids.CUSTOM_UNIT_BLOCK]["element"]["options"]]
    assert units == ["HOURS", "DAYS", "WEEKS", "MONTHS", "YEARS"]
    reason = blocks[ids.REASON_BLOCK]
    assert reason["optional"] is True and reason["element"]["multiline"] is True


def test_deny_modal_requires_a_bounded_reason() -> None:
    assert validate_view(DENY) == []
    assert DENY["callback_id"] == ids.DENY_MODAL
    reason = next(b for b in DENY["blocks"] if b.get("block_id") == ids.REASON_BLOCK)
    assert reason["optional"] is False
    assert reason["element"]["max_length"] == 1000 and reason["element"]["action_id"] == ids.REASON_INPUT


def test_link_modal_never_prefills_and_explains_the_token() -> None:
    view = link_modal(private_metadata='{"c":"C1"}')
    assert validate_view(view) == []
    assert view["callback_id"] == ids.LINK_MODAL and view["private_metadata"] == '{"c":"C1"}'
    token = next(b for b in view["blocks"] if b.get("block_id") == ids.TOKEN_BLOCK)
    assert token["element"]["type"] == "plain_text_input" and token["element"]["action_id"] == ids.TOKEN_INPUT
    assert "initial_value" not in token["element"]
    assert "personal access token" in json.dumps(view) and "as you" in json.dumps(view)


def test_parse_link_submission() -> None:
    assert parse_link_submission(_text(ids.TOKEN_BLOCK, ids.TOKEN_INPUT, "  abc.def  ")) == "abc.def"
    assert parse_link_submission(_text(ids.TOKEN_BLOCK, ids.TOKEN_INPUT, "")) == {
        ids.TOKEN_BLOCK: "Paste your personal access token."
    }
    spaced = parse_link_submission(_text(ids.TOKEN_BLOCK, ids.TOKEN_INPUT, "abc def"))
    assert isinstance(spaced, dict) and "no spaces" in spaced[ids.TOKEN_BLOCK]


def test_private_metadata_is_passed_through_and_bounded() -> None:
    metadata = json.dumps({"r": "req-1", "c": "C1", "pad": "x" * 2900})
    assert (
        approve_modal("r", "p", initial_duration="custom", private_metadata=metadata)["private_metadata"]
        == metadata
    )
    with pytest.raises(ValueError, match="3000"):
        deny_modal("r", "p", private_metadata="x" * 3001)


@pytest.mark.parametrize(
    ("initial", "selected", "extra"),
    [
        ("30:DAYS", "30:DAYS", None),
        ("custom", "custom", None),
        ("indefinite", "indefinite", None),
        ("14:DAYS", "14:DAYS", "14 days"),
        ("2:WEEKS", "2:WEEKS", "2 weeks"),
        ("nonsense", DEFAULT_DURATION_VALUE, None),
        ("0:DAYS", DEFAULT_DURATION_VALUE, None),
    ],
)
def test_duration_select_preselects_or_adds_the_initial_value(
    initial: str, selected: str, extra: str | None
) -> None:
    select = duration_select("a", initial=initial)
    values = [o["value"] for o in select["options"]]
    assert select["initial_option"] in select["options"]
    assert select["initial_option"]["value"] == selected
    assert values[-1] == "custom"
    assert len(values) == (8 if extra else 7)
    if extra:
        assert select["options"][-2]["text"]["text"] == extra


def test_requested_duration_is_marked() -> None:
    select = duration_select("a", initial="90:DAYS", requested=Duration(90, DurationUnit.DAYS))
    assert select["initial_option"]["text"]["text"] == "90 days (requested)"
    assert sum("(requested)" in o["text"]["text"] for o in select["options"]) == 1


def test_duration_values_round_trip_and_reject_junk() -> None:
    for duration in (None, Duration(1, DurationUnit.HOURS), Duration(12, DurationUnit.MONTHS)):
        assert decode_duration(encode_duration(duration)) == duration
    for junk in ("custom", "7", "7:", ":DAYS", "-1:DAYS", "0:DAYS", "7:days", "x:DAYS", "²:DAYS", ""):
        with pytest.raises(ValueError):
            decode_duration(junk)
    assert initial_duration_value(None) == DEFAULT_DURATION_VALUE == "7:DAYS"
    assert initial_duration_value(Duration(3, DurationUnit.WEEKS)) == "3:WEEKS"
