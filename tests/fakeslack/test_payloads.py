"""Payloads have the shape of Slack's recorded ones, and slack-bolt reads them as it reads Slack's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from slack_bolt.request.async_request import AsyncBoltRequest

from marketplace_slack_standins.fakeslack import payloads
from marketplace_slack_standins.fakeslack.payloads import (
    app_home_opened,
    block_action,
    encode_event,
    encode_form,
    encode_interaction,
    slash_command,
    view_closed,
    view_state,
    view_submission,
)

from .samples import card_blocks, modal_view

PAYLOADS = Path(__file__).parents[1] / "data" / "slack-payloads"
FORM = {"content-type": "application/x-www-form-urlencoded"}


def recorded(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((PAYLOADS / name).read_text())
    return loaded


def click(action_id: str = "mp_approve", value: str | None = "42", **extra: Any) -> dict[str, Any]:
    return block_action(
        user_id="U0SARA",
        team_id="T0MARKET",
        channel_id="C0STEWARDS",
        message_ts="1700000000.000100",
        action_id=action_id,
        block_id="mp_card_actions",
        value=value,
        message_blocks=card_blocks(),
        **extra,
    )


def bolt_request(body: bytes, headers: dict[str, str]) -> AsyncBoltRequest:
    return AsyncBoltRequest(body=body.decode(), headers=headers)  # type: ignore[arg-type]


def test_button_click_has_every_field_of_slacks_payload() -> None:
    ours, slacks = click(), recorded("block_actions_button.json")

    assert set(slacks) <= set(ours)
    for key in ("user", "container", "team", "channel"):
        assert set(slacks[key]) - {"enterprise_id", "enterprise_name"} <= set(ours[key])
    assert set(slacks["actions"][0]) <= set(ours["actions"][0])
    assert ours["container"] == {
        "type": "message",
        "message_ts": "1700000000.000100",
        "channel_id": "C0STEWARDS",
        "is_ephemeral": False,
    }
    assert ours["actions"][0]["text"] == {"type": "plain_text", "text": "Approve", "emoji": True}
    assert ours["actions"][0]["style"] == "primary"
    assert ours["user"]["username"] == "sara" and ours["channel"]["name"] == "data-stewards"
    # Message surfaces carry the state of their stateful elements: the duration picker's initial value.
    assert ours["state"]["values"]["mp_card_actions"]["mp_duration"]["selected_option"]["value"] == "7:DAYS"


def test_select_action_reports_the_chosen_option_in_action_and_state() -> None:
    ours = click("mp_duration", "30:DAYS")

    action = ours["actions"][0]
    assert action["type"] == "static_select"
    assert action["selected_option"] == {
        "text": {"type": "plain_text", "text": "30 days", "emoji": True},
        "value": "30:DAYS",
    }
    assert ours["state"]["values"]["mp_card_actions"]["mp_duration"]["selected_option"]["value"] == "30:DAYS"


def test_earlier_selections_can_be_carried_in_state() -> None:
    chosen = {
        "type": "static_select",
        "selected_option": {"text": {"type": "plain_text", "text": "Indefinitely"}, "value": "indefinite"},
    }
    ours = click(state_values={"mp_card_actions": {"mp_duration": chosen}})
    assert (
        ours["state"]["values"]["mp_card_actions"]["mp_duration"]["selected_option"]["value"] == "indefinite"
    )


@pytest.mark.parametrize(
    ("action_id", "value", "complaint"),
    [
        ("mp_missing", "42", "no element"),
        ("mp_approve", "43", "carries value"),
        ("mp_duration", "9:YEARS", "offers no option"),
    ],
)
def test_refuses_actions_slack_could_not_send(action_id: str, value: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        click(action_id, value)


def test_bolt_reads_a_click_like_slacks() -> None:
    request = bolt_request(encode_interaction(click()), FORM)

    assert request.context.user_id == "U0SARA"
    assert request.context.channel_id == "C0STEWARDS"
    assert request.context.team_id == "T0MARKET"
    assert request.body["actions"][0]["action_id"] == "mp_approve"
    assert request.body["actions"][0]["value"] == "42"


def test_interaction_wire_form_matches_the_recorded_one() -> None:
    expected = (PAYLOADS / "block_actions_button.form").read_bytes().rstrip(b"\n")
    assert encode_interaction(recorded("block_actions_button.json")) == expected


def test_slash_command_matches_slacks_fields_and_encoding() -> None:
    wire = (PAYLOADS / "slash_command_signed.form").read_bytes()
    slacks = dict(parse_qsl(wire.decode(), keep_blank_values=True))
    ours = slash_command(
        user_id="U0OMAR", team_id="T0MARKET", channel_id="D0OMAR", command="/marketplace", text="link"
    )

    assert encode_form(slacks) == wire  # same percent-encoding as Slack's own example
    assert set(slacks) <= set(ours)
    assert (ours["user_name"], ours["channel_name"]) == ("omar", "directmessage")
    request = bolt_request(encode_form(ours), FORM)
    assert (request.context.user_id, request.context.channel_id) == ("U0OMAR", "D0OMAR")
    assert request.body["command"] == "/marketplace" and request.body["text"] == "link"


def test_view_submission_echoes_the_view_and_the_answers() -> None:
    shown = {**modal_view(metadata="42"), "id": "V0ABC", "hash": "1700000000.abc", "root_view_id": "V0ABC"}
    ours = view_submission(
        user_id="U0SARA",
        team_id="T0MARKET",
        view=shown,
        state_values=view_state(
            shown, {"mp_reason_input": "quarterly audit", "mp_duration_choice_input": "7:DAYS"}
        ),
    )
    slacks = recorded("view_submission.json")

    assert set(slacks) <= set(ours) and set(slacks["view"]) <= set(ours["view"])
    view = ours["view"]
    assert (view["id"], view["hash"], view["callback_id"], view["private_metadata"]) == (
        "V0ABC",
        "1700000000.abc",
        "mp_approve_modal",
        "42",
    )
    values = view["state"]["values"]
    assert values["mp_reason"]["mp_reason_input"] == {"type": "plain_text_input", "value": "quarterly audit"}
    assert (
        values["mp_duration_choice"]["mp_duration_choice_input"]["selected_option"]["text"]["text"]
        == "7 days"
    )
    request = bolt_request(encode_interaction(ours), FORM)
    assert request.context.user_id == "U0SARA" and request.body["view"]["callback_id"] == "mp_approve_modal"


def test_view_state_reports_untouched_inputs_and_refuses_unknown_ones() -> None:
    shown = modal_view()
    values = view_state(shown, {"mp_reason_input": "ok"})
    assert values["mp_duration_choice"]["mp_duration_choice_input"] == {
        "type": "static_select",
        "selected_option": None,
    }
    with pytest.raises(ValueError, match="no input"):
        view_state(shown, {"mp_typo": "x"})


def test_view_submission_from_bare_arguments_keeps_the_requested_signature() -> None:
    ours = view_submission(
        user_id="U0SARA",
        team_id="T0MARKET",
        callback_id="mp_deny_modal",
        private_metadata="42",
        state_values={"mp_reason": {"mp_reason_input": {"type": "plain_text_input", "value": "no"}}},
        view_id="V0DENY",
    )
    assert ours["view"]["id"] == "V0DENY" and ours["view"]["state"]["values"]["mp_reason"]


def test_view_closed_and_events_have_slacks_fields() -> None:
    closed = view_closed(user_id="U0SARA", team_id="T0MARKET", callback_id="mp_approve_modal")
    slacks = recorded("view_closed.json")
    assert set(slacks) <= set(closed) and set(slacks["view"]) <= set(closed["view"])

    opened = app_home_opened(user_id="U0GINA", team_id="T0MARKET")
    event_keys = set(recorded("event_callback_app_home_opened.json")) - {"enterprise_id"}
    assert event_keys <= set(opened)
    request = bolt_request(encode_event(opened), {"content-type": "application/json"})
    assert request.context.user_id == "U0GINA" and request.body["event"]["tab"] == "home"


def test_trigger_ids_look_like_slacks() -> None:
    ours = payloads.new_trigger_id()
    slacks = dict(parse_qsl((PAYLOADS / "slash_command_signed.form").read_text()))["trigger_id"]
    assert [len(part) for part in ours.split(".")] == [len(part) for part in slacks.split(".")]


def test_block_id_is_found_from_the_action_id_when_left_out() -> None:
    ours = block_action(
        user_id="U0SARA",
        team_id="T0MARKET",
        channel_id="C0STEWARDS",
        message_ts="1700000000.000100",
        action_id="mp_deny",
        message_blocks=card_blocks(),
    )
    assert ours["actions"][0]["block_id"] == "mp_card_actions"
    assert ours["actions"][0]["value"] == "42"
