"""A self-service flow's payloads have Slack's shapes, refuse what Slack could not send, and slack-bolt
reads them as it reads Slack's; options answers are checked against Slack's rules."""

from __future__ import annotations

from typing import Any

import pytest
from slack_bolt.request.async_request import AsyncBoltRequest

from marketplace_slack_standins.fakeslack import (
    block_suggestion,
    check_options_response,
    global_shortcut,
    link_shared,
    view_block_action,
    view_state,
)
from marketplace_slack_standins.fakeslack.blockkit import validate_home
from marketplace_slack_standins.fakeslack.payloads import encode_event, encode_interaction

from .self_service_samples import COLUMNS, PRODUCT, home_view, request_modal

FORM = {"content-type": "application/x-www-form-urlencoded"}
# The top-level keys of slack-bolt's own recorded payloads (tests/scenario_tests_async).
BOLT_SUGGESTION_KEYS = {
    "type", "user", "container", "api_app_id", "token", "action_id", "block_id", "value", "team", "view",
}  # fmt: skip
BOLT_SHORTCUT_KEYS = {"type", "token", "action_ts", "team", "user", "callback_id", "trigger_id"}


def shown(view: dict[str, Any] | None = None, view_id: str = "V0REQ") -> dict[str, Any]:
    """A view as views.open returned it: with its id, hash and (empty) stored state."""
    return {
        **(view or request_modal("req-1")),
        "id": view_id,
        "hash": "1700000000.abcd",
        "state": {"values": {}},
    }


def bolt_request(body: bytes, headers: dict[str, str]) -> AsyncBoltRequest:
    return AsyncBoltRequest(body=body.decode(), headers=headers)  # type: ignore[arg-type]


def act(action_id: str, **extra: Any) -> dict[str, Any]:
    return view_block_action(user_id="U0SARA", team_id="T0MARKET", view=shown(), action_id=action_id, **extra)


# --- block_actions from a view --------------------------------------------------------------------


def test_a_click_in_a_modal_comes_from_the_view_not_a_message() -> None:
    ours = act("refresh_form", value="r")

    assert ours["type"] == "block_actions"
    assert ours["container"] == {"type": "view", "view_id": "V0REQ"}
    assert {"channel", "message", "response_url", "state"}.isdisjoint(ours)
    assert ours["view"]["id"] == "V0REQ" and ours["view"]["hash"] == "1700000000.abcd"
    assert ours["view"]["private_metadata"] == "req-1" and ours["view"]["callback_id"] == "mp_request_modal"
    assert (
        ours["actions"][0]["action_id"] == "refresh_form" and ours["actions"][0]["block_id"] == "form_actions"
    )
    # Untouched stateful elements are reported with their initial values.
    values = ours["view"]["state"]["values"]
    assert values["urgency"]["urgency_pick"]["selected_option"]["value"] == "normal"
    assert values["product"]["product_pick"] == {"type": "external_select", "selected_option": None}


def test_an_external_choice_carries_the_option_the_listener_gave() -> None:
    ours = act("product_pick", option=PRODUCT)

    action = ours["actions"][0]
    assert action["type"] == "external_select"
    assert action["selected_option"] == {
        "text": {"type": "plain_text", "text": "Sales Orders", "emoji": True},
        "value": "p7",
    }
    assert ours["view"]["state"]["values"]["product"]["product_pick"]["selected_option"]["value"] == "p7"
    with pytest.raises(ValueError, match="options listener"):
        act("product_pick", value="p7")


def test_multi_selects_and_users_report_their_lists_and_ids() -> None:
    columns = act("columns_pick", option=COLUMNS)["actions"][0]
    assert [o["value"] for o in columns["selected_options"]] == ["c1", "c2"]
    regions = act("regions_pick", value=["eu", "us"])["actions"][0]
    assert [o["text"]["text"] for o in regions["selected_options"]] == ["EU", "US"]
    manager = act("manager_pick", value="U0GINA")
    assert manager["actions"][0]["selected_user"] == "U0GINA"
    assert manager["view"]["state"]["values"]["manager"]["manager_pick"]["selected_user"] == "U0GINA"


@pytest.mark.parametrize(
    ("action_id", "extra", "complaint"),
    [
        ("nope", {"value": "x"}, "no element"),
        ("refresh_form", {"value": "other"}, "carries value"),
        ("purpose_pick", {"value": "fun"}, "offers no option"),
        ("regions_pick", {"value": ["eu", "us", "apac"]}, "at most 2"),
        ("regions_pick", {"value": "eu"}, "is a list"),
    ],
)
def test_refuses_view_actions_slack_could_not_send(
    action_id: str, extra: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint):
        act(action_id, **extra)


def test_a_view_without_an_id_is_not_one_slack_showed() -> None:
    with pytest.raises(ValueError, match="no id"):
        view_block_action(
            user_id="U0SARA", team_id="T0MARKET", view=request_modal(), action_id="refresh_form"
        )


def test_a_home_tab_action_echoes_the_home_view() -> None:
    ours = view_block_action(
        user_id="U0SARA",
        team_id="T0MARKET",
        view=shown(home_view(), "V0HOME"),
        action_id="home_filter",
        value="all",
    )
    assert ours["container"] == {"type": "view", "view_id": "V0HOME"}
    assert ours["view"]["type"] == "home" and ours["view"]["callback_id"] == "mp_home"
    assert ours["actions"][0]["selected_option"]["value"] == "all"
    assert ours["view"]["state"]["values"]["home_actions"]["home_filter"]["selected_option"]["value"] == "all"


def test_bolt_reads_a_view_action_like_slacks() -> None:
    request = bolt_request(encode_interaction(act("refresh_form")), FORM)

    assert request.context.user_id == "U0SARA" and request.context.team_id == "T0MARKET"
    assert request.context.channel_id is None
    assert request.body["view"]["id"] == "V0REQ"
    assert request.body["actions"][0]["action_id"] == "refresh_form"


# --- view_state -----------------------------------------------------------------------------------


def test_view_state_reports_every_input_element_of_a_request_form() -> None:
    values = view_state(
        shown(),
        {
            "product_pick": PRODUCT,
            "columns_pick": COLUMNS,
            "purpose_pick": "audit",
            "regions_pick": ["apac"],
            "terms_check": ["accept", "notify"],
            "urgency_pick": "urgent",
            "manager_pick": "U0GINA",
            "days_input": "30",
            "reason_input": "quarterly audit",
        },
    )

    assert values["product"]["product_pick"]["selected_option"]["value"] == "p7"
    assert [o["value"] for o in values["columns"]["columns_pick"]["selected_options"]] == ["c1", "c2"]
    assert values["purpose"]["purpose_pick"]["selected_option"]["text"]["text"] == "Audit"
    assert values["regions"]["regions_pick"]["type"] == "multi_static_select"
    assert [o["value"] for o in values["regions"]["regions_pick"]["selected_options"]] == ["apac"]
    assert [o["value"] for o in values["terms"]["terms_check"]["selected_options"]] == ["accept", "notify"]
    assert values["urgency"]["urgency_pick"]["selected_option"]["value"] == "urgent"
    assert values["manager"]["manager_pick"] == {"type": "users_select", "selected_user": "U0GINA"}
    assert values["days"]["days_input"] == {"type": "number_input", "value": "30"}
    assert values["reason"]["reason_input"] == {"type": "plain_text_input", "value": "quarterly audit"}


def test_view_state_of_an_untouched_form() -> None:
    values = view_state(shown())

    assert values["columns"]["columns_pick"] == {"type": "multi_external_select", "selected_options": []}
    assert values["terms"]["terms_check"] == {"type": "checkboxes", "selected_options": []}
    assert values["manager"]["manager_pick"] == {"type": "users_select", "selected_user": None}
    assert values["days"]["days_input"] == {"type": "number_input", "value": None}


@pytest.mark.parametrize(
    ("answers", "complaint"),
    [
        ({"days_input": "91"}, "1..90"),
        ({"days_input": "2.5"}, "whole numbers"),
        ({"days_input": "soon"}, "not a number"),
        ({"reason_input": "x" * 51}, "at most 50"),
        ({"terms_check": ["accept", "sign"]}, "offers no option"),
        ({"columns_pick": ["c1"]}, "options listener"),
        ({"manager_pick": ["U0GINA"]}, "is a string"),
    ],
)
def test_view_state_refuses_what_the_client_would_not_let_through(
    answers: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint):
        view_state(shown(), answers)


# --- block_suggestion -----------------------------------------------------------------------------


def suggest(action_id: str = "product_pick", value: str = "sal", view: dict[str, Any] | None = None) -> Any:
    return block_suggestion(
        user_id="U0SARA",
        team_id="T0MARKET",
        view=view or shown(),
        action_id=action_id,
        block_id=None,
        value=value,
    )


def test_an_options_load_has_slacks_shape() -> None:
    ours = suggest()

    assert set(ours) >= BOLT_SUGGESTION_KEYS
    assert ours["type"] == "block_suggestion" and ours["value"] == "sal"
    assert ours["action_id"] == "product_pick" and ours["block_id"] == "product"
    assert ours["container"] == {"type": "view", "view_id": "V0REQ"}
    assert "trigger_id" not in ours
    # Slack sends the state it last stored, not the user's picks since.
    assert ours["view"]["state"] == {"values": {}}
    request = bolt_request(encode_interaction(ours), FORM)
    assert request.context.user_id == "U0SARA" and request.body["value"] == "sal"


def test_slack_waits_for_min_query_length_and_asks_only_external_selects() -> None:
    assert suggest("product_pick", "s")["value"] == "s"  # this one asks from 1 character
    with pytest.raises(ValueError, match="3 characters"):
        suggest("columns_pick", "ab")  # the default is 3
    assert suggest("columns_pick", "abc")["block_id"] == "columns"
    with pytest.raises(ValueError, match="loads no options"):
        suggest("purpose_pick", "aud")


# --- shortcut, link_shared ------------------------------------------------------------------------


def test_a_global_shortcut_has_slacks_shape() -> None:
    ours = global_shortcut(user_id="U0SARA", team_id="T0MARKET", callback_id="mp_new_request")

    assert set(ours) >= BOLT_SHORTCUT_KEYS
    assert ours["type"] == "shortcut" and ours["callback_id"] == "mp_new_request"
    assert {"channel", "response_url", "message"}.isdisjoint(ours)
    request = bolt_request(encode_interaction(ours), FORM)
    assert request.context.user_id == "U0SARA" and request.context.team_id == "T0MARKET"


def test_link_shared_names_the_message_the_unfurl_id_and_each_links_domain() -> None:
    body = link_shared(
        team_id="T0MARKET",
        user_id="U0SARA",
        channel="C0STEWARDS",
        message_ts="1700000000.000100",
        links=["https://market.example.com/p/7", "https://docs.market.example.com/x"],
        domains=["market.example.com"],
    )

    event = body["event"]
    assert body["type"] == "event_callback" and event["type"] == "link_shared"
    assert event["source"] == "conversations_history" and event["message_ts"] == "1700000000.000100"
    assert event["unfurl_id"].startswith("C0STEWARDS.1700000000.000100.")
    assert event["links"] == [
        {"domain": "market.example.com", "url": "https://market.example.com/p/7"},
        {"domain": "market.example.com", "url": "https://docs.market.example.com/x"},
    ]
    request = bolt_request(encode_event(body), {"content-type": "application/json"})
    assert request.context.channel_id == "C0STEWARDS" and request.context.user_id == "U0SARA"
    with pytest.raises(ValueError, match="unfurl domains"):
        link_shared(
            team_id="T0MARKET",
            user_id="U0SARA",
            channel="C0STEWARDS",
            message_ts="1700000000.000100",
            links=["https://elsewhere.example.org/"],
            domains=["market.example.com"],
        )


# --- the app's options answer, Home views ---------------------------------------------------------


def options(n: int, text: str = "Option") -> list[dict[str, Any]]:
    return [{"text": {"type": "plain_text", "text": f"{text} {i}"}, "value": f"v{i}"} for i in range(n)]


def test_a_good_options_answer_passes() -> None:
    assert check_options_response({"options": options(100)}) == []
    assert check_options_response({"options": []}) == []
    groups = [{"label": {"type": "plain_text", "text": "G"}, "options": options(2)}]
    assert check_options_response({"option_groups": groups}) == []


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ({"options": options(101)}, "101 items > 100"),
        ({"options": options(1, "x" * 76)}, "characters > 75"),
        (
            {"options": [{"text": {"type": "plain_text", "text": "a"}, "value": "v" * 151}]},
            "151 characters > 150",
        ),
        ({"options": options(2) + options(1)}, "used by another option"),
        ({"options": [{"text": {"type": "mrkdwn", "text": "*a*"}, "value": "a"}]}, "must be 'plain_text'"),
        ({"options": [], "option_groups": []}, "exactly one"),
        ({"choices": options(1)}, "exactly one"),
        (["not", "an", "object"], "JSON object"),
        (
            {"option_groups": [{"label": {"type": "plain_text", "text": "G"}, "options": options(1)}] * 101},
            "101 items > 100",
        ),
        (
            {"option_groups": [{"label": {"type": "plain_text", "text": "G"}, "options": options(1)}] * 2},
            "option_groups[0] too",
        ),
    ],
)
def test_slack_refuses_these_options_answers(body: Any, complaint: str) -> None:
    assert any(complaint in problem for problem in check_options_response(body))


def test_a_home_view_has_no_modal_chrome() -> None:
    assert validate_home(home_view()) == []
    assert any(
        "title" in p for p in validate_home({**home_view(), "title": {"type": "plain_text", "text": "x"}})
    )
    assert any("expected 'home'" in p for p in validate_home({**home_view(), "type": "modal"}))
