"""Cards, modals and messages for representative states, compared with reviewed golden files."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from marketplace_slack.domain import CardState, Verdict
from marketplace_slack.slack import messages, views
from marketplace_slack.slack.cards import render_card, render_retired
from marketplace_slack.workflow import sentences
from marketplace_slack_standins.fakeslack.blockkit import validate_blocks, validate_message, validate_view

from .factories import (
    CARD_STATES,
    NOW,
    all_stewards,
    approved_with_expiration,
    denied,
    multi_step_blocked,
    pending_data_access,
    requested_for_someone_else,
    sequential_stages,
)
from .golden import assert_golden


@pytest.mark.parametrize("name", sorted(CARD_STATES))
def test_card_matches_golden(name: str) -> None:
    factory: Callable[[], CardState] = CARD_STATES[name]
    card = render_card(factory(), now=NOW)
    assert validate_message(card.as_message()) == []
    assert_golden(f"card_{name}", card.as_message())


def test_a_retired_duplicate_card_matches_golden() -> None:
    card = render_retired(
        pending_data_access(), now=NOW, live_url="https://marketplace-demo.slack.com/archives/C0STEWARDS/p1"
    )
    assert validate_message(card.as_message()) == []
    assert_golden("card_retired_duplicate", card.as_message())


def test_modals_match_golden() -> None:
    approve = views.approve_modal(
        "req-1001", "Customer 360", initial_duration="30:DAYS", private_metadata='{"r":"req-1001"}'
    )
    deny = views.deny_modal("req-1001", "Customer 360", private_metadata='{"r":"req-1001"}')
    link = views.link_modal(private_metadata='{"c":"C123"}')
    shown = (
        ("approve", approve),
        ("deny", deny),
        ("link", link),
        ("pending", views.pending_modal(Verdict.APPROVE)),
        ("refusal", views.refusal_modal(Verdict.DENY, sentences.already_decided("approved", "Omar Hassan"))),
        ("link_first", views.link_modal(private_metadata='{"c":"C123"}', lead=sentences.LINK_FIRST)),
    )
    for name, view in shown:
        assert validate_view(view) == []
        assert_golden(f"modal_{name}", view)


def test_messages_match_golden() -> None:
    approved = approved_with_expiration().request
    refused = denied().request
    rendered = {
        "thread_reply_approved": messages.decision_thread_reply(approved, approved.steps[0]),
        "thread_reply_denied": messages.decision_thread_reply(refused, refused.steps[0]),
        "thread_reply_step_of_many": messages.decision_thread_reply(
            multi_step_blocked().request, multi_step_blocked().request.steps[0]
        ),
        "thread_reply_all_stewards": messages.decision_thread_reply(
            all_stewards().request, all_stewards().request.steps[1]
        ),
        "thread_reply_stage_of_many": messages.decision_thread_reply(
            sequential_stages().request, sequential_stages().request.steps[0]
        ),
        "dm_approved": messages.requester_dm(approved, now=NOW),
        "dm_denied": messages.requester_dm(refused, now=NOW),
        "dm_pending_for_someone_else": messages.requester_dm(requested_for_someone_else().request, now=NOW),
        "link_account_prompt": messages.link_account_prompt(),
        "ephemeral": messages.ephemeral("This request is already approved by Jane Doe."),
    }
    for name, message in rendered.items():
        assert validate_blocks(message.blocks, surface="message") == []
        assert_golden(f"message_{name}", message.as_message())
