"""Hostile data: huge, numerous, injected, bidirectional, emoji-laden, empty. Nothing may break Slack."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import pytest

from marketplace_slack.domain import (
    AccessRequest,
    ApprovalStep,
    Approver,
    CardState,
    FormAnswer,
    InProgress,
    MaskedColumn,
    Person,
    RecentDeterminations,
    RecordStatus,
    RequestKind,
    RequestStatus,
    RiskAssessment,
    Verdict,
)
from marketplace_slack.slack import messages, views
from marketplace_slack.slack.cards import Card, render_card
from marketplace_slack.slack.limits import FALLBACK_TEXT_MAX
from marketplace_slack.workflow import sentences
from marketplace_slack_standins.fakeslack.blockkit import (
    MESSAGE_BLOCKS_MAX,
    validate_blocks,
    validate_message,
    validate_view,
)

from .factories import NOW, masking_exception, pending_data_access
from .hostile import EMOJI, FORGERIES, HOSTILE, INJECTIONS, RTL, assert_inert

HUGE = HOSTILE + " " + "x" * 10_000


def _evil_person(pid: str, slack_id: str | None = None) -> Person:
    return Person(pid, HOSTILE, HUGE, email=f"{HOSTILE}@evil.example", slack_user_id=slack_id)


def _other_step(i: int) -> ApprovalStep:
    return ApprovalStep(f"x{i}", RecordStatus.OTHER, (Approver("GROUP", HUGE),), reason=HUGE)


def _everything_hostile(status: RequestStatus = RequestStatus.PENDING) -> AccessRequest:
    """Every user- or Marketplace-supplied string is hostile, and every list is oversized."""
    steps = (
        ApprovalStep(
            "s1",
            RecordStatus.APPROVED,
            tuple(
                Approver(kind, HUGE, HOSTILE)
                for kind in ("USER", "GROUP", "PERMISSION", "ATTRIBUTE", HOSTILE)
            ),
            decided_by=_evil_person("d1", slack_id="<!channel>"),  # a forged id must not become a mention
            reason=HUGE,
        ),
        ApprovalStep(
            "s2",
            RecordStatus.DENIED,
            (Approver(HOSTILE, HUGE),) * 40,
            decided_by=_evil_person("d2"),
            reason=HUGE,
        ),
        ApprovalStep("s3", RecordStatus.PENDING, (Approver("GROUP", HUGE),)),
        ApprovalStep("s4", RecordStatus.BLOCKED, (Approver("USER", HUGE),), prerequisites=("s3", HOSTILE)),
        *(
            ApprovalStep(f"x{i}", RecordStatus.OTHER, (Approver("GROUP", HUGE),), reason=HUGE)
            for i in range(60)
        ),
    )
    return AccessRequest(
        id="req-hostile",
        kind=RequestKind.MASKING_EXCEPTION,
        status=status,
        raw_status=HUGE,
        product_id="dp",
        product_name=HUGE,
        domain_id=None,
        requester=_evil_person("r1"),
        requested_by=_evil_person("r2"),
        created_at=NOW,
        expiration=NOW,
        steps=steps,
        answers=tuple(FormAnswer(HUGE, HUGE) for _ in range(200)),
        agreements=(HUGE,) * 50,
        columns=tuple(MaskedColumn(HUGE, HUGE, (HUGE,) * 30) for _ in range(500)),
        columns_total=500,
        risk=RiskAssessment(
            level=HOSTILE,
            recommendation=HUGE,
            n_allowed=10**9,
            n_denied=10**9,
            median_days_to_approve=float("nan"),
            explanation=HUGE,
            approval_reasons=(HUGE,) * 20,
            denial_reasons=(HUGE,) * 20,
            conflict_detected=True,
        ),
        recent=RecentDeterminations(approved=3, denied=4, last_actor=HUGE, last_status=HUGE, last_at=NOW),
        marketplace_url="https://marketplace.example.com/r/" + "a" * 3000,  # too long for a url button
    )


def _check_message(card: Card) -> str:
    assert validate_message(card.as_message()) == []
    assert len(card.text) <= FALLBACK_TEXT_MAX
    assert_inert(card.as_message())
    return json.dumps(card.as_message(), ensure_ascii=False)


@pytest.mark.parametrize("status", list(RequestStatus))
def test_everything_hostile_card_fits_and_is_inert(status: RequestStatus) -> None:
    request = _everything_hostile(status)
    for state in (CardState(request), CardState(request, InProgress(Verdict.DENY, "<!here>"), notice=HUGE)):
        card = render_card(state, now=NOW)
        text = _check_message(card)
        assert len(card.blocks) <= MESSAGE_BLOCKS_MAX
        assert "truncated" in text and "more characters" in text
        assert "&amp;amp;" in text  # an already-escaped entity in the data is shown literally
        assert "mp_open" not in text  # an over-long Marketplace url is dropped, not cut into a broken link
        # Every part is budgeted to fit; the last-resort cut in section_block never had to step in.
        assert "(truncated — open in Marketplace)" not in text


def test_huge_answer_is_truncated_visibly() -> None:
    base = pending_data_access().request
    card = render_card(CardState(replace(base, answers=(FormAnswer("Purpose", "y" * 10_000),))), now=NOW)
    text = _check_message(card)
    assert "y" * 900 in text  # most of the answer is still shown
    assert "y" * 1001 not in text
    assert "more characters — open in Marketplace)" in text


def test_two_hundred_answers_collapse_into_more() -> None:
    base = pending_data_access().request
    answers = tuple(FormAnswer(f"Question {i}", "z" * 500) for i in range(200))
    card = render_card(CardState(replace(base, answers=answers)), now=NOW)
    text = _check_message(card)
    answer_blocks = [b for b in card.blocks if "Question" in json.dumps(b)]
    assert 1 < len(answer_blocks) <= 4
    shown = sum(json.dumps(b).count("Question ") for b in answer_blocks)
    assert f"+{200 - shown} more answers" in text
    assert "Question 199" not in text


def test_five_hundred_columns_show_twenty_and_the_true_count() -> None:
    base = masking_exception().request
    columns = tuple(MaskedColumn("src", f"col_{i:03d}", ("PII",)) for i in range(500))
    card = render_card(CardState(replace(base, columns=columns, columns_total=0)), now=NOW)
    text = _check_message(card)
    assert "(500)" in text
    assert "col_019" in text and "col_020" not in text
    assert "+480 more columns" in text


def test_columns_not_fetched_are_counted_from_columns_total() -> None:
    base = masking_exception().request
    card = render_card(CardState(replace(base, columns=(), columns_total=12)), now=NOW)
    assert "+12 more columns" in _check_message(card)


FIELDS = (
    "answer",
    "question",
    "name",
    "requested_by",
    "product",
    "reason",
    "tag",
    "column",
    "explanation",
    "agreement",
    "email",
)


def _with_field(field: str, evil: str) -> AccessRequest:
    """The masking-exception fixture with `evil` in one user- or Marketplace-supplied field."""
    base = masking_exception().request
    step = ApprovalStep(
        "s1", RecordStatus.DENIED, (Approver("GROUP", "Stewards"),), decided_by=base.requester
    )
    changes: dict[str, Any] = {
        "answer": {"answers": (FormAnswer("Q", evil),)},
        "question": {"answers": (FormAnswer(evil, "A"),)},
        "name": {"requester": Person("p", "u", evil)},
        "requested_by": {"requested_by": Person("p2", evil, evil, email=evil)},
        "product": {"product_name": evil},
        "reason": {"steps": (replace(step, reason=evil),)},
        "tag": {"columns": (MaskedColumn("s", "c", (evil,)),)},
        "column": {"columns": (MaskedColumn(evil, evil),)},
        "explanation": {"risk": RiskAssessment("LOW", explanation=evil, approval_reasons=(evil,))},
        "agreement": {"agreements": (evil,)},
        "email": {"requester": Person("p", "u", "", email=evil)},
    }[field]
    return replace(base, **changes)


@pytest.mark.parametrize("injection", INJECTIONS)
@pytest.mark.parametrize("field", FIELDS)
def test_each_injection_is_inert_in_each_field(injection: str, field: str) -> None:
    request = _with_field(field, f"before {injection} after")
    card = render_card(CardState(request), now=NOW, show_email=True)  # shown, so that it is checked
    text = _check_message(card)
    escaped = injection.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert escaped in text  # shown literally, not dropped
    for message in (
        messages.requester_dm(request, now=NOW),
        messages.decision_thread_reply(request, request.steps[0]),
    ):
        _check_message(message)


@pytest.mark.parametrize("forgery", FORGERIES)
@pytest.mark.parametrize("field", FIELDS)
def test_each_forgery_is_literal_text_in_each_field(forgery: str, field: str) -> None:
    """On the card, in the thread reply and in the requester's DM: shown, readable, never formatted."""
    for evil in (forgery, f"before\n{forgery}\nafter"):  # alone, and on a line of its own
        request = _with_field(field, evil)
        card = render_card(CardState(request), now=NOW, show_email=True)
        text = _check_message(card)  # assert_inert: no bold, quote, code or link made of it
        words = re.sub(r"[*_~`>\u200b]|&gt;", " ", forgery).split()
        assert all(w in text for w in words)  # its words are still there to read (and copy)
        for message in (
            messages.requester_dm(request, now=NOW),
            messages.decision_thread_reply(request, request.steps[0]),
        ):
            _check_message(message)


def test_the_issue_examples_arrive_as_the_requester_typed_them() -> None:
    answer = "*APPROVED BY CISO*\n> Approved by Ada Admin\nhttps://evil.example"
    request = replace(pending_data_access().request, answers=(FormAnswer("Purpose", answer),))
    card = render_card(CardState(request), now=NOW)
    section = next(b["text"] for b in card.blocks if "CISO" in json.dumps(b))
    assert section["verbatim"] is True  # Slack links no bare URL in it
    assert (
        "\n\uff0aAPPROVED BY CISO\uff0a\n\uff1e Approved by Ada Admin\nhttps://evil.example"
        in section["text"]
    )
    assert_inert(card.as_message())


def test_sentences_that_carry_user_words_are_inert() -> None:
    """A username, a Marketplace error or a mistyped command reaches ephemerals and modals too."""
    for sentence in (
        sentences.already_decided("approved", HOSTILE),
        sentences.marketplace_refused(HOSTILE),
        sentences.linked(HOSTILE),
        sentences.unknown_command(FORGERIES[0]),
        sentences.channel_unavailable(HOSTILE, HOSTILE),
    ):
        _check_message(messages.ephemeral(sentence.text, mentioning=sentence.mention))
        _check_message(messages.link_account_prompt(sentence.text))
        for view in (views.refusal_modal(Verdict.APPROVE, sentence), views.link_modal(lead=sentence)):
            assert validate_view(view) == []
            assert_inert(view)


def test_rtl_and_emoji_survive_intact() -> None:
    base = pending_data_access().request
    card = render_card(
        CardState(replace(base, product_name=f"{RTL} {EMOJI}", answers=(FormAnswer(RTL, EMOJI),))), now=NOW
    )
    text = _check_message(card)
    assert RTL in text and EMOJI in text


def test_bidi_overrides_and_control_characters_are_removed() -> None:
    base = pending_data_access().request
    card = render_card(CardState(replace(base, product_name="abc\u202edef\x00\x07")), now=NOW)
    text = _check_message(card)
    assert "\u202e" not in text and "\\u0000" not in text and "\\u0007" not in text
    assert "abcdef" in text


def test_lone_surrogates_never_reach_the_wire() -> None:
    base = pending_data_access().request
    card = render_card(
        CardState(replace(base, product_name="half \ud83d emoji", answers=(FormAnswer("q\udc00", "a"),))),
        now=NOW,
    )
    _check_message(card)  # encode("utf-8") inside would raise
    assert "\ufffd" in json.dumps(card.as_message(), ensure_ascii=False)


def test_empty_strings_and_none_everywhere() -> None:
    nobody = Person("", "", "", email=None)
    request = AccessRequest(
        id="r",
        kind=RequestKind.DATA_ACCESS,
        status=RequestStatus.PENDING,
        raw_status="",
        product_id="",
        product_name="",
        domain_id=None,
        requester=nobody,
        requested_by=Person("x", "", "   \n  ", email=""),
        created_at=NOW,
        expiration=None,
        steps=(
            ApprovalStep("", RecordStatus.APPROVED, (), decided_by=None, reason=""),
            ApprovalStep("b", RecordStatus.BLOCKED, (Approver("", ""),), prerequisites=("missing",)),
            ApprovalStep("c", RecordStatus.PENDING, ()),
        ),
        answers=(FormAnswer("", ""), FormAnswer("  ", "\n\n")),
        agreements=("",),
        columns=(MaskedColumn("", "", ("", " ")),),
        risk=RiskAssessment(level="", recommendation="", explanation="", approval_reasons=("",)),
        recent=RecentDeterminations(last_actor="", last_status=""),
        marketplace_url="",
    )
    for state in (CardState(request, notice=""), CardState(replace(request, status=RequestStatus.OTHER))):
        card = render_card(state, now=NOW)
        text = _check_message(card)
        assert "Untitled data product" in text
        assert "Unknown user" in text
        assert "after an earlier stage" in text
    for message in (
        messages.requester_dm(request, now=NOW),
        messages.decision_thread_reply(request, request.steps[0]),
        messages.ephemeral(""),
        messages.link_account_prompt(""),
    ):
        _check_message(message)


def test_hostile_modals_and_ephemerals() -> None:
    for view in (
        views.approve_modal(HUGE, HUGE, initial_duration=HOSTILE, private_metadata="m" * 3000),
        views.deny_modal(HUGE, HUGE, private_metadata=""),
    ):
        assert validate_view(view) == []
        assert_inert(view)
    for card in (messages.ephemeral(HUGE), messages.link_account_prompt(HUGE)):
        text = _check_message(card)
        assert "truncated" in text


def test_validator_agrees_on_blocks_alone() -> None:
    card = render_card(CardState(_everything_hostile()), now=NOW)
    assert validate_blocks(card.blocks, surface="message") == []
