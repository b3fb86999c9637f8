"""What a card remembers for digests, and how a digest line is read back from it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from marketplace_slack.domain import ApprovalStep, RecordStatus, RiskAssessment
from marketplace_slack.store.records import CardRecord
from marketplace_slack.workflow.digests import entry_for, summary_json
from marketplace_slack.workflow.ports import MessageRef
from slack.factories import GOVERNANCE, STEWARDS, pending_data_access

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _card(summary: str | None) -> CardRecord:
    return CardRecord(
        request_id="req-1001",
        channel="C0STEWARDS",
        ts="1795000000.000100",
        team_id=None,
        fingerprint=None,
        status="PENDING",
        claim_owner=None,
        claimed_at=None,
        posted_at=NOW,
        created_at=NOW,
        updated_at=NOW,
        summary=summary,
    )


def test_a_summary_reads_back_as_the_digest_line() -> None:
    request = pending_data_access().request
    request = replace(
        request,
        risk=RiskAssessment(level="HIGH"),
        steps=(
            ApprovalStep("st-0", RecordStatus.APPROVED, (STEWARDS,)),
            ApprovalStep("st-1", RecordStatus.PENDING, (STEWARDS, GOVERNANCE), prerequisites=("st-0",)),
        ),
    )
    entry = entry_for(_card(summary_json(request)))
    assert (entry.request_id, entry.product_name, entry.requester) == (
        "req-1001",
        "Customer 360",
        "Nora Quinn",
    )
    assert (entry.created_at, entry.risk, entry.step_number, entry.steps_total) == (
        request.created_at,
        "HIGH",
        2,
        2,
    )
    assert entry.waiting_for == (STEWARDS, GOVERNANCE) and entry.card == MessageRef(
        "C0STEWARDS", "1795000000.000100"
    )


@pytest.mark.parametrize(
    "summary", [None, "", "not json", "[1, 2]", '{"created_at": "yesterday", "waiting_for": [1]}']
)
def test_a_missing_or_broken_summary_still_gives_a_line(summary: str | None) -> None:
    entry = entry_for(_card(summary))
    assert entry.request_id == "req-1001" and entry.created_at == NOW and entry.waiting_for == ()
    assert entry.product_name == "Unknown data product"
