"""The catalogue says each outcome one way, and every outcome has its sentence."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from marketplace_slack.domain import Refusal
from marketplace_slack.workflow import sentences
from marketplace_slack.workflow.sentences import Outcome, Sentence


def every_sentence() -> list[Sentence]:
    fixed = [v for v in vars(sentences).values() if isinstance(v, Sentence)]
    filled = [
        sentences.someone_deciding("U0OMAR"),
        sentences.already_decided("approved", "Omar Hassan"),
        sentences.marketplace_refused("not an approver"),
        sentences.refusal(Refusal("settled", "approved", "Omar Hassan")),
        sentences.refusal(Refusal("decided", "denied", "Sara Smith")),
        sentences.reason_too_long(1000),
        sentences.custom_amount_out_of_range(1000),
        sentences.linked("ssmith"),
        sentences.link_expires_soon(datetime(2027, 3, 3, 14, 0, tzinfo=UTC)),
        sentences.snoozed(1),
        sentences.unknown_command("frobnicate"),
        sentences.channel_unavailable("G0SECURITY", "channel_not_found"),
        sentences.cards_queued(37),
        sentences.product_not_found("Custmer 360"),
        sentences.already_have_access("Customer 360", datetime(2027, 3, 3, 14, 0, tzinfo=UTC)),
        sentences.renewal_planned("Customer 360", datetime(2027, 3, 3, 14, 0, tzinfo=UTC)),
        sentences.already_requested("Customer 360"),
        sentences.request_refused("form field 'Purpose' is required"),
        sentences.request_conflict("rick already has a PENDING access request"),
        sentences.request_canceled("Customer 360"),
        sentences.request_filed_unread("req-1"),
    ]
    return fixed + filled


def test_every_outcome_has_exactly_one_sentence() -> None:
    said = [s.outcome for s in every_sentence()]
    assert sorted(said) == sorted(Outcome)


def test_sentences_carry_the_names_they_are_given_raw_and_whole() -> None:
    assert sentences.refusal(Refusal("settled", "approved", "<!channel>")).text == (
        "This request is already approved by <!channel>."  # escaped once, by the renderer
    )
    assert sentences.refusal(Refusal("settled", "canceled")).text == "This request is already canceled."
    assert sentences.refusal(Refusal("blocked")) is sentences.STEP_BLOCKED
    assert sentences.refusal(Refusal("not_approver")) is sentences.NOT_AN_APPROVER
    assert sentences.already_decided(None, None).text == "This step was already decided by someone else."
    assert sentences.snoozed(3).text == "Snoozed: no reminders about this request for 3 days."
    assert sentences.unknown_command("x" * 100).text == f'I don\'t know "{"x" * 40}". Try /marketplace help.'


def test_a_backlog_is_counted_until_all_are_posted() -> None:
    assert sentences.cards_queued(37).text == "37 more requests are queued; see the digest."
    assert sentences.cards_queued(1).text == "1 more request is queued; see the digest."
    assert sentences.cards_queued(1000).text == "1,000 more requests are queued; see the digest."
    assert sentences.cards_queued(0).text == "All queued requests are posted."


def test_a_links_end_is_said_in_utc_with_the_way_to_renew() -> None:
    berlin_morning = datetime(2027, 3, 3, 15, 0, tzinfo=UTC).astimezone(ZoneInfo("Europe/Berlin"))
    assert sentences.link_expires_soon(berlin_morning).text == (
        "Your Marketplace link expires on 3 March 2027 at 15:00 UTC; run /marketplace link to renew it."
    )
