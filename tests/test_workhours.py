"""Working hours: properties over random instants in several zones, checked against brute force, and DST."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from marketplace_slack.workflow.workhours import (
    WorkingHours,
    add_working_time,
    is_working,
    next_working_instant,
    weekday_numbers,
    working_time_between,
)

ZONES = [ZoneInfo(z) for z in ("Asia/Tokyo", "Europe/Berlin", "America/Los_Angeles", "UTC", "Asia/Kolkata")]
HOURS = WorkingHours()
STEP = timedelta(minutes=15)


def _random_instant(rng: random.Random) -> datetime:
    # Quarter hours across two years, so every DST change of those years is in range.
    base = datetime(2026, 1, 1, tzinfo=UTC)
    return base + STEP * rng.randrange(0, 2 * 365 * 96)


def _local_working(at: datetime, tz: ZoneInfo, hours: WorkingHours) -> bool:
    """The definition, stated directly on wall time: the oracle for the window arithmetic."""
    local = at.astimezone(tz)
    return local.weekday() in hours.days and hours.start <= local.time() < hours.end


def test_is_working_agrees_with_local_wall_time() -> None:
    rng = random.Random(1)
    for _ in range(3000):
        at, tz = _random_instant(rng), rng.choice(ZONES)
        assert is_working(at, tz, HOURS) == _local_working(at, tz, HOURS), (at, tz)


def test_next_working_instant_is_the_first_working_quarter_hour() -> None:
    rng = random.Random(2)
    for _ in range(400):
        at, tz = _random_instant(rng), rng.choice(ZONES)
        found = next_working_instant(at, tz, HOURS)
        assert found >= at and _local_working(found, tz, HOURS)
        probe = at
        while probe < found:  # nothing working in between
            assert not _local_working(probe, tz, HOURS), (at, tz, probe)
            probe += STEP


def test_added_working_time_is_measured_back_exactly() -> None:
    rng = random.Random(3)
    for _ in range(400):
        start, tz = _random_instant(rng), rng.choice(ZONES)
        amount = STEP * rng.randrange(0, 4 * 9 * 6)  # up to six working days
        end = add_working_time(start, amount, tz, HOURS)
        assert _local_working(end, tz, HOURS), (start, tz, amount)
        assert working_time_between(start, end, tz, HOURS) == amount
        # Brute force over quarter hours agrees (start is on a quarter hour, and so are the windows).
        counted = timedelta(0)
        probe = start
        while probe < end:
            counted += STEP if _local_working(probe, tz, HOURS) else timedelta(0)
            probe += STEP
        assert counted == amount, (start, tz, amount)


@pytest.mark.parametrize(
    ("zone", "friday_0900_utc", "monday_0900_utc"),
    [
        # Berlin leaves summer time on Sunday 25 October 2026: 09:00 is 07:00 UTC, then 08:00 UTC.
        ("Europe/Berlin", datetime(2026, 10, 23, 7, 0, tzinfo=UTC), datetime(2026, 10, 26, 8, 0, tzinfo=UTC)),
        # Los Angeles on Sunday 1 November 2026: 09:00 is 16:00 UTC, then 17:00 UTC.
        (
            "America/Los_Angeles",
            datetime(2026, 10, 30, 16, 0, tzinfo=UTC),
            datetime(2026, 11, 2, 17, 0, tzinfo=UTC),
        ),
        # And into summer time: Berlin on Sunday 29 March 2026, 09:00 is 08:00 UTC, then 07:00 UTC.
        ("Europe/Berlin", datetime(2026, 3, 27, 8, 0, tzinfo=UTC), datetime(2026, 3, 30, 7, 0, tzinfo=UTC)),
    ],
)
def test_a_working_day_after_friday_morning_is_monday_morning_local_across_dst(
    zone: str, friday_0900_utc: datetime, monday_0900_utc: datetime
) -> None:
    tz = ZoneInfo(zone)
    assert friday_0900_utc.astimezone(tz).time() == time(9, 0)
    assert add_working_time(friday_0900_utc, HOURS.day_length, tz, HOURS) == monday_0900_utc
    assert monday_0900_utc.astimezone(tz).time() == time(9, 0)
    saturday_noon = friday_0900_utc + timedelta(days=1, hours=3)
    assert not is_working(saturday_noon, tz, HOURS)
    assert next_working_instant(saturday_noon, tz, HOURS) == monday_0900_utc


def test_work_ending_at_closing_time_lands_on_the_next_opening() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    monday_0900 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    assert add_working_time(monday_0900, timedelta(hours=9), berlin, HOURS) == monday_0900 + timedelta(days=1)
    assert add_working_time(monday_0900, timedelta(0), berlin, HOURS) == monday_0900


def test_the_same_instant_is_working_time_in_one_zone_and_night_in_another() -> None:
    at = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday: 10:00 Berlin, 18:00 Tokyo, 01:00 Los Angeles
    assert is_working(at, ZoneInfo("Europe/Berlin"), HOURS)
    assert not is_working(at, ZoneInfo("Asia/Tokyo"), HOURS)  # closing time is not working time
    assert not is_working(at, ZoneInfo("America/Los_Angeles"), HOURS)


def test_custom_days_and_hours() -> None:
    hours = WorkingHours(time(8, 30), time(12, 0), weekday_numbers(["sun", "Thursday"]))
    assert hours.days == {3, 6} and hours.day_length == timedelta(hours=3, minutes=30)
    utc = ZoneInfo("UTC")
    monday = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    assert next_working_instant(monday, utc, hours) == datetime(2026, 11, 26, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "bad",
    [
        {"start": time(18), "end": time(9)},
        {"days": frozenset()},
        {"days": frozenset({7})},
    ],
)
def test_nonsense_working_hours_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        WorkingHours(**bad)  # type: ignore[arg-type]


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        is_working(datetime(2026, 11, 23, 9), ZoneInfo("UTC"), HOURS)
    with pytest.raises(ValueError, match="weekday"):
        weekday_numbers(["funday"])
