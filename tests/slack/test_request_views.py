"""The consumer's request modal: every question type as Slack shows it, read back from the view alone."""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from marketplace_slack.domain import (
    AccessRequest,
    ApprovalStep,
    Approver,
    Duration,
    DurationUnit,
    Person,
    RecordStatus,
    RequestKind,
    RequestStatus,
)
from marketplace_slack.domain.forms import (
    SHORT_ANSWER_MAX,
    Agreement,
    Answer,
    MaskedColumnChoice,
    ProductChoice,
    Question,
    QuestionType,
    RequestDraft,
    RequestForm,
)
from marketplace_slack.slack import ids
from marketplace_slack.slack.mrkdwn import split_text
from marketplace_slack.slack.request_status import (
    request_filed_modal,
    request_loading_modal,
    request_notice_modal,
)
from marketplace_slack.slack.request_values import (
    PICK_INPUT,
    PICKS_INPUT,
    TEXT_INPUT,
    UNIT_INPUT,
    RequestAnswers,
    column_options,
    decode_value,
    encode_value,
    parse_request_submission,
    question_id_of,
    question_options,
)
from marketplace_slack.slack.request_views import request_modal
from marketplace_slack.workflow import sentences
from marketplace_slack.workflow.consumer_ports import Filed
from marketplace_slack_standins.fakeslack.blockkit import validate_view
from slack.hostile import HOSTILE, INJECTIONS, assert_inert

PAYLOADS = Path(__file__).parents[1] / "data" / "slack-payloads"
PRODUCT = ProductChoice(
    "dp-42",
    "Customer 360",
    description="Every customer, one row.",
    domain="Finance",
    url="https://marketplace.example.com/products/dp-42",
    request_url="https://marketplace.example.com/products/dp-42/request",
)
Q = QuestionType
PURPOSE = Question("q-purpose", Q.SHORT_ANSWER, "Business purpose")
REGION = Question("q-region", Q.DROPDOWN, "Region", options=("EMEA", "AMER", "APAC"))
USES = Question("q-uses", Q.CHECKBOXES, "Uses", required=False, options=("Reporting", "ML", "Audit"))
LONG_LIST = Question("q-teams", Q.CHECKBOXES, "Teams", options=tuple(f"team {i}" for i in range(40)))
HOW_LONG = Question("q-duration", Q.ACCESS_DURATION, "How long", maximum=Duration(90, DurationUnit.DAYS))
TERMS = Agreement("a-terms", "Customer Data Handling Policy", "Handle with care.\n\nDelete after use.")
FORM = RequestForm(
    "f-1", "7", "Access form", RequestKind.DATA_ACCESS, (PURPOSE, REGION, USES, LONG_LIST, HOW_LONG), (TERMS,)
)
CONTEXT = '{"p":"dp-42","sig":"abc"}'


def _draft(form: RequestForm | None = FORM, **kw: Any) -> RequestDraft:
    return RequestDraft(PRODUCT, kw.pop("kind", RequestKind.DATA_ACCESS), form, **kw)


def _valid(view: dict[str, Any]) -> dict[str, Any]:
    assert validate_view(view) == []
    return view


def _blocks(view: dict[str, Any], base: str) -> list[dict[str, Any]]:
    return [b for b in view["blocks"] if ids.base_of(b.get("block_id", "")) == base]


def _only(view: dict[str, Any], base: str) -> dict[str, Any]:
    (block,) = _blocks(view, base)
    return block


def _q(question_id: str) -> str:
    return ids.QUESTION_BLOCK + question_id


def _texts(view: dict[str, Any]) -> str:
    return json.dumps(view, ensure_ascii=False)


# --- what each question becomes ---------------------------------------------------------------------


def test_the_form_opens_on_the_product_and_kind_pickers_that_dispatch_a_change() -> None:
    view = _valid(request_modal(_draft(), context=CONTEXT))
    assert view["callback_id"] == ids.REQUEST_MODAL
    assert view["private_metadata"] == CONTEXT
    assert view["submit"]["text"] == "Request"
    product, kind = view["blocks"][0], view["blocks"][1]
    assert ids.base_of(product["block_id"]) == ids.REQUEST_PRODUCT_BLOCK
    assert product["dispatch_action"] is True
    assert product["element"]["type"] == "external_select"
    assert product["element"]["action_id"] == ids.REQUEST_PRODUCT_INPUT
    assert product["element"]["min_query_length"] == 0
    assert product["element"]["initial_option"] == {
        "text": {"type": "plain_text", "text": "Customer 360", "emoji": True},
        "value": "dp-42",
    }
    assert kind["dispatch_action"] is True
    assert kind["element"]["type"] == "radio_buttons"
    assert [o["value"] for o in kind["element"]["options"]] == ["DATA_ACCESS", "MASKING_EXCEPTION"]
    assert kind["element"]["initial_option"]["value"] == "DATA_ACCESS"
    assert "Finance" in _texts(view) and "Every customer, one row." in _texts(view)
    someone = _only(view, ids.REQUEST_FOR_BLOCK)
    assert someone["optional"] is True and someone["element"]["type"] == "users_select"
    assert someone["element"]["action_id"] == ids.REQUEST_FOR_INPUT


def test_requesting_for_someone_else_can_be_left_out() -> None:
    view = _valid(request_modal(_draft(), context=CONTEXT, allow_for_others=False))
    assert _blocks(view, ids.REQUEST_FOR_BLOCK) == []


def test_each_question_type_becomes_its_input() -> None:
    view = _valid(request_modal(_draft(), context=CONTEXT))
    purpose = _only(view, _q("q-purpose"))
    assert purpose["element"] == {
        "type": "plain_text_input",
        "action_id": TEXT_INPUT,
        "multiline": True,
        "max_length": SHORT_ANSWER_MAX,
    }
    assert purpose["optional"] is False and purpose["label"]["text"] == "Business purpose"
    region = _only(view, _q("q-region"))["element"]
    assert region["type"] == "static_select" and region["action_id"] == PICK_INPUT
    assert [o["value"] for o in region["options"]] == ["EMEA", "AMER", "APAC"]
    uses = _only(view, _q("q-uses"))
    assert uses["optional"] is True
    assert uses["element"]["type"] == "checkboxes" and uses["element"]["action_id"] == PICKS_INPUT
    teams = _only(view, _q("q-teams"))["element"]
    assert teams["type"] == "multi_static_select" and len(teams["options"]) == 40
    amount, unit = _blocks(view, _q("q-duration"))
    assert amount["block_id"] != unit["block_id"]
    assert amount["element"]["type"] == "number_input"
    assert amount["element"]["is_decimal_allowed"] is False and amount["element"]["min_value"] == "1"
    assert amount["hint"]["text"] == "At most 90 days."
    assert unit["element"]["action_id"] == UNIT_INPUT
    assert [o["value"] for o in unit["element"]["options"]] == ["HOURS", "DAYS", "WEEKS", "MONTHS", "YEARS"]


def test_an_optional_duration_is_optional_in_both_its_inputs() -> None:
    question = Question("q-d", Q.ACCESS_DURATION, "How long", required=False)
    view = _valid(request_modal(_draft(_form(question)), context=CONTEXT))
    amount, unit = _blocks(view, _q("q-d"))
    assert amount["optional"] is True and unit["optional"] is True
    assert "hint" not in amount  # no maximum, nothing to say


def test_earlier_answers_are_prefilled() -> None:
    answers: dict[str, Answer] = {
        "q-purpose": "Churn analysis",
        "q-region": "AMER",
        "q-uses": ("ML", "Audit"),
        "q-teams": ("team 3",),
        "q-duration": Duration(2, DurationUnit.WEEKS),
    }
    view = _valid(request_modal(_draft(answers=answers), context=CONTEXT))
    assert _only(view, _q("q-purpose"))["element"]["initial_value"] == "Churn analysis"
    assert _only(view, _q("q-region"))["element"]["initial_option"]["value"] == "AMER"
    assert [o["value"] for o in _only(view, _q("q-uses"))["element"]["initial_options"]] == ["ML", "Audit"]
    assert [o["value"] for o in _only(view, _q("q-teams"))["element"]["initial_options"]] == ["team 3"]
    amount, unit = _blocks(view, _q("q-duration"))
    assert amount["element"]["initial_value"] == "2"
    assert unit["element"]["initial_option"]["value"] == "WEEKS"


def test_a_changed_prefill_gets_a_fresh_block_id_and_an_unchanged_input_keeps_its_own() -> None:
    before = request_modal(_draft(), context=CONTEXT)
    after = request_modal(_draft(answers={"q-purpose": "Churn"}), context=CONTEXT)
    assert _only(before, _q("q-purpose"))["block_id"] != _only(after, _q("q-purpose"))["block_id"]
    assert _only(before, _q("q-region"))["block_id"] == _only(after, _q("q-region"))["block_id"]


def test_dropped_answers_are_named() -> None:
    view = _valid(request_modal(_draft(dropped=("Cost centre", "Manager")), context=CONTEXT))
    assert sentences.REQUEST_ANSWERS_DROPPED.text + " Cost centre, Manager" in _texts(view)


def test_an_agreement_is_shown_whole_and_must_be_ticked() -> None:
    view = _valid(request_modal(_draft(), context=CONTEXT))
    header = next(b for b in view["blocks"] if b["type"] == "header")
    assert header["text"]["text"] == "Customer Data Handling Policy"
    sections = [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"]
    assert "Handle with care.\n\nDelete after use." in sections
    tick = _only(view, ids.AGREEMENT_BLOCK + "a-terms")
    assert tick["optional"] is False
    assert tick["element"]["type"] == "checkboxes" and tick["element"]["action_id"] == ids.AGREEMENT_INPUT
    assert tick["element"]["options"][0]["text"]["text"] == "I agree to Customer Data Handling Policy"


# --- round trip ---------------------------------------------------------------------------------------


def _submission(view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """The recorded view_submission body, carrying our modal and the given state values."""
    body = json.loads((PAYLOADS / "view_submission.json").read_text())
    body["view"].update(copy.deepcopy(view))
    body["view"]["state"] = {"values": values}
    return body


def _picked(option: dict[str, Any]) -> dict[str, Any]:
    return {"text": option["text"], "value": option["value"]}


def _state_like_slack(view: dict[str, Any], choose: dict[str, Any]) -> dict[str, Any]:
    """`state.values` as Slack builds it from the view's inputs: `choose[block_id]` is what the user
    entered (a value, an option value or values, a user id); other inputs keep their initial state."""
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element, block_id = block["element"], block["block_id"]
        kind, picked = element["type"], choose.get(block_id)
        state: dict[str, Any] = {"type": kind}
        if kind in ("plain_text_input", "number_input"):
            state["value"] = picked if picked is not None else element.get("initial_value")
        elif kind == "users_select":
            state["selected_user"] = picked
        elif kind in ("checkboxes", "multi_static_select", "multi_external_select"):
            if picked is None:
                state["selected_options"] = element.get("initial_options", [])
            else:
                state["selected_options"] = [
                    {"text": {"type": "plain_text", "text": v}, "value": v} for v in picked
                ]
        else:
            if picked is None:
                option = element.get("initial_option")
                state["selected_option"] = _picked(option) if option else None
            else:
                state["selected_option"] = {"text": {"type": "plain_text", "text": picked}, "value": picked}
        values[block_id] = {element["action_id"]: state}
    return values


def _id(view: dict[str, Any], base: str, index: int = 0) -> str:
    return str(_blocks(view, base)[index]["block_id"])


def test_a_filled_form_parses_back_into_its_answers() -> None:
    view = request_modal(_draft(), context=CONTEXT)
    choose = {
        _id(view, ids.REQUEST_FOR_BLOCK): "U0NORA",
        _id(view, _q("q-purpose")): "  Quarterly churn analysis  ",
        _id(view, _q("q-region")): "APAC",
        _id(view, _q("q-uses")): ["Reporting", "ML"],
        _id(view, _q("q-teams")): ["team 1", "team 39"],
        _id(view, _q("q-duration"), 0): "30",
        _id(view, _q("q-duration"), 1): "DAYS",
        _id(view, ids.AGREEMENT_BLOCK + "a-terms"): ["agreed"],
    }
    body = _submission(view, _state_like_slack(view, choose))
    expected = RequestAnswers(
        answers={
            "q-purpose": "Quarterly churn analysis",
            "q-region": "APAC",
            "q-uses": ("Reporting", "ML"),
            "q-teams": ("team 1", "team 39"),
            "q-duration": Duration(30, DurationUnit.DAYS),
        },
        columns=(),
        agreements=("a-terms",),
        for_user="U0NORA",
        product_id="dp-42",
        kind="DATA_ACCESS",
    )
    assert parse_request_submission(body["view"]) == expected
    assert parse_request_submission(body["view"]["state"]["values"]) == expected


def test_unanswered_optional_questions_are_left_out() -> None:
    view = request_modal(_draft(), context=CONTEXT)
    choose = {
        _id(view, _q("q-purpose")): "x",
        _id(view, _q("q-region")): "EMEA",
        _id(view, _q("q-teams")): ["team 0"],
        _id(view, _q("q-duration"), 0): "1",
        _id(view, ids.AGREEMENT_BLOCK + "a-terms"): ["agreed"],
    }
    parsed = parse_request_submission(_state_like_slack(view, choose))
    assert isinstance(parsed, RequestAnswers)
    assert "q-uses" not in parsed.answers and parsed.for_user is None
    assert parsed.answers["q-duration"] == Duration(1, DurationUnit.DAYS)  # the unit preselected


@pytest.mark.parametrize(
    ("amount", "unit", "where", "sentence"),
    [
        ("0", "DAYS", 0, sentences.REQUEST_DURATION_AMOUNT_INVALID),
        ("10000", "DAYS", 0, sentences.REQUEST_DURATION_AMOUNT_INVALID),
        ("2.5", "DAYS", 0, sentences.REQUEST_DURATION_AMOUNT_INVALID),
        ("²", "DAYS", 0, sentences.REQUEST_DURATION_AMOUNT_INVALID),
        ("9" * 5000, "DAYS", 0, sentences.REQUEST_DURATION_AMOUNT_INVALID),
        ("3", None, 1, sentences.REQUEST_DURATION_UNIT_NEEDED),
        ("3", "FORTNIGHTS", 1, sentences.REQUEST_DURATION_UNIT_NEEDED),
    ],
)
def test_a_bad_duration_is_refused_on_its_own_block(
    amount: str, unit: str | None, where: int, sentence: sentences.Sentence
) -> None:
    view = request_modal(_draft(_form(HOW_LONG)), context=CONTEXT)
    values = _state_like_slack(view, {_id(view, _q("q-duration"), 0): amount})
    unit_block = _id(view, _q("q-duration"), 1)
    values[unit_block][UNIT_INPUT]["selected_option"] = None if unit is None else {"value": unit}
    assert parse_request_submission(values) == {_id(view, _q("q-duration"), where): sentence.text}


def test_an_agreement_left_unticked_is_refused_on_its_block() -> None:
    view = request_modal(_draft(_form(agreements=(TERMS,))), context=CONTEXT)
    values = _state_like_slack(view, {})
    block = _id(view, ids.AGREEMENT_BLOCK + "a-terms")
    assert parse_request_submission(values) == {block: sentences.REQUEST_AGREEMENT_NEEDED.text}


def _form(
    *questions: Question, agreements: tuple[Agreement, ...] = (), kind: RequestKind = RequestKind.DATA_ACCESS
) -> RequestForm:
    return RequestForm("f-2", "1", "Form", kind, questions, agreements)


COLUMNS = (
    MaskedColumnChoice("src-1", "Warehouse", "email"),
    MaskedColumnChoice("src-1", "Warehouse", "phone"),
    MaskedColumnChoice("src-2", "Lake", "ssn/raw"),
)


def _masking(**kw: Any) -> RequestDraft:
    return _draft(_form(kind=RequestKind.MASKING_EXCEPTION), kind=RequestKind.MASKING_EXCEPTION, **kw)


def test_masked_columns_are_grouped_by_source_and_parse_back() -> None:
    view = _valid(
        request_modal(
            _masking(columns=COLUMNS, columns_total=3, picked_columns=("src-1/phone",)), context=CONTEXT
        )
    )
    block = _only(view, ids.COLUMNS_BLOCK)
    element = block["element"]
    assert block["optional"] is False
    assert element["type"] == "multi_static_select" and element["action_id"] == ids.COLUMNS_INPUT
    assert [g["label"]["text"] for g in element["option_groups"]] == ["Warehouse", "Lake"]
    assert [o["value"] for o in element["option_groups"][0]["options"]] == ["src-1/email", "src-1/phone"]
    assert [o["value"] for o in element["initial_options"]] == ["src-1/phone"]
    assert "masked columns;" not in _texts(view)  # all are offered: no count to explain
    parsed = parse_request_submission(
        _state_like_slack(view, {block["block_id"]: ["src-1/email", "src-2/ssn/raw"]})
    )
    assert isinstance(parsed, RequestAnswers)
    assert parsed.columns == (("src-1", "email"), ("src-2", "ssn/raw"))
    assert parsed.kind == "MASKING_EXCEPTION"


def test_no_column_picked_is_refused_on_the_columns_block() -> None:
    view = request_modal(_masking(columns=COLUMNS, columns_total=3), context=CONTEXT)
    block = _id(view, ids.COLUMNS_BLOCK)
    assert parse_request_submission(_state_like_slack(view, {})) == {
        block: sentences.REQUEST_COLUMNS_NEEDED.text
    }


def test_a_product_without_masked_columns_has_nothing_to_submit() -> None:
    view = _valid(request_modal(_masking(), context=CONTEXT))
    assert "submit" not in view
    assert sentences.REQUEST_NO_MASKED_COLUMNS.text in _texts(view)


# --- when there is no form to fill in -------------------------------------------------------------


@pytest.mark.parametrize(
    ("draft", "sentence"),
    [
        (_draft(None), sentences.REQUEST_NO_FORM),
        (
            _draft(
                RequestForm("f", "1", "F", RequestKind.DATA_ACCESS, (PURPOSE,), unsupported=("File upload",))
            ),
            sentences.REQUEST_FORM_UNSUPPORTED,
        ),
    ],
)
def test_no_form_or_an_unsupported_one_says_so_and_links_to_the_marketplace(
    draft: RequestDraft, sentence: sentences.Sentence
) -> None:
    view = _valid(request_modal(draft, context=CONTEXT))
    assert "submit" not in view and view["close"]["text"] == "Close"
    assert not any(b["type"] == "input" for b in view["blocks"])
    assert sentence.text in _texts(view)
    assert PRODUCT.request_url in [b.get("accessory", {}).get("url") for b in view["blocks"]]
    pickers = view["blocks"][0]
    assert pickers["type"] == "actions"  # another product or kind can still be chosen
    assert [e["action_id"] for e in pickers["elements"]] == [
        ids.REQUEST_PRODUCT_INPUT,
        ids.REQUEST_KIND_INPUT,
    ]


def _too_large(view: dict[str, Any]) -> None:
    assert validate_view(view) == []
    assert len(view["blocks"]) <= 100
    assert "submit" not in view
    assert not any(b["type"] == "input" for b in view["blocks"])
    assert sentences.REQUEST_FORM_TOO_LARGE.text in _texts(view)
    assert PRODUCT.request_url in [b.get("accessory", {}).get("url") for b in view["blocks"]]


def test_a_form_of_150_questions_is_too_large_never_partial() -> None:
    questions = tuple(Question(f"q-{i}", Q.SHORT_ANSWER, f"Question {i}") for i in range(150))
    _too_large(request_modal(_draft(_form(*questions)), context=CONTEXT))


def test_an_agreement_too_long_for_100_blocks_is_too_large() -> None:
    agreement = Agreement("a-1", "Terms", ("word " * 600 + "\n\n") * 110)
    _too_large(request_modal(_draft(_form(agreements=(agreement,))), context=CONTEXT))


@pytest.mark.parametrize(
    "question",
    [
        Question("q-1", Q.DROPDOWN, "Pick", options=("x" * 151,)),
        Question("q-1", Q.DROPDOWN, "Pick", options=()),
        Question("q" * 201, Q.SHORT_ANSWER, "Long id"),
    ],
    ids=["option-value-too-long", "no-options", "id-too-long"],
)
def test_a_question_slack_cannot_carry_makes_the_form_too_large(question: Question) -> None:
    _too_large(request_modal(_draft(_form(PURPOSE, question)), context=CONTEXT))


def test_two_questions_with_one_id_make_the_form_too_large() -> None:
    _too_large(request_modal(_draft(_form(PURPOSE, PURPOSE)), context=CONTEXT))


def test_a_question_id_with_a_colon_round_trips() -> None:
    question = Question("ns:q:1", Q.SHORT_ANSWER, "Colon")
    view = _valid(request_modal(_draft(_form(question)), context=CONTEXT))
    (block,) = [b for b in view["blocks"] if question_id_of(b.get("block_id", "")) == "ns:q:1"]
    parsed = parse_request_submission(_state_like_slack(view, {block["block_id"]: "yes"}))
    assert isinstance(parsed, RequestAnswers) and parsed.answers == {"ns:q:1": "yes"}


def test_values_encode_reversibly_and_inertly() -> None:
    for text in (*INJECTIONS, "a:b%3A", "100%", "\u202etxt", "\x00"):
        encoded = encode_value(text)
        assert decode_value(encoded) == text
        assert not set(encoded) & set("<>&:\u202e\x00")


# --- past Slack's static limits: external selects -----------------------------------------------------


def test_a_dropdown_of_300_options_is_an_external_select_and_its_listener_searches() -> None:
    options = tuple(f"Cost centre {i:03}" for i in range(300))
    question = Question("q-cc", Q.DROPDOWN, "Cost centre", options=options)
    view = _valid(
        request_modal(_draft(_form(question), answers={"q-cc": "Cost centre 250"}), context=CONTEXT)
    )
    element = _only(view, _q("q-cc"))["element"]
    assert element["type"] == "external_select" and element["action_id"] == ids.QUESTION_OPTIONS_INPUT
    assert element["min_query_length"] == 0 and "options" not in element
    assert element["initial_option"]["value"] == "Cost centre 250"
    assert len(question_options(options, "")) == 100
    assert [o["value"] for o in question_options(options, "CENTRE 25")] == [
        f"Cost centre 25{i}" for i in range(10)
    ]
    block = _only(view, _q("q-cc"))["block_id"]
    values = {
        block: {
            ids.QUESTION_OPTIONS_INPUT: {
                "type": "external_select",
                "selected_option": {"value": "Cost centre 007"},
            }
        }
    }
    parsed = parse_request_submission(values)
    assert isinstance(parsed, RequestAnswers) and parsed.answers == {"q-cc": "Cost centre 007"}


def test_checkboxes_of_300_options_are_a_multi_external_select() -> None:
    options = tuple(f"Tag {i}" for i in range(300))
    question = Question("q-tags", Q.CHECKBOXES, "Tags", options=options)
    view = _valid(request_modal(_draft(_form(question)), context=CONTEXT))
    element = _only(view, _q("q-tags"))["element"]
    assert element["type"] == "multi_external_select" and element["action_id"] == ids.QUESTION_OPTIONS_INPUT
    block = _only(view, _q("q-tags"))["block_id"]
    chosen = [{"value": "Tag 1"}, {"value": "Tag 299"}]
    values = {
        block: {ids.QUESTION_OPTIONS_INPUT: {"type": "multi_external_select", "selected_options": chosen}}
    }
    parsed = parse_request_submission(values)
    assert isinstance(parsed, RequestAnswers) and parsed.answers == {"q-tags": ("Tag 1", "Tag 299")}


def test_500_masked_columns_are_searched_and_counted() -> None:
    columns = tuple(MaskedColumnChoice(f"src-{i % 7}", f"Source {i % 7}", f"col_{i}") for i in range(500))
    view = _valid(request_modal(_masking(columns=columns[:300], columns_total=500), context=CONTEXT))
    element = _only(view, ids.COLUMNS_BLOCK)["element"]
    assert element["type"] == "multi_external_select" and element["action_id"] == ids.COLUMNS_INPUT
    assert sentences.masked_columns_cut(300, 500) in _texts(view)
    groups = column_options(columns, "")
    assert sum(len(g["options"]) for g in groups) == 100
    assert [g["label"]["text"] for g in groups] == [f"Source {i}" for i in range(7)]
    found = column_options(columns, "COL_49")
    assert sorted(o["value"] for g in found for o in g["options"]) == sorted(
        f"src-{i % 7}/col_{i}" for i in (49, *range(490, 500))
    )
    assert column_options(columns, "Source 3")[0]["label"]["text"] == "Source 3"


# --- hostile text -------------------------------------------------------------------------------------


def test_hostile_names_labels_options_and_columns_are_inert_everywhere() -> None:
    hostile_product = ProductChoice(
        "dp-" + HOSTILE[:40], HOSTILE, description=HOSTILE, domain=HOSTILE, request_url=PRODUCT.request_url
    )
    short = [line[:50] for line in HOSTILE.split("\n") if line.strip()]
    questions = (
        Question("q-1" + INJECTIONS[0], Q.DROPDOWN, HOSTILE, options=tuple(short)),
        Question("q-2", Q.CHECKBOXES, HOSTILE, options=tuple(short[:8])),
        Question("q-3", Q.SHORT_ANSWER, HOSTILE * 20),  # a label far past 2000 characters: cut visibly
        Question("q-4", Q.ACCESS_DURATION, HOSTILE),
    )
    agreement = Agreement(HOSTILE[:60], HOSTILE, HOSTILE * 30)
    columns = tuple(MaskedColumnChoice(f"s{i}", HOSTILE, line) for i, line in enumerate(short))
    form = RequestForm("f", "1", HOSTILE, RequestKind.MASKING_EXCEPTION, questions, (agreement,))
    draft = RequestDraft(
        hostile_product,
        RequestKind.MASKING_EXCEPTION,
        form,
        answers={"q-1" + INJECTIONS[0]: short[0], "q-3": HOSTILE},
        columns=columns,
        columns_total=len(columns) + 5,
        dropped=(HOSTILE,),
    )
    view = _valid(request_modal(draft, context=CONTEXT))
    assert any(b["type"] == "input" for b in view["blocks"])  # a form, not the too-large notice
    assert_inert(view)
    label = _only(view, _q("q-3"))["label"]["text"]
    assert "truncated" in label and len(label) <= 2000
    # An earlier answer holding `<` is not put back raw, nor changed into look-alikes to be resubmitted.
    assert "initial_value" not in _only(view, _q("q-3"))["element"]
    picked = _only(view, _q(encode_value("q-1" + INJECTIONS[0])))["element"]["initial_option"]
    assert picked["value"] == encode_value(short[0])
    for listener in (question_options(short, ""), column_options(columns, "")):
        assert_inert(listener)
    for other in (
        request_modal(RequestDraft(hostile_product, RequestKind.DATA_ACCESS, None), context=CONTEXT),
        request_notice_modal(HOSTILE, url=PRODUCT.url),
        request_filed_modal(_filed(product_name=HOSTILE, for_person=Person("u", HOSTILE, HOSTILE, HOSTILE))),
    ):
        _valid(other)
        assert_inert(other)


def test_a_10000_character_agreement_is_shown_whole_across_sections() -> None:
    words = [f"w{i}&<x>" if i % 50 == 0 else f"word{i}" for i in range(1400)]
    body = (
        " ".join(words[:700]) + "\n\n" + "\n".join(" ".join(words[i : i + 10]) for i in range(700, 1400, 10))
    )
    assert len(body) >= 10_000
    agreement = Agreement("a-big", "Big terms", body)
    view = _valid(request_modal(_draft(_form(agreements=(agreement,))), context=CONTEXT))
    sections = [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"]
    assert len(sections) >= 4 and all(len(s) <= 3000 for s in sections)
    shown = " ".join(sections).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    assert re.findall(r"\S+", shown) == re.findall(r"\S+", body)  # every word, in order, none cut


def test_split_text_never_loses_a_character() -> None:
    text = "a" * 7000 + " " + "&" * 1000 + "\nline\n\npara"
    pieces = split_text(text, 3000)
    assert "".join(pieces).replace(" ", "").replace("\n", "") == text.replace(" ", "").replace("\n", "")


# --- the other states ---------------------------------------------------------------------------------


def test_the_loading_modal_has_nothing_to_submit() -> None:
    view = _valid(request_loading_modal())
    assert view["callback_id"] == ids.REQUEST_STATUS_MODAL
    assert "submit" not in view and view["close"]["text"] == "Close"
    assert view["blocks"][0]["text"]["text"] == "Loading the request form…"


def test_a_notice_is_one_escaped_sentence_with_an_optional_link() -> None:
    view = _valid(request_notice_modal("You already have access to <Customer 360>.", url=PRODUCT.url))
    (block,) = view["blocks"]
    assert block["text"]["text"] == "You already have access to &lt;Customer 360&gt;."
    assert block["accessory"]["url"] == PRODUCT.url
    assert "accessory" not in _valid(request_notice_modal("No link.", url="javascript:alert(1)"))["blocks"][0]


def _filed(
    status: RequestStatus = RequestStatus.PENDING,
    expiration: datetime | None = None,
    product_name: str = "Customer 360",
    for_person: Person | None = None,
) -> Filed:
    nora = Person("u-nora", "nquinn", "Nora Quinn", slack_user_id="U0NORA")
    steps = (
        ApprovalStep(
            "st-1",
            RecordStatus.PENDING,
            (Approver("GROUP", "Data Stewards"), Approver("PERMISSION", "GOVERNANCE")),
        ),
        ApprovalStep("st-2", RecordStatus.APPROVED, (Approver("USER", "Done Already"),)),
        ApprovalStep("st-3", RecordStatus.PENDING, (Approver("GROUP", "Privacy Office"),)),
    )
    request = AccessRequest(
        id="req-9",
        kind=RequestKind.DATA_ACCESS,
        status=status,
        raw_status=status.value,
        product_id="dp-42",
        product_name=product_name,
        domain_id=None,
        requester=nora,
        requested_by=nora,
        created_at=datetime(2026, 12, 1, tzinfo=UTC),
        expiration=expiration,
        steps=steps,
    )
    return Filed(
        request, url=PRODUCT.url, card_url="https://slack.example.com/archives/C1/p1", for_person=for_person
    )


def test_a_filed_request_says_who_reviews_it_and_links_to_it() -> None:
    view = _valid(request_filed_modal(_filed(for_person=Person("u-rick", "rmoreno", "Rick Moreno"))))
    assert view["callback_id"] == ids.REQUEST_STATUS_MODAL and "submit" not in view
    text = _texts(view)
    assert sentences.REQUEST_FILED.text in text and "req-9" in text
    assert "group Data Stewards or anyone with GOVERNANCE and group Privacy Office" in text
    assert "Done Already" not in text  # a decided step reviews nothing
    assert "*For:* Rick Moreno" in text
    urls = [b.get("accessory", {}).get("url") for b in view["blocks"]]
    assert PRODUCT.url in urls and "https://slack.example.com/archives/C1/p1" in urls


def test_a_request_approved_at_once_says_until_when() -> None:
    until = datetime(2027, 1, 1, 9, 0, tzinfo=UTC)
    view = _valid(request_filed_modal(_filed(RequestStatus.APPROVED, until)))
    text = _texts(view)
    assert sentences.REQUEST_APPROVED_AT_ONCE.text in text
    assert f"approved until <!date^{int(until.timestamp())}^" in text
    assert "Reviewed by" not in text
    assert "no expiration" in _texts(request_filed_modal(_filed(RequestStatus.APPROVED)))


def test_private_metadata_past_slack_limit_is_a_caller_bug() -> None:
    with pytest.raises(ValueError, match="3000"):
        request_modal(_draft(), context="x" * 3001)


def test_a_changed_agreement_text_is_a_fresh_box_to_tick() -> None:
    changed = Agreement(TERMS.id, TERMS.name, TERMS.body + " Also: no screenshots.")
    before = request_modal(_draft(_form(agreements=(TERMS,))), context=CONTEXT)
    after = request_modal(_draft(_form(agreements=(changed,))), context=CONTEXT)
    tick = ids.AGREEMENT_BLOCK + TERMS.id
    assert _only(before, tick)["block_id"] != _only(after, tick)["block_id"]


def test_access_that_ends_is_said_instead_of_a_form_with_a_reminder_offered() -> None:
    said = "You already have access to *Customer 360* until 2026-12-30 09:00 UTC; you can request it again."
    ending = _valid(request_modal(_draft(None, standing=said, renewable=True), context=CONTEXT))
    assert "submit" not in ending  # nothing to file: the tenant would refuse it
    [remind] = [
        e
        for b in ending["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == ids.REMIND_RENEWAL
    ]
    assert remind["text"]["text"] == "Remind me when it ends"
    forever = _valid(request_modal(_draft(None, standing="You already have access."), context=CONTEXT))
    assert ids.REMIND_RENEWAL not in _texts(forever)
