"""The audit export: every kind in both formats, parsed back; spreadsheet-safe CSV; --since/--until."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from marketplace_slack import cli
from marketplace_slack.domain import DurationUnit, Verdict
from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.store import audit_export
from marketplace_slack.store.audit import AuditKind
from marketplace_slack.store.repository import Repository


async def _fill(store: Repository, start: datetime) -> None:
    await store.audit.append(
        at=start,
        request_id="req-1",
        record_id="rec-1",
        team_id="T1",
        slack_user_id="U1",
        marketplace_user_id="mp-1",
        verdict=Verdict.APPROVE,
        duration=7,
        duration_unit=DurationUnit.DAYS,
        reason='=HYPERLINK("http://evil","click")',  # typed by a steward
    )
    at = start
    for kind, outcome in (
        (AuditKind.REFUSAL, "notify_only"),
        (AuditKind.LINK, "ok"),
        (AuditKind.UNLINK, "ok"),
        (AuditKind.LINK_ENDED, "unauthorized"),
        (AuditKind.AGREEMENT, "ok"),
    ):
        at += timedelta(hours=1)
        await store.audit.record(
            kind=kind, at=at, team_id="T1", slack_user_id="U2", outcome=outcome, detail={"n": "@me"}
        )


async def test_every_kind_in_jsonl_and_csv(store: Repository, clock: FakeClock) -> None:
    await _fill(store, clock.now())
    out = io.StringIO()
    assert await audit_export.write(store.audit.entries(page_size=2), out, "jsonl") == 6
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["kind"] for r in rows] == ["decision", "refusal", "link", "unlink", "link_ended", "agreement"]
    assert list(rows[0]) == list(audit_export.COLUMNS)
    assert rows[0]["duration"] == "7 DAYS" and rows[0]["verdict"] == "APPROVE"
    assert rows[0]["reason"].startswith("=HYPERLINK")  # JSON is data: kept exactly
    assert rows[1]["detail"] == {"n": "@me"} and rows[1]["at"] == audit_export.iso_utc(
        clock.now() + timedelta(hours=1)
    )

    out = io.StringIO()
    assert await audit_export.write(store.audit.entries(), out, "csv") == 6
    table = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["kind"] for r in table] == [r["kind"] for r in rows]
    assert table[0]["reason"] == "'" + rows[0]["reason"]  # a spreadsheet shows it, never runs it
    assert table[1]["detail"] == '{"n": "@me"}' and table[1]["record_id"] == ""


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_formula_cells_are_defused(cell: str) -> None:
    assert audit_export.safe_cell(cell) == "'" + cell
    assert audit_export.safe_cell("plain") == "plain" and audit_export.safe_cell(None) == ""


def test_times_given_as_dates_or_instants() -> None:
    assert audit_export.parse_when("2026-12-01") == datetime(2026, 12, 1, tzinfo=UTC)
    assert audit_export.parse_when("2026-12-01", end_of_day=True) == datetime(2026, 12, 2, tzinfo=UTC)
    assert audit_export.parse_when("2026-12-01T09:30") == datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    assert audit_export.parse_when("2026-12-01T10:30+01:00") == datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="is not a date"):
        audit_export.parse_when("yesterday")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--since", "last week"], "'last week' is not a date"),
        (["--until", "2026-13-01"], "'2026-13-01' is not a date"),
        (["--since", "2026-12-02", "--until", "2026-12-01"], "--since must be before --until"),
    ],
)
def test_a_bad_time_is_one_line_and_exit_2(
    args: list[str], says: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "audit.csv"
    assert cli.main(["audit", *args, "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert says in err and len(err.strip().splitlines()) == 1
    assert not out.exists()  # nothing written, nothing read


async def test_since_and_until_filter(store: Repository, clock: FakeClock) -> None:
    start = clock.now()
    await _fill(store, start)
    window = store.audit.entries(since=start + timedelta(hours=2), until=start + timedelta(hours=4))
    assert [e.kind async for e in window] == ["link", "unlink"]
