"""Thread replies, requester DMs, ephemeral one-liners and the link-account prompt."""

from __future__ import annotations

import json
from dataclasses import replace

from marketplace_slack.domain import (
    ApprovalStep,
    Approver,
    Duration,
    DurationUnit,
    RecordStatus,
    RequestKind,
    RequestStatus,
)
from marketplace_slack.slack import ids
from marketplace_slack.slack.cards import Card
from marketplace_slack.slack.messages import (
    decision_thread_reply,
    ephemeral,
    link_account_prompt,
    requester_dm,
)
from marketplace_slack.workflow import sentences
from marketplace_slack_standins.fakeslack.blockkit import validate_message

from .factories import (
    NOW,
    OMAR,
    approved_with_expiration,
    canceled,
    denied,
    masking_exception,
    multi_step_blocked,
)


def _text(card: Card) -> str:
    assert validate_message(card.as_message()) == []
    return json.dumps(card.as_message(), ensure_ascii=False)


def test_thread_reply_records_who_what_how_long_why() -> None:
    request = approved_with_expiration().request
    card = decision_thread_reply(request, request.steps[0])
    text = _text(card)
    assert "✅ Approved by Omar Hassan for 30 days, until <!date^1798016400^" in text
    assert "*Reason:* Approved for the quarterly review." in text
    assert card.text == "Approved by Omar Hassan for 30 days"


def test_thread_reply_for_a_denial_mentions_the_decider_but_the_fallback_does_not() -> None:
    request = denied().request
    card = decision_thread_reply(request, request.steps[0])
    assert "⛔ Denied by <@U0JANE>" in _text(card)
    assert card.text == "Denied by Jane Doe"


def test_thread_reply_for_one_step_of_many_and_for_indefinite_access() -> None:
    request = multi_step_blocked().request
    reply = _text(decision_thread_reply(request, request.steps[0]))
    assert "— 1 of 2 stewards has approved (stage 1 of 2)" in reply
    step = ApprovalStep("s", RecordStatus.APPROVED, (Approver("GROUP", "g"),), decided_by=None, reason=None)
    single = replace(request, steps=(step,), expiration=None)
    card = decision_thread_reply(single, step)
    assert "✅ Approved by an approver with no expiration" in _text(card)
    assert "Reason" not in _text(card) and "stage" not in _text(card) and "stewards" not in _text(card)


def test_requester_dm_approved_denied_and_others() -> None:
    approved = approved_with_expiration().request
    text = _text(requester_dm(approved, now=NOW))
    assert "✅ Your request for access to *Customer 360* was approved until <!date^1798016400^" in text
    assert '"url": "https://marketplace.example.com/requests/req-1001"' in text
    assert ids.OPEN_IN_MARKETPLACE in text

    refused = _text(requester_dm(denied().request, now=NOW))
    assert "was denied by <@U0JANE>." in refused
    assert "*Reason:* Use the aggregated churn dataset instead" in refused

    assert "was canceled." in _text(requester_dm(canceled().request, now=NOW))
    for status, line in ((RequestStatus.REVOKED, "was revoked."), (RequestStatus.EXPIRED, "has expired.")):
        assert line in _text(requester_dm(replace(approved, status=status), now=NOW))
    masking = replace(masking_exception().request, status=RequestStatus.APPROVED, expiration=None)
    assert "a masking exception on *Payments Ledger* was approved with no expiration" in _text(
        requester_dm(masking, now=NOW)
    )
    assert masking.kind is RequestKind.MASKING_EXCEPTION


def test_requester_dm_mentions_who_asked_on_their_behalf_and_omits_a_missing_link() -> None:
    request = replace(approved_with_expiration().request, requested_by=OMAR, marketplace_url=None)
    card = requester_dm(request, now=NOW)
    text = _text(card)
    assert "_Requested for you by Omar Hassan (omar.hassan@example.com)._" in text
    assert all(b["type"] != "actions" for b in card.blocks)


def test_requester_dm_notes_an_expiration_already_passed() -> None:
    request = approved_with_expiration().request
    assert request.expiration is not None
    assert "(that time has passed)" in _text(requester_dm(request, now=request.expiration))


def test_ephemeral_is_escaped_and_one_section() -> None:
    card = ephemeral("This request is already approved by <!channel> & co.")
    assert card.blocks == [
        {"type": "section", "text": {"type": "mrkdwn", "text": card.text, "verbatim": True}},
    ]
    assert card.text == "This request is already approved by &lt;!channel&gt; &amp; co."


def test_ephemeral_mentions_only_the_sentences_own_user_after_escaping() -> None:
    someone = sentences.someone_deciding("U0OMAR")
    card = ephemeral(someone.text, mentioning=someone.mention)
    assert card.text == "<@U0OMAR> is deciding this step right now."
    # A mention smuggled in the words stays text; a malformed id is never spliced in.
    assert ephemeral("<@U1> {mention}", mentioning="U0OMAR").text == "&lt;@U1&gt; <@U0OMAR>"
    assert ephemeral("{mention} is deciding", mentioning="<!channel>").text == "someone is deciding"


def test_link_account_prompt_has_one_sentence_and_the_button() -> None:
    card = link_account_prompt()
    (block,) = card.blocks
    assert block["accessory"]["action_id"] == ids.LINK_ACCOUNT
    assert block["accessory"]["text"]["text"] == "Link account"
    assert card.text.count(".") == 1
    custom = link_account_prompt("Link first, <@U1>.")
    assert custom.text == "Link first, &lt;@U1&gt;."
    assert _text(custom)


def test_durations_in_steps_read_naturally() -> None:
    request = approved_with_expiration().request
    step = replace(request.steps[0], duration=Duration(1, DurationUnit.WEEKS))
    assert "for 1 week," in _text(decision_thread_reply(request, step))
