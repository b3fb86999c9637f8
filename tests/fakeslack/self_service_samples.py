"""A request modal and a Home tab shaped like a self-service flow's, for exercising the fake."""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]


def _text(text: str) -> Json:
    return {"type": "plain_text", "text": text}


def _opt(text: str, value: str) -> Json:
    return {"text": _text(text), "value": value}


def _input(block_id: str, label: str, element: Json, *, optional: bool = False) -> Json:
    return {
        "type": "input",
        "block_id": block_id,
        "label": _text(label),
        "optional": optional,
        "element": element,
    }


def request_modal(metadata: str = "") -> Json:
    """Every input element a request form uses, plus a button that refreshes the form."""
    return {
        "type": "modal",
        "callback_id": "mp_request_modal",
        "private_metadata": metadata,
        "title": _text("Request access"),
        "submit": _text("Request"),
        "close": _text("Cancel"),
        "blocks": [
            _input(
                "product",
                "Product",
                {"type": "external_select", "action_id": "product_pick", "min_query_length": 1},
            ),
            _input(
                "columns",
                "Columns",
                {"type": "multi_external_select", "action_id": "columns_pick"},
                optional=True,
            ),
            _input(
                "purpose",
                "Purpose",
                {
                    "type": "static_select",
                    "action_id": "purpose_pick",
                    "options": [_opt("Analytics", "analytics"), _opt("Audit", "audit")],
                },
            ),
            _input(
                "regions",
                "Regions",
                {
                    "type": "multi_static_select",
                    "action_id": "regions_pick",
                    "max_selected_items": 2,
                    "options": [_opt("EU", "eu"), _opt("US", "us"), _opt("APAC", "apac")],
                },
                optional=True,
            ),
            _input(
                "terms",
                "Terms",
                {
                    "type": "checkboxes",
                    "action_id": "terms_check",
                    "options": [_opt("I accept the terms", "accept"), _opt("Notify my manager", "notify")],
                },
            ),
            _input(
                "urgency",
                "Urgency",
                {
                    "type": "radio_buttons",
                    "action_id": "urgency_pick",
                    "initial_option": _opt("Normal", "normal"),
                    "options": [_opt("Normal", "normal"), _opt("Urgent", "urgent")],
                },
            ),
            _input("manager", "Manager", {"type": "users_select", "action_id": "manager_pick"}),
            _input(
                "days",
                "Days",
                {
                    "type": "number_input",
                    "action_id": "days_input",
                    "is_decimal_allowed": False,
                    "min_value": "1",
                    "max_value": "90",
                },
            ),
            _input(
                "reason",
                "Reason",
                {"type": "plain_text_input", "action_id": "reason_input", "max_length": 50},
            ),
            {
                "type": "actions",
                "block_id": "form_actions",
                "elements": [
                    {"type": "button", "action_id": "refresh_form", "text": _text("Refresh"), "value": "r"}
                ],
            },
        ],
    }


def home_view() -> Json:
    return {
        "type": "home",
        "callback_id": "mp_home",
        "private_metadata": "v1",
        "blocks": [
            {"type": "header", "text": _text("Your requests")},
            {
                "type": "actions",
                "block_id": "home_actions",
                "elements": [
                    {"type": "button", "action_id": "home_new_request", "text": _text("New request")},
                    {
                        "type": "static_select",
                        "action_id": "home_filter",
                        "placeholder": _text("Show"),
                        "options": [_opt("Open", "open"), _opt("All", "all")],
                    },
                ],
            },
        ],
    }


PRODUCT = _opt("Sales Orders", "p7")
COLUMNS = [_opt("region", "c1"), _opt("amount", "c2")]
