"""The audit log as a file an auditor opens: JSON Lines, or CSV that is safe in a spreadsheet.

One row per entry, in time order, with the same columns in both formats (`COLUMNS`). Times are ISO
8601 in UTC. A CSV cell that a spreadsheet would take for a formula (it starts with `=`, `+`, `-`,
`@`, a tab or a carriage return) gets a leading apostrophe: the log holds text people typed (reasons)
and names from the Marketplace, and opening an export must never run any of it.
"""

from __future__ import annotations

import csv
import json
from collections.abc import AsyncIterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final, Literal, TextIO

from marketplace_slack.store.audit import AuditEntry

Format = Literal["jsonl", "csv"]

COLUMNS: Final = (
    "at",
    "kind",
    "team_id",
    "slack_user_id",
    "marketplace_user_id",
    "request_id",
    "record_id",
    "verdict",
    "duration",
    "reason",
    "outcome",
    "error",
    "detail",
)
_FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


def row(entry: AuditEntry) -> dict[str, Any]:
    """The entry's columns; `detail` stays an object (CSV writes it as JSON)."""
    return {
        "at": iso_utc(entry.at),
        "kind": entry.kind,
        "team_id": entry.team_id,
        "slack_user_id": entry.slack_user_id,
        "marketplace_user_id": entry.marketplace_user_id,
        "request_id": entry.request_id,
        "record_id": entry.record_id,
        "verdict": entry.verdict,
        "duration": entry.duration_text,
        "reason": entry.reason,
        "outcome": entry.outcome,
        "error": entry.error,
        "detail": entry.detail,
    }


def iso_utc(when: datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def safe_cell(value: Any) -> str:
    """A CSV cell no spreadsheet evaluates: empty for None, JSON for an object, `'` before a formula."""
    if value is None:
        return ""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False) if isinstance(value, dict) else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


async def write(entries: AsyncIterable[AuditEntry], out: TextIO, fmt: Format) -> int:
    """Write `entries` to `out` as they come (nothing is held but the current page); returns how many."""
    count = 0
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        async for entry in entries:
            values = row(entry)
            writer.writerow([safe_cell(values[c]) for c in COLUMNS])
            count += 1
        return count
    async for entry in entries:
        out.write(json.dumps(row(entry), ensure_ascii=False) + "\n")
        count += 1
    return count


def parse_when(text: str, *, end_of_day: bool = False) -> datetime:
    """`2026-12-01` (midnight UTC; with `end_of_day`, the next midnight, so the day is included) or an
    ISO date and time (`2026-12-01T09:30`, `...Z`, `...+01:00`; without an offset, UTC).
    Raises ValueError with a sentence for the operator."""
    value = text.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            start = datetime.combine(day, time(0), tzinfo=UTC)
            return start + timedelta(days=1) if end_of_day else start
        when = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a date (2026-12-01) or a date and time (2026-12-01T09:30:00Z)"
        ) from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
