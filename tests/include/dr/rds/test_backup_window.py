"""RDS's own automated-backup window against the policy's local window, all year round.

The DAG snapshots when the policy window opens and RDS refuses a snapshot while its
automated backup runs, so the automated window chosen by ``fix_drift`` must never
meet the policy window: on any day, in any zone, across every clock change.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import available_timezones

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from include.dr.policy.model import BackupWindow
from include.dr.rds.backup_window import (
    NoRdsWindowFits,
    parse_rds_window,
    rds_window_clear,
    rds_window_for,
)
from include.dr.window import occurrence

LONDON = BackupWindow.model_validate(
    {"start": "01:00", "end": "05:00", "timezone": "Europe/London"}
)
ZONES = sorted(available_timezones() - {"Factory", "localtime"})
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def window(start: int, end: int, zone: str) -> BackupWindow:
    return BackupWindow.model_validate(
        {"start": f"{start // 60:02d}:{start % 60:02d}", "end": f"{end // 60:02d}:{end % 60:02d}",
         "timezone": zone}
    )  # fmt: skip


def collisions(policy: BackupWindow, preferred: str, year: int) -> list[str]:
    """Every day of ``year`` on which the automated window (UTC, daily) meets the policy
    window's occurrence; measured on instants, independently of the code under test."""
    start, _ = parse_rds_window(preferred)
    found = []
    day = date(year, 1, 1)
    while day.year == year:
        occ = occurrence(policy, day)
        base = occ.opens_at.astimezone(UTC).date()
        for shift in (-1, 0, 1):
            begins = datetime.combine(base + timedelta(days=shift), start, tzinfo=UTC)
            if begins < occ.closes_at and occ.opens_at < begins + timedelta(minutes=30):
                found.append(f"{day}: {preferred} UTC meets {occ.describe()}")
        day += timedelta(days=1)
    return found


def maintenance_window(day: int, minute: int) -> str:
    ends = (day * 1440 + minute + 30) % (7 * 1440)
    return (
        f"{DAYS[day]}:{minute // 60:02d}:{minute % 60:02d}-"
        f"{DAYS[ends // 1440]}:{ends % 1440 // 60:02d}:{ends % 60:02d}"
    )


def meets_maintenance(preferred: str, maintenance: str) -> bool:
    start, _ = parse_rds_window(preferred)
    first = start.hour * 60 + start.minute
    d1, h1, m1 = maintenance.split("-")[0].split(":")
    m_start = DAYS.index(d1) * 1440 + int(h1) * 60 + int(m1)
    week = 7 * 1440
    return any(
        (m_start - (d * 1440 + first)) % week < 30 or ((d * 1440 + first) - m_start) % week < 30
        for d in range(7)
    )


@settings(max_examples=60, deadline=None)
@given(
    start=st.integers(0, 1439),
    length=st.integers(1, 1439),
    zone=st.sampled_from(ZONES),
    year=st.integers(2025, 2037),
    maintenance=st.none() | st.builds(maintenance_window, st.integers(0, 6), st.integers(0, 1439)),
)
@example(start=60, length=240, zone="Europe/London", year=2026, maintenance=None)
@example(start=120, length=120, zone="Australia/Lord_Howe", year=2026, maintenance=None)
@example(start=60, length=300, zone="Antarctica/Troll", year=2026, maintenance=None)
@example(start=120, length=180, zone="Africa/Casablanca", year=2026, maintenance=None)
@example(start=1380, length=240, zone="America/New_York", year=2026, maintenance=None)
@example(start=60, length=240, zone="Europe/London", year=2026, maintenance="sun:23:00-sun:23:30")
def test_the_chosen_window_never_meets_the_policy_window_on_any_day(
    start: int, length: int, zone: str, year: int, maintenance: str | None
) -> None:
    policy = window(start, (start + length) % 1440, zone)
    try:
        preferred = rds_window_for(policy, year, maintenance)
    except NoRdsWindowFits as refused:
        # Only a window leaving no room all year (offsets move up to 2 h; 30 min clearances)
        assert policy.length >= timedelta(hours=19), refused
        return
    assert re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d", preferred)
    begins, ends = parse_rds_window(preferred)
    assert (datetime.combine(date.min, ends) - datetime.combine(date.min, begins)) % timedelta(
        days=1
    ) == timedelta(minutes=30)
    assert collisions(policy, preferred, year) == []
    assert rds_window_clear(policy, preferred, year)
    if maintenance:
        assert not meets_maintenance(preferred, maintenance)


def test_london_gets_the_half_hour_ending_an_hour_before_midnight_utc() -> None:
    # 23:00-23:30 UTC: ends 90 minutes before the 01:00 GMT opening, 30 before 01:00 BST.
    assert rds_window_for(LONDON, 2026) == "23:00-23:30"


def test_the_maintenance_window_moves_it_earlier() -> None:
    assert rds_window_for(LONDON, 2026, "wed:23:10-wed:23:40") == "22:40-23:10"


@pytest.mark.parametrize(
    ("preferred", "clear"),
    [
        ("01:00-01:30", False),  # the opening in winter: the old choice, colliding
        ("00:10-00:40", False),  # inside in summer (01:10 BST)
        ("04:30-05:00", False),  # inside in winter
        ("23:00-23:30", True),
        ("12:00-12:30", True),
        ("05:00-05:30", True),  # after the window closes in winter (05:00) and summer (04:00)
    ],
)
def test_a_window_is_clear_only_when_it_misses_both_seasons(preferred: str, clear: bool) -> None:
    assert rds_window_clear(LONDON, preferred, 2026) is clear


def test_a_policy_window_leaving_no_room_is_refused_clearly() -> None:
    long = window(60, 0, "Europe/London")  # 23 hours
    with pytest.raises(NoRdsWindowFits, match="shorten the policy window"):
        rds_window_for(long, 2026)


def test_parse_keeps_rds_format() -> None:
    assert parse_rds_window("23:00-23:30") == (time(23, 0), time(23, 30))
