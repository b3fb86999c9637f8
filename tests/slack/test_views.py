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
    pending_modal,
    refusal_modal,
)
from marketplace_slack.workflow import sentences
from marketplace_slack_standins.fakeslack.blockkit import validate_view

PAYLOADS = Path(__file__).parents[1] / "data" / "slack-payloads"


def _submission(view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """The recorded view_submission body, carrying our modal and the given state values."""
    body = json.loads((PAYLOADS / "view_submission.json").read_text())
    body["view"].update(copy.deepcopy(view))
    body["view"]["state"] = {"values": values}
    return body


def _shown(base: str) -> str:
    """The id our modals give the block of `base` (fresh per rendering), as Slack reports it back."""
    for view in (APPROVE, DENY, LINK):
        for block in view["blocks"]:
            if ids.base_of(block.get("block_id", "")) == base:
                return str(block["block_id"])
    raise LookupError(base)


def _by_base(errors: dict[str, str]) -> dict[str, str]:
    return {ids.base_of(block_id): message for block_id, message in errors.items()}


def _select(block: str, action: str, value: str | None) -> dict[str, Any]:
    option = None if value is None else {"text": {"type": "plain_text", "text": value}, "value": value}
    return {_shown(block): {action: {"type": "static_select", "selected_option": option}}}


def _text(block: str, action: str, value: str | None, kind: str = "plain_text_input") -> dict[str, Any]:
    return {_shown(block): {action: {"type": kind, "value": value}}}


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
LINK = link_modal(private_metadata="{}")


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
        (
            {"blocks": DENY["blocks"], "state": {"values": {}}},
            ids.REASON_BLOCK,
            "Say why",
        ),  # nothing in state
    ],
)
def test_invalid_submissions_return_errors_keyed_by_block(
    values: dict[str, Any], block: str, fragment: str
) -> None:
    result = parse_decision_submission(values)
    assert isinstance(result, dict)
    assert fragment in _by_base(result)[block]
    response = errors_response(result)
    assert response["response_action"] == "errors"
    # Slack shows an error only under a block id the view carries, fresh ids included.
    assert set(response["errors"]) <= {
        b["block_id"] for b in APPROVE["blocks"] + DENY["blocks"] if "block_id" in b
    }


def test_explicit_verdict_wins_over_the_shape() -> None:
    values = _approve_values("7:DAYS", reason="not needed")
    assert parse_decision_submission(values, verdict=Verdict.DENY) == Decision(Verdict.DENY, "not needed")
    result = parse_decision_submission({}, verdict=Verdict.APPROVE)
    assert isinstance(result, dict) and ids.DURATION_BLOCK in result  # no block to name: the base


def test_approve_modal_shape() -> None:
    assert validate_view(APPROVE) == []
    assert APPROVE["callback_id"] == ids.APPROVE_MODAL
    blocks = {ids.base_of(b.get("block_id", "")): b for b in APPROVE["blocks"]}
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
    reason = next(b for b in DENY["blocks"] if b.get("block_id") == _shown_in(DENY, ids.REASON_BLOCK))
    assert reason["optional"] is False
    assert reason["element"]["max_length"] == 1000 and reason["element"]["action_id"] == ids.REASON_INPUT


def test_link_modal_never_prefills_and_explains_the_token() -> None:
    view = link_modal(private_metadata='{"c":"C1"}')
    assert validate_view(view) == []
    assert view["callback_id"] == ids.LINK_MODAL and view["private_metadata"] == '{"c":"C1"}'
    token = next(b for b in view["blocks"] if b.get("block_id") == _shown_in(view, ids.TOKEN_BLOCK))
    assert token["element"]["type"] == "plain_text_input" and token["element"]["action_id"] == ids.TOKEN_INPUT
    assert "initial_value" not in token["element"]
    assert "personal access token" in json.dumps(view) and "as you" in json.dumps(view)


def _shown_in(view: dict[str, Any], base: str) -> str:
    return next(b["block_id"] for b in view["blocks"] if ids.base_of(b.get("block_id", "")) == base)


def test_input_block_ids_are_fresh_per_rendering_and_stable_for_the_same_one() -> None:
    again = approve_modal("req-1", "Customer 360", initial_duration="7:DAYS", private_metadata="{}")
    other = approve_modal("req-1", "Customer 360", initial_duration="30:DAYS", private_metadata="{}")
    inputs = [b for b in APPROVE["blocks"] if b["type"] == "input"]
    assert inputs and all(b["block_id"].startswith(ids.base_of(b["block_id"]) + ":") for b in inputs)
    assert [b.get("block_id") for b in again["blocks"]] == [b.get("block_id") for b in APPROVE["blocks"]]
    # Slack keeps a select's state by block id across views.update: another rendering, other ids.
    fresh = {b["block_id"] for b in other["blocks"] if b["type"] == "input"}
    assert fresh.isdisjoint(b["block_id"] for b in inputs)
    assert _shown_in(DENY, ids.REASON_BLOCK) != _shown_in(APPROVE, ids.REASON_BLOCK)


def test_submissions_are_read_by_base_id_whatever_the_rendering() -> None:
    values = {
        ids.fresh(ids.DURATION_BLOCK, "x"): {ids.DURATION_INPUT: {"selected_option": {"value": "30:DAYS"}}},
        ids.fresh(ids.REASON_BLOCK, "y"): {ids.REASON_INPUT: {"value": "ok"}},
    }
    assert parse_decision_submission(values) == Decision(
        Verdict.APPROVE, "ok", Duration(30, DurationUnit.DAYS)
    )
    errors = parse_decision_submission({**values, ids.fresh(ids.REASON_BLOCK, "y"): {}}, verdict=Verdict.DENY)
    assert errors == {ids.fresh(ids.REASON_BLOCK, "y"): sentences.REASON_NEEDED.text}


def test_the_pending_and_refusal_modals_are_valid_and_have_nothing_to_submit() -> None:
    pending = pending_modal(Verdict.APPROVE)
    refusal = refusal_modal(Verdict.DENY, sentences.someone_deciding("U0OMAR"))
    plain_refusal = refusal_modal(Verdict.DENY, sentences.already_decided("approved", "<!channel> & co"))
    for view in (pending, refusal, plain_refusal):
        assert validate_view(view) == [] and "submit" not in view
    assert pending["callback_id"] == ids.PENDING_MODAL and "Checking" in json.dumps(pending)
    assert refusal["callback_id"] == ids.REFUSAL_MODAL and refusal["close"]["text"] == "Close"
    assert "<@U0OMAR> is deciding" in json.dumps(refusal)
    assert "<!channel>" not in json.dumps(plain_refusal)  # a Marketplace name cannot ping anyone
    led = link_modal(private_metadata="{}", lead=sentences.LINK_FIRST)
    assert validate_view(led) == [] and sentences.LINK_FIRST.text in json.dumps(led)


def test_parse_link_submission() -> None:
    assert parse_link_submission(_text(ids.TOKEN_BLOCK, ids.TOKEN_INPUT, "  abc.def  ")) == "abc.def"
    assert parse_link_submission(_text(ids.TOKEN_BLOCK, ids.TOKEN_INPUT, "")) == {
        _shown(ids.TOKEN_BLOCK): "Paste your personal access token."
    }
    spaced = parse_link_submission(_text(ids.TOKEN_BLOCK, ids.TOKEN_INPUT, "abc def"))
    assert isinstance(spaced, dict) and "no spaces" in spaced[_shown(ids.TOKEN_BLOCK)]


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
