"""Card behaviour: which controls appear when, who is named how, and what each part says."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from marketplace_slack.domain import (
    ApprovalStep,
    Approver,
    CardState,
    Duration,
    DurationUnit,
    InProgress,
    RecordStatus,
    RequestStatus,
    RiskAssessment,
    Verdict,
)
from marketplace_slack.slack import ids
from marketplace_slack.slack.cards import approver_label, render_card, render_retired

from .factories import (
    NOW,
    RICK,
    approved_with_expiration,
    canceled,
    denied,
    in_progress,
    masking_exception,
    multi_step_blocked,
    pending_data_access,
    requested_for_someone_else,
)

DECISION_IDS = {ids.APPROVE, ids.DENY, ids.DURATION}


def _action_ids(state: CardState) -> set[str]:
    card = render_card(state, now=NOW)
    return {e["action_id"] for b in card.blocks if b["type"] == "actions" for e in b["elements"]}


def _json(state: CardState) -> str:
    return json.dumps(render_card(state, now=NOW).as_message(), ensure_ascii=False)


def _actions_block(state: CardState) -> dict[str, Any]:
    card = render_card(state, now=NOW)
    return next(b for b in card.blocks if b["type"] == "actions")


def test_the_actions_block_id_changes_with_the_card_and_only_then() -> None:
    # Slack keeps a select's state by block id across chat.update: a changed card needs a new id, so
    # a duration picked on what the card showed before does not stay picked on what it shows now.
    state = pending_data_access()
    same = _actions_block(state)["block_id"]
    assert _actions_block(state)["block_id"] == same
    changed = replace(state, notice="The last decision could not be recorded.")
    assert _actions_block(changed)["block_id"] != same
    assert ids.base_of(_actions_block(changed)["block_id"]) == ids.CARD_ACTIONS_BLOCK


def test_pending_card_offers_approve_duration_deny_and_link() -> None:
    block = _actions_block(pending_data_access())
    assert ids.base_of(block["block_id"]) == ids.CARD_ACTIONS_BLOCK
    kinds = [(e["action_id"], e.get("style")) for e in block["elements"]]
    assert kinds == [
        (ids.APPROVE, "primary"),
        (ids.DURATION, None),
        (ids.DENY, "danger"),
        (ids.OPEN_IN_MARKETPLACE, None),
    ]
    assert block["elements"][0]["value"] == block["elements"][2]["value"] == "req-1001"
    assert block["elements"][3]["url"] == "https://marketplace.example.com/requests/req-1001"


def test_in_progress_hides_every_decision_control() -> None:
    state = in_progress()
    assert _action_ids(state) == {ids.OPEN_IN_MARKETPLACE}
    text = _json(state)
    assert "⏳ <@U0STEW> is approving…" in text
    assert "slow to answer" in text
    denying = replace(state, in_progress=InProgress(Verdict.DENY, "U0STEW"))
    assert "is denying…" in _json(denying)


@pytest.mark.parametrize("factory", [approved_with_expiration, denied, canceled])
def test_settled_cards_keep_only_the_link(factory: Any) -> None:
    assert _action_ids(factory()) == {ids.OPEN_IN_MARKETPLACE}


def test_settled_card_without_url_has_no_actions_block() -> None:
    state = denied()
    state = replace(state, request=replace(state.request, marketplace_url=None))
    assert all(b["type"] != "actions" for b in render_card(state, now=NOW).blocks)


def test_pending_without_open_step_has_no_decision_controls() -> None:
    state = multi_step_blocked()
    steps = tuple(replace(s, status=RecordStatus.BLOCKED) if s.is_open else s for s in state.request.steps)
    state = replace(state, request=replace(state.request, steps=steps))
    assert not (_action_ids(state) & DECISION_IDS)
    assert "No approval step is open" in _json(state)


def test_final_status_lines() -> None:
    assert "✅ *Approved* until <!date^1798016400^" in _json(approved_with_expiration())
    assert "⛔ *Denied*" in _json(denied())
    assert "🚫 *Canceled*" in _json(canceled())
    forever = approved_with_expiration()
    forever = replace(forever, request=replace(forever.request, expiration=None))
    assert "with no expiration" in _json(forever)
    lapsed = approved_with_expiration()
    assert "(that time has passed)" not in _json(lapsed)
    assert lapsed.request.expiration is not None
    card = render_card(lapsed, now=lapsed.request.expiration + timedelta(seconds=1))
    assert "(that time has passed)" in json.dumps(card.blocks)
    for status, line in ((RequestStatus.REVOKED, "↩️ *Revoked*"), (RequestStatus.EXPIRED, "⌛ *Expired*")):
        state = replace(lapsed, request=replace(lapsed.request, status=status))
        assert line in _json(state)
    other = replace(
        lapsed, request=replace(lapsed.request, status=RequestStatus.OTHER, raw_status="PUBLISHER")
    )
    assert "❔ *Status:* PUBLISHER" in _json(other)
    assert "❔ PUBLISHER" in render_card(other, now=NOW).blocks[0]["text"]["text"]


def test_who_asked_for_whom() -> None:
    assert "<@U0NORA> requested access\\nSubmitted" in _json(pending_data_access())
    text = _json(requested_for_someone_else())
    assert "Rick Moreno requested access for <@U0NORA>" in text
    assert "<!date^1795183500^{date_short_pretty} at {time}|2026-11-20 14:05 UTC>" in text
    assert "<@U0NORA> requested a masking exception" in _json(masking_exception())


def test_a_request_the_apps_account_filed_says_it_was_filed_through_slack() -> None:
    state = requested_for_someone_else()
    through_app = replace(state, request=replace(state.request, through_app=True))
    text = _json(through_app)
    assert "<@U0NORA> requested access\\nFiled through Slack for <@U0NORA> · Submitted" in text
    assert "Rick Moreno" not in text  # the app's account, not a person, filed it


def test_fallback_text_names_without_mentions() -> None:
    card = render_card(requested_for_someone_else(), now=NOW)
    assert card.text == "Data access request: Customer 360 for Nora Quinn (🕓 Pending)"
    assert "<@" not in card.text


def test_header_carries_product_kind_and_badge() -> None:
    header = render_card(masking_exception(), now=NOW).blocks[0]
    assert header == {
        "type": "header",
        "text": {
            "type": "plain_text",
            "text": "Payments Ledger · Masking exception · 🕓 Pending",
            "emoji": True,
        },
    }


def test_duration_picker_preselection() -> None:
    def initial(state: CardState) -> str:
        element = next(e for e in _actions_block(state)["elements"] if e["action_id"] == ids.DURATION)
        return str(element["initial_option"]["value"])

    assert initial(pending_data_access()) == "30:DAYS"  # requested and a preset
    assert initial(multi_step_blocked()) == "14:DAYS"  # requested, added as an extra option
    assert initial(requested_for_someone_else()) == "7:DAYS"  # nothing requested: the default
    base = pending_data_access()
    hours = replace(base, request=replace(base.request, requested_duration=Duration(24, DurationUnit.HOURS)))
    assert initial(hours) == "24:HOURS"


def test_steps_say_who_decides_what_and_what_blocks() -> None:
    text = _json(multi_step_blocked())
    assert "• ✅ Approved by <@U0JANE> for 7 days: Looks fine for the churn review." in text
    assert "• ⏳ anyone with GOVERNANCE or anyone with Manage Policies in this domain" in text
    assert "*Stage 2 of 2:* 🔒 group Privacy Office, after stage 1" in text
    assert "⛔ Denied by <@U0JANE>: Use the aggregated" in _json(denied())
    assert "Approved by Omar Hassan for 30 days" in _json(approved_with_expiration())  # no Slack id: the name


@pytest.mark.parametrize(
    ("approver", "label"),
    [
        (Approver("USER", "Jane Doe", "u1"), "Jane Doe"),
        (Approver("GROUP", "Stewards"), "group Stewards"),
        (Approver("PERMISSION", "GOVERNANCE"), "anyone with GOVERNANCE"),
        (Approver("DOMAIN PERMISSION", "Manage"), "anyone with Manage in this domain"),
        (Approver("CATALOG PERMISSION", "Owner"), "anyone with catalog permission Owner"),
        (Approver("ATTRIBUTE", "dept=finance"), "anyone with attribute dept=finance"),
        (Approver("TEAM", "Blue"), "team Blue"),
        (Approver("GROUP", "", "g-ref"), "group g-ref"),
    ],
)
def test_approver_labels(approver: Approver, label: str) -> None:
    assert approver_label(approver) == label


def test_many_approvers_collapse() -> None:
    base = pending_data_access()
    step = ApprovalStep("s", RecordStatus.PENDING, tuple(Approver("GROUP", f"g{i}") for i in range(8)))
    text = _json(replace(base, request=replace(base.request, steps=(step,))))
    assert "group g4 or 3 more" in text and "g5" not in text


def test_risk_section() -> None:
    text = _json(pending_data_access())
    assert "*Risk:* 🟢 LOW · *Recommendation:* approve" in text
    assert "12 similar allowed, 1 denied · median 2.5 days to approve" in text
    assert "⚠️" not in text
    masking = _json(masking_exception())
    assert "⚠️ *Conflict detected:*" in masking and "🔴 HIGH" in masking
    assert "• Broad column set\\n+1 more" in masking and "Long duration" not in masking  # top 3 only
    assert "⚪ PENDING (the assessment is not ready yet)" in _json(requested_for_someone_else())
    base = pending_data_access()
    for level, badge in (
        ("MODERATE", "🟡 MODERATE"),
        ("INDETERMINATE", "⚪ INDETERMINATE"),
        ("NEW", "⚪ NEW"),
    ):
        state = replace(
            base, request=replace(base.request, risk=RiskAssessment(level, median_days_to_approve=1.0))
        )
        assert badge in _json(state)
        assert "median 1 day to approve" in _json(state)


def test_recent_determinations_fit_one_line() -> None:
    card = render_card(pending_data_access(), now=NOW)
    recent = next(b for b in card.blocks if b["type"] == "context" and "Recent decisions" in json.dumps(b))
    text = recent["elements"][0]["text"]
    assert "\n" not in text
    assert text.startswith(
        "🗂 Recent decisions on this product: 5 approved, 2 denied · last approved by Jane Doe ("
    )


def test_answers_agreements_and_columns() -> None:
    text = _json(pending_data_access())
    assert "*Business purpose*\\nQuarterly churn analysis" in text
    assert "Customer Data Handling Policy · EMEA Data Residency Terms" in text
    masking = _json(masking_exception())
    assert "🎭 *Columns to unmask* (45)" in masking
    assert "• payments.transactions → card_number — tags: PCI, Sensitive" in masking
    assert "+42 more columns" in masking


def test_render_is_pure() -> None:
    state = multi_step_blocked()
    first = render_card(state, now=NOW)
    assert render_card(state, now=NOW) == first
    first.blocks.clear()  # mutating one card's output cannot leak into the next render
    assert render_card(state, now=NOW).blocks
    assert render_card(state, now=NOW + timedelta(days=400)) == render_card(
        state, now=NOW
    )  # pending: now unused


def test_unknown_prerequisite_still_reads_well() -> None:
    base = multi_step_blocked()
    steps = (*base.request.steps[:2], replace(base.request.steps[2], prerequisites=("gone",)))
    assert "after an earlier stage" in _json(replace(base, request=replace(base.request, steps=steps)))


def test_people_without_slack_ids_are_named_without_email_unless_configured() -> None:
    base = pending_data_access()
    state = replace(base, request=replace(base.request, requester=RICK, requested_by=RICK))
    assert "Rick Moreno requested access" in _json(state)
    assert "rick.moreno@example.com" not in _json(state)
    shown = json.dumps(render_card(state, now=NOW, show_email=True).as_message())
    assert "Rick Moreno (rick.moreno@example.com) requested access" in shown
    for_nora = json.dumps(render_card(requested_for_someone_else(), now=NOW, show_email=True).as_message())
    assert "Rick Moreno (rick.moreno@example.com) requested access for <@U0NORA>" in for_nora


def test_an_email_never_stands_in_for_a_missing_name_unless_configured() -> None:
    base = pending_data_access()
    nameless = replace(RICK, username="", name="")
    state = replace(base, request=replace(base.request, requester=nameless, requested_by=nameless))
    assert "rick.moreno" not in _json(state) + render_card(state, now=NOW).text
    assert "u-rick requested access" in _json(state)  # the Marketplace id instead
    assert "rick.moreno@example.com requested access" in json.dumps(
        render_card(state, now=NOW, show_email=True).as_message()
    )


def test_a_retired_duplicate_keeps_the_email_setting() -> None:
    base = pending_data_access()
    state = replace(base, request=replace(base.request, requester=RICK, requested_by=RICK))
    assert "rick.moreno@" not in json.dumps(render_retired(state, now=NOW).blocks)
    assert "rick.moreno@" in json.dumps(render_retired(state, now=NOW, show_email=True).blocks)


def test_no_steps_at_all() -> None:
    base = pending_data_access()
    state = replace(base, request=replace(base.request, steps=()))
    assert "reported no approval steps" in _json(state)
    assert not (_action_ids(state) & DECISION_IDS)
