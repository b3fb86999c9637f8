"""The pure rules of a consumer's answers (domain.forms): what is refused locally, what is sent."""

from __future__ import annotations

from marketplace_slack.domain import Duration, DurationUnit, RequestKind
from marketplace_slack.domain.forms import (
    SHORT_ANSWER_MAX,
    AnswerProblem,
    Question,
    QuestionType,
    RequestForm,
    carry_over,
    problems,
    wire_answers,
)

PURPOSE = Question("q-purpose", QuestionType.DROPDOWN, "Purpose", options=("Analytics", "Audit"))
REGIONS = Question("q-regions", QuestionType.CHECKBOXES, "Regions", options=("NA", "EU"))
WHY = Question("q-why", QuestionType.SHORT_ANSWER, "Why", required=False)
HOW_LONG = Question(
    "q-long", QuestionType.ACCESS_DURATION, "How long?", maximum=Duration(30, DurationUnit.DAYS)
)
FORM = RequestForm(
    "f-1", "v-1", "Customer Data Request", RequestKind.DATA_ACCESS, (PURPOSE, REGIONS, WHY, HOW_LONG)
)


def test_required_questions_and_options_are_checked() -> None:
    assert problems(FORM, {}) == {
        "q-purpose": AnswerProblem.REQUIRED,
        "q-regions": AnswerProblem.REQUIRED,
        "q-long": AnswerProblem.REQUIRED,
    }
    wrong = {"q-purpose": "Fun", "q-regions": ("NA", "MARS"), "q-long": Duration(2, DurationUnit.HOURS)}
    assert problems(FORM, wrong) == {
        "q-purpose": AnswerProblem.NOT_AN_OPTION,
        "q-regions": AnswerProblem.NOT_AN_OPTION,
    }


def test_a_duration_past_the_policys_longest_and_an_overlong_answer_are_refused() -> None:
    answers = {
        "q-purpose": "Audit",
        "q-regions": ("EU",),
        "q-why": "x" * (SHORT_ANSWER_MAX + 1),
        "q-long": Duration(5, DurationUnit.WEEKS),
    }
    assert problems(FORM, answers) == {
        "q-why": AnswerProblem.TOO_LONG,
        "q-long": AnswerProblem.LONGER_THAN_ALLOWED,
    }
    assert problems(FORM, {**answers, "q-why": "ok", "q-long": Duration(4, DurationUnit.WEEKS)}) == {}


def test_answers_go_out_keyed_by_question_in_the_shapes_the_form_takes() -> None:
    sent = wire_answers(
        {
            "q-purpose": "Audit",
            "q-regions": ("EU", "NA"),
            "q-why": "",
            "q-long": Duration(3, DurationUnit.DAYS),
        }
    )
    assert sent == {
        "q-purpose": "Audit",
        "q-regions": ["EU", "NA"],
        "q-long": {"duration": 3, "durationUnit": "DAYS"},
    }


def test_request_again_keeps_what_still_fits_and_names_what_it_dropped() -> None:
    changed = RequestForm(
        "f-1",
        "v-2",
        "Customer Data Request",
        RequestKind.DATA_ACCESS,
        (Question("q-purpose", QuestionType.DROPDOWN, "Purpose", options=("Audit",)), REGIONS),
    )
    kept, dropped = carry_over(
        changed, {"q-purpose": "Analytics", "q-regions": ("EU",), "q-gone": "something"}, {"q-gone": "Team"}
    )
    assert kept == {"q-regions": ("EU",)}
    assert set(dropped) == {"Purpose", "Team"}  # by the label the consumer answered, never an id
