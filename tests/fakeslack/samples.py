"""Block sets shaped like the app's, for exercising the fake."""

from __future__ import annotations

from typing import Any


def card_blocks(request_id: str = "42") -> list[dict[str, Any]]:
    """A request card shaped like the app's: header, facts, context and the decision controls."""
    return [
        {"type": "header", "text": {"type": "plain_text", "text": "Access request: Sales Orders"}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "<@U0SARA> asks for *Sales Orders* &amp; its masking rules"},
            "fields": [
                {"type": "mrkdwn", "text": "*Requester*\n<@U0SARA>"},
                {"type": "mrkdwn", "text": "*Product*\n<https://market.example.com/p/7|Sales Orders>"},
            ],
        },
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": "Submitted <!date^1700000000^{date_short}|Nov 14> · risk &lt;low&gt;",
                }
            ],
        },
        {"type": "divider"},
        {
            "type": "actions",
            "block_id": "mp_card_actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "mp_approve",
                    "style": "primary",
                    "text": {"type": "plain_text", "text": "Approve"},
                    "value": request_id,
                },
                {
                    "type": "button",
                    "action_id": "mp_deny",
                    "style": "danger",
                    "text": {"type": "plain_text", "text": "Deny"},
                    "value": request_id,
                },
                {
                    "type": "static_select",
                    "action_id": "mp_duration",
                    "placeholder": {"type": "plain_text", "text": "Duration"},
                    "initial_option": {"text": {"type": "plain_text", "text": "7 days"}, "value": "7:DAYS"},
                    "options": [
                        {"text": {"type": "plain_text", "text": "7 days"}, "value": "7:DAYS"},
                        {"text": {"type": "plain_text", "text": "30 days"}, "value": "30:DAYS"},
                        {"text": {"type": "plain_text", "text": "Indefinitely"}, "value": "indefinite"},
                    ],
                },
                {
                    "type": "button",
                    "action_id": "mp_open",
                    "text": {"type": "plain_text", "text": "Open in Marketplace"},
                    "url": "https://market.example.com/requests/42",
                },
            ],
        },
    ]


def modal_view(callback_id: str = "mp_approve_modal", metadata: str = "") -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": metadata,
        "title": {"type": "plain_text", "text": "Approve request"},
        "submit": {"type": "plain_text", "text": "Approve"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": "mp_reason",
                "label": {"type": "plain_text", "text": "Reason"},
                "element": {"type": "plain_text_input", "action_id": "mp_reason_input", "multiline": True},
            },
            {
                "type": "input",
                "block_id": "mp_duration_choice",
                "optional": True,
                "label": {"type": "plain_text", "text": "Grant for"},
                "element": {
                    "type": "static_select",
                    "action_id": "mp_duration_choice_input",
                    "options": [
                        {"text": {"type": "plain_text", "text": "7 days"}, "value": "7:DAYS"},
                        {"text": {"type": "plain_text", "text": "Indefinitely"}, "value": "indefinite"},
                    ],
                },
            },
        ],
    }
