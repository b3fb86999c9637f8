"""Working hours: when a person may be pinged, and how much working time lies between two instants.

Pure functions over aware datetimes. Working windows are laid out in the person's local wall time
(`zoneinfo`), one per working day, and converted to UTC, so a daylight-saving change moves the
window in UTC rather than shifting anyone's morning. Windows are half-open: with 09:00 to 18:00,
09:00 is working time and 18:00 is not.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = date.weekday()
_WEEK: Final = 7


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """The same local hours on each working day; `days` are `date.weekday()` numbers (0 = Monday)."""

    start: time = time(9, 0)
    end: time = time(18, 0)
    days: frozenset[int] = field(default_factory=lambda: frozenset(range(5)))

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("working hours are local wall times, without a time zone")
        if self.start >= self.end:
            raise ValueError("working hours must start before they end, on the same day")
        if not self.days or not self.days <= set(range(_WEEK)):
            raise ValueError("working days must be a non-empty set of weekdays 0 (Monday) to 6")

    @property
    def day_length(self) -> timedelta:
        """One working day as a duration (wall time; a DST change inside the window is ignored)."""
        return datetime.combine(date.min, self.end) - datetime.combine(date.min, self.start)


def windows(at: datetime, tz: ZoneInfo, hours: WorkingHours) -> Iterator[tuple[datetime, datetime]]:
    """The working windows, as UTC (open, close) pairs, that close after `at`, in order. Endless."""
    _check(at)
    day = at.astimezone(tz).date()
    while True:
        if day.weekday() in hours.days:
            # combine() with a ZoneInfo resolves a wall time in a DST gap or overlap (fold=0) to a
            # real instant; converting to UTC then gives the window's true length that day.
            opens = datetime.combine(day, hours.start, tzinfo=tz).astimezone(UTC)
            closes = datetime.combine(day, hours.end, tzinfo=tz).astimezone(UTC)
            if closes > at and closes > opens:
                yield opens, closes
        day += timedelta(days=1)


def is_working(at: datetime, tz: ZoneInfo, hours: WorkingHours) -> bool:
    """Whether `at` falls inside a working window in `tz`."""
    opens, _ = next(windows(at, tz, hours))
    return opens <= at


def next_working_instant(at: datetime, tz: ZoneInfo, hours: WorkingHours) -> datetime:
    """`at` itself when it is working time, else the opening of the next working window (UTC)."""
    opens, _ = next(windows(at, tz, hours))
    return max(opens, at).astimezone(UTC)


def add_working_time(start: datetime, amount: timedelta, tz: ZoneInfo, hours: WorkingHours) -> datetime:
    """The instant at which `amount` of working time has passed since `start` (UTC).

    The result is always working time: when the amount runs out exactly as a window closes, the
    answer is the opening of the next one (work "at 18:00" happens the next morning).
    """
    if amount < timedelta(0):
        raise ValueError("working time is added, not taken away")
    remaining = amount
    for opens, closes in windows(start, tz, hours):
        begin = max(opens, start)
        available = closes - begin
        if remaining < available:
            return (begin + remaining).astimezone(UTC)
        remaining -= available
    raise AssertionError("unreachable: windows() never ends")  # pragma: no cover


def working_time_between(start: datetime, end: datetime, tz: ZoneInfo, hours: WorkingHours) -> timedelta:
    """How much working time lies in [start, end)."""
    total = timedelta(0)
    if end <= start:
        return total
    for opens, closes in windows(start, tz, hours):
        if opens >= end:
            break
        total += min(closes, end) - max(opens, start)
    return total


def weekday_numbers(names: Iterable[str]) -> frozenset[int]:
    """`["mon", "fri"]` → `{0, 4}`; raises ValueError naming an unknown day."""
    found = set()
    for name in names:
        key = name.strip().lower()[:3]
        if key not in WEEKDAYS:
            raise ValueError(f"unknown weekday {name!r}; use mon, tue, wed, thu, fri, sat, sun")
        found.add(WEEKDAYS.index(key))
    return frozenset(found)


def _check(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("working hours take timezone-aware datetimes only")
