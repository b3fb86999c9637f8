"""How a review flow reads: an "all stewards" stage in parallel, stages with prerequisites in sequence.

The Marketplace reports records and what each waits on; `domain.review_stages` groups them, and the
card, the thread reply, reminders and digests all word the result the same way.
"""

from __future__ import annotations

import json
from dataclasses import replace

from marketplace_slack.domain import ApprovalStep, Approver, RecordStatus, review_stages, stage_position
from marketplace_slack.slack.cards import render_card
from marketplace_slack.slack.messages import decision_thread_reply
from marketplace_slack_standins.fakeslack.blockkit import validate_message

from .factories import GOVERNANCE, JANE, NOW, PRIVACY, STEWARDS, all_stewards, sequential_stages


def _step(id_: str, status: RecordStatus = RecordStatus.PENDING, *after: str) -> ApprovalStep:
    return ApprovalStep(id_, status, (Approver("GROUP", f"g-{id_}"),), prerequisites=after)


def _card_text(state: object) -> str:
    card = render_card(state, now=NOW)  # type: ignore[arg-type]
    assert validate_message(card.as_message()) == []
    return json.dumps(card.blocks, ensure_ascii=False)


def test_records_group_into_stages_by_what_they_wait_on() -> None:
    # Listed out of order on purpose: the chain of prerequisites decides, not the list.
    steps = (_step("d", RecordStatus.BLOCKED, "c"), _step("c", RecordStatus.BLOCKED, "a", "b"))
    steps += (_step("a"), _step("b"))
    stages = review_stages(steps)
    assert [[s.id for s in st.steps] for st in stages] == [["a", "b"], ["c"], ["d"]]
    assert [st.after for st in stages] == [(), (1,), (2,)]
    assert [st.is_parallel for st in stages] == [True, False, False]
    assert stage_position(steps, "c") == (2, 3) and stage_position(steps, "a") == (1, 3)
    assert stage_position(steps, "gone") == (None, 3)


def test_a_prerequisite_the_request_does_not_list_still_means_a_later_stage() -> None:
    stages = review_stages((_step("a"), _step("b", RecordStatus.BLOCKED, "gone")))
    assert [(st.number, st.after) for st in stages] == [(1, ()), (2, ())]
    assert "🔒 group g-b, after an earlier stage" in _card_text(
        replace(
            sequential_stages(),
            request=replace(sequential_stages().request, steps=stages[0].steps + stages[1].steps),
        )
    )


def test_a_loop_of_prerequisites_ends() -> None:
    stages = review_stages((_step("a", RecordStatus.BLOCKED, "b"), _step("b", RecordStatus.BLOCKED, "a")))
    assert sorted(s.id for st in stages for s in st.steps) == ["a", "b"]


def test_all_stewards_reads_as_parallel() -> None:
    text = _card_text(all_stewards())
    assert "2 of 3 stewards have approved; waiting for group Privacy Office" in text
    assert "• ✅ Approved by <@U0JANE>" in text and "• ⏳ group Privacy Office" in text
    assert "Stage" not in text and "step 1" not in text


def test_all_stewards_counts_each_decision_and_says_who_is_left() -> None:
    base = all_stewards()
    steps = tuple(replace(s, status=RecordStatus.PENDING, decided_by=None) for s in base.request.steps)
    text = _card_text(replace(base, request=replace(base.request, steps=steps)))
    assert "0 of 3 stewards have approved; waiting for group Data Stewards and anyone with GOVERNANCE" in text
    assert "and 1 more" in text  # the progress line names two; the bullets list everyone
    one = (replace(steps[0], status=RecordStatus.APPROVED, decided_by=JANE), *steps[1:])
    one_approved = replace(base, request=replace(base.request, steps=one))
    assert "1 of 3 stewards has approved" in _card_text(one_approved)


def test_stages_with_prerequisites_read_as_sequential() -> None:
    text = _card_text(sequential_stages())
    assert "*Stage 1 of 3:* ✅ Approved by <@U0JANE>" in text
    assert "*Stage 2 of 3:* ⏳ Waiting for anyone with GOVERNANCE or Jane Doe" in text
    assert "*Stage 3 of 3:* 🔒 group Privacy Office, after stage 2" in text
    assert "stewards have approved" not in text


def test_a_later_all_stewards_stage_is_parallel_within_its_place_in_the_sequence() -> None:
    base = sequential_stages()
    steps = (
        replace(base.request.steps[0], id="s1"),
        ApprovalStep("s2a", RecordStatus.BLOCKED, (GOVERNANCE,), prerequisites=("s1",)),
        ApprovalStep("s2b", RecordStatus.BLOCKED, (PRIVACY,), prerequisites=("s1",)),
    )
    text = _card_text(replace(base, request=replace(base.request, steps=steps)))
    assert "*Stage 1 of 2:* ✅ Approved by <@U0JANE>" in text
    assert "*Stage 2 of 2:* 🔒 both stewards must approve, after stage 1" in text
    assert "• 🔒 anyone with GOVERNANCE" in text and "• 🔒 group Privacy Office" in text


def test_the_thread_reply_words_the_flow_as_the_card_does() -> None:
    parallel = all_stewards().request
    reply = decision_thread_reply(parallel, parallel.steps[1])
    assert reply.text == "Approved by Omar Hassan for 30 days — 2 of 3 stewards have approved"
    denied = replace(parallel.steps[2], status=RecordStatus.DENIED, decided_by=JANE)
    request = replace(parallel, steps=(*parallel.steps[:2], denied))
    assert decision_thread_reply(request, denied).text == (
        "Denied by Jane Doe — one of 3 stewards, so the request is denied"
    )
    sequential = sequential_stages().request
    assert decision_thread_reply(sequential, sequential.steps[0]).text.endswith("(stage 1 of 3)")


def test_a_single_record_says_nothing_about_stages_or_stewards() -> None:
    base = all_stewards()
    step = ApprovalStep("s", RecordStatus.APPROVED, (STEWARDS, GOVERNANCE), decided_by=JANE)
    request = replace(base.request, steps=(step,))
    text = _card_text(replace(base, request=request)) + decision_thread_reply(request, step).text
    assert "stage" not in text.lower() and "stewards have" not in text and "1." not in text
