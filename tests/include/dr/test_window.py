"""The window's instants, its clock-change rules, and the gate and completion decisions."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from include.dr.dag_defaults import window_cron
from include.dr.policy.model import BackupWindow
from include.dr.window import decide_gate, judge_completion, occurrence, run_window

ZONES = [
    "Europe/London",
    "America/New_York",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Pacific/Chatham",
    "Asia/Kolkata",
    "UTC",
]
clock = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45, 59]))
days = st.dates(date(2020, 1, 1), date(2035, 12, 31))


def london(start: str, end: str) -> BackupWindow:
    return BackupWindow.model_validate({"start": start, "end": end, "timezone": "Europe/London"})


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@settings(max_examples=1000, deadline=None)
@given(st.sampled_from(ZONES), clock, clock, days, st.floats(0, 0.999))
def test_every_window_opens_before_it_closes_and_owns_its_moments(
    zone: str, start: time, end: time, day: date, fraction: float
) -> None:
    assume(start != end)
    window = BackupWindow(start=start, end=end, timezone=zone)
    occ = occurrence(window, day)
    assert occ.opens_at < occ.closes_at
    # Clock changes never shorten a window, unless the next day's window opens first;
    # falling back lengthens it by at most the hour repeated.
    room = occurrence(window, day + timedelta(days=1)).opens_at - occ.opens_at
    elapsed = occ.closes_at - occ.opens_at
    assert min(window.length, room) <= elapsed <= window.length + timedelta(hours=1)
    # The window opens at its start, or just after it when the start does not exist that day.
    opened = occ.opens_at.astimezone(ZoneInfo(zone))
    shift = datetime.combine(day, opened.time()) - datetime.combine(day, start)
    assert opened.date() == day and timedelta(0) <= shift <= timedelta(hours=1)
    inside = occ.opens_at + (occ.closes_at - occ.opens_at) * fraction
    assert run_window(window, inside) == occ
    assert decide_gate(window, inside, inside).action == "pass"
    assert decide_gate(window, inside, occ.opens_at - timedelta(seconds=1)).action == "wait"
    assert decide_gate(window, inside, occ.closes_at).action == "fail"
    assert (
        decide_gate(window, inside, occ.closes_at + timedelta(days=3), override=True).action
        == "pass"
    )


def test_a_start_skipped_by_the_spring_clock_change_moves_forward() -> None:
    # London, 2026-03-29: clocks jump from 01:00 GMT to 02:00 BST.
    occ = occurrence(london("01:30", "05:00"), date(2026, 3, 29))
    assert occ.opens_at == utc("2026-03-29T01:30")  # 02:30 BST
    # It keeps its three and a half hours: it closes at 06:00 BST, not 05:00.
    assert occ.closes_at == utc("2026-03-29T05:00")


def test_a_repeated_hour_in_autumn_opens_first_and_closes_last() -> None:
    # London, 2026-10-25: 01:00-02:00 happens twice (BST, then GMT).
    occ = occurrence(london("01:00", "01:30"), date(2026, 10, 25))
    assert occ.opens_at == utc("2026-10-25T00:00")  # the first 01:00 (BST)
    assert occ.closes_at == utc("2026-10-25T01:30")  # the second 01:30 (GMT)


def test_overnight_window_claims_the_small_hours_for_the_evening_before() -> None:
    window = london("23:00", "03:00")
    occ = run_window(window, utc("2026-01-15T02:00"))
    assert occ.day == date(2026, 1, 14)
    assert decide_gate(window, utc("2026-01-15T02:00"), utc("2026-01-15T02:00")).action == "pass"
    # At 04:00 the night's window has closed; the next one opens at 23:00 the same day.
    assert run_window(window, utc("2026-01-15T04:00")).day == date(2026, 1, 15)


def test_manual_runs_wait_before_the_window_and_fail_after_it() -> None:
    window = london("01:00", "05:00")
    early = decide_gate(window, utc("2026-01-15T00:30"), utc("2026-01-15T00:30"))
    assert early.action == "wait" and early.window.opens_at == utc("2026-01-15T01:00")
    late = decide_gate(window, utc("2026-01-15T14:00"), utc("2026-01-15T14:00"))
    assert late.action == "fail"
    assert "override_window" in late.reason and "05:00 GMT" in late.reason
    forced = decide_gate(window, utc("2026-01-15T14:00"), utc("2026-01-15T14:00"), override=True)
    assert forced.action == "pass" and forced.override


def test_completion_after_the_close_is_a_kept_breach() -> None:
    window = london("01:00", "05:00")
    on_time = judge_completion(window, utc("2026-06-01T00:00"), utc("2026-06-01T03:59"))
    assert not on_time.breached  # 04:59 BST
    late = judge_completion(window, utc("2026-06-01T00:00"), utc("2026-06-01T04:10"))
    assert late.breached and late.late_by == timedelta(minutes=10)
    assert "the backup is kept" in late.describe()


@pytest.mark.parametrize("day", ["2026-03-29", "2026-10-25", "2026-06-01"])
def test_the_derived_schedule_fires_inside_the_window_on_clock_change_days(day: str) -> None:
    from airflow.timetables.base import TimeRestriction
    from airflow.timetables.trigger import CronTriggerTimetable

    window = london("01:00", "05:00")
    timetable = CronTriggerTimetable(window_cron(window), timezone=window.timezone)
    the_day = date.fromisoformat(day)
    eve = datetime.combine(the_day - timedelta(days=1), time(12), tzinfo=UTC)
    info = timetable.next_dagrun_info(
        last_automated_data_interval=None,
        restriction=TimeRestriction(earliest=eve, latest=None, catchup=True),
    )
    assert info is not None
    occ = occurrence(window, the_day)
    assert occ.opens_at <= info.run_after < occ.closes_at
    assert decide_gate(window, info.run_after, info.run_after).action == "pass"
