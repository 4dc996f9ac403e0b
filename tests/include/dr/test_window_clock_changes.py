"""The window on clock-change days, in every IANA zone, and the scheduler's real firing times.

Clock-change days are drawn on purpose (``clock_changes.py`` finds every change of
every zone from the zone data), never left to chance: every change of one whole year
in every zone is checked exhaustively, and hypothesis draws changes from thirteen years.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from include.dr.dag_defaults import daily_in_window
from include.dr.policy.model import BackupWindow
from include.dr.window import decide_gate, occurrence, run_window
from tests.include.dr.clock_changes import (
    YEARS,
    ClockChange,
    changes_in,
    zones_alike,
    zones_with_changes,
)

YEAR = 2027
SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def window(start: str, end: str, zone: str) -> BackupWindow:
    return BackupWindow.model_validate({"start": start, "end": end, "timezone": zone})


def latest_instant(day: date, clock: time, zone: BackupWindow) -> datetime:
    """The later of the two readings of a wall time (they differ in a gap or a fold)."""
    naive = datetime.combine(day, clock)
    return max(naive.replace(tzinfo=zone.zone, fold=fold).astimezone(UTC) for fold in (0, 1))


def check_day(w: BackupWindow, day: date) -> None:
    """Every rule of the window for the window that opens on ``day``."""
    zone = w.zone
    occ, following = occurrence(w, day), occurrence(w, day + DAY)
    label = f"{w.start:%H:%M}-{w.end:%H:%M} {w.timezone} on {day}: {occ.describe()}"
    elapsed = occ.closes_at - occ.opens_at
    room = following.opens_at - occ.opens_at

    # It opens at its start; a start the clocks skip moves forward by the jump, and a
    # start that happens twice opens at its first occurrence.
    opened = occ.opens_at.astimezone(zone)
    start = datetime.combine(day, w.start)
    moved = opened.replace(tzinfo=None) - start
    assert moved == opened.utcoffset() - start.replace(tzinfo=zone, fold=0).utcoffset(), label
    assert occ.opens_at == start.replace(tzinfo=zone, fold=0).astimezone(UTC), label
    # On its own day, unless the clocks skip the rest of that day (Greenland jumps from
    # 23:00 to midnight): then it opens in the first minutes of the next.
    assert occ.day == day, label
    assert opened.date() == day or (moved > timedelta(0) and opened.date() == day + DAY), label

    # Never empty; never shorter than written unless the next window opens first; never
    # overlapping the next; longer than written only by the hour the clocks fell back.
    assert occ.opens_at < occ.closes_at <= following.opens_at, label
    assert elapsed >= min(w.length, room), label
    end_day = day + DAY if w.overnight else day
    written_end = latest_instant(end_day, w.end, w)
    fell_back = max(timedelta(0), opened.utcoffset() - written_end.astimezone(zone).utcoffset())
    assert elapsed <= w.length + fell_back, label
    # It closes at the last reading of its written end, or later, unless the next day's
    # window opens first.
    assert occ.closes_at >= written_end or occ.closes_at == following.opens_at, label

    # Every moment of it belongs to it, and the gate passes in it, waits before it and
    # fails after it.
    for moment in (occ.opens_at, occ.opens_at + elapsed / 2, occ.closes_at - SECOND):
        assert run_window(w, moment) == occ, f"{label}: {moment} belongs elsewhere"
    assert decide_gate(w, occ.opens_at, occ.opens_at).action == "pass", label
    assert decide_gate(w, occ.opens_at, occ.opens_at - SECOND).action == "wait", label
    assert decide_gate(w, occ.opens_at, occ.closes_at).action == "fail", label


def fires(w: BackupWindow, first: date, last: date) -> Iterator[datetime]:
    """The scheduler's firing times from local ``first`` to ``last``, from the DAGs' own
    timetable (``daily_in_window``), asked the way the scheduler asks it."""
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.timetables.base import TimeRestriction

    timetable = coerce_to_core_timetable(daily_in_window(w))
    earliest = datetime.combine(first, time(0), tzinfo=w.zone).astimezone(UTC)
    restriction = TimeRestriction(earliest=earliest, latest=None, catchup=True)
    interval = None
    while True:
        info = timetable.next_dagrun_info(
            last_automated_data_interval=interval, restriction=restriction
        )
        assert info is not None
        if info.run_after.astimezone(w.zone).date() > last:
            return
        yield info.run_after
        interval = info.data_interval


def check_fires(w: BackupWindow, around: date) -> None:
    """One firing a day, each inside the window of its own day, where the gate passes."""
    days = []
    for fire in fires(w, around - 2 * DAY, around + 2 * DAY):
        decision = decide_gate(w, fire, fire)
        occ = decision.window
        label = f"{w.start:%H:%M}-{w.end:%H:%M} {w.timezone}: fired {occ.local(fire)}"
        assert occ.opens_at <= fire < occ.closes_at, f"{label}, window {occ.describe()}"
        assert decision.action == "pass" and occ == occurrence(w, occ.day), label
        # The window of the day the scheduler fired for: its local day, or the day before
        # when the clocks skipped the end of that day.
        assert fire.astimezone(w.zone).date() - occ.day in (timedelta(0), DAY), label
        days.append(occ.day)
    assert len(days) >= 4, f"{w}: fired for {days}"
    assert days == [days[0] + n * DAY for n in range(len(days))], f"{w}: fired for {days}"


def windows_around(change: ClockChange, lengths: list[timedelta]) -> Iterator[BackupWindow]:
    """Windows starting before, at, inside and after the change, with each length."""
    jump = abs(change.jump)
    offsets = {-2 * jump, -jump, -jump / 2, timedelta(0), jump / 2, jump - SECOND * 60, jump}
    offsets |= {timedelta(minutes=m) for m in (-150, -61, -1, 1, 59, 61, 150)}
    for offset in sorted(offsets):
        start = (change.first_wall + offset).replace(second=0, microsecond=0)
        for length in lengths:
            end = start + length
            if end.time() != start.time():
                yield BackupWindow(start=start.time(), end=end.time(), timezone=change.zone)


LENGTHS = [
    timedelta(minutes=m) for m in (1, 15, 30, 45, 60, 61, 90, 120, 240, 720, 1380, 1410, 1439)
]


@pytest.mark.parametrize(
    "zones", zones_alike(YEAR), ids=lambda zones: f"{zones[0]} and {len(zones) - 1} alike"
)
def test_every_change_of_the_year_in_every_zone(zones: tuple[str, ...]) -> None:
    for change in changes_in(zones[0], YEAR):
        for w in windows_around(change, LENGTHS):
            for day in (change.day - 2 * DAY, change.day - DAY, change.day, change.day + DAY):
                check_day(w, day)


@pytest.mark.parametrize("zone", zones_with_changes(YEAR))
def test_the_scheduler_fires_inside_the_window_on_every_change_in_every_zone(zone: str) -> None:
    for change in changes_in(zone, YEAR):
        # The firing time does not depend on the length; the window's close does.
        for w in windows_around(change, [timedelta(minutes=1), timedelta(hours=23, minutes=59)]):
            check_fires(w, change.day)


@st.composite
def changes(draw: st.DrawFn) -> ClockChange:
    """A clock change drawn on purpose: a year, a zone whose clocks change, one change."""
    year = draw(st.sampled_from(YEARS))
    zone = draw(st.sampled_from(zones_with_changes(year)))
    return draw(st.sampled_from(changes_in(zone, year)))


@st.composite
def windows_on_change_days(draw: st.DrawFn) -> tuple[BackupWindow, ClockChange]:
    change = draw(changes())
    jump = int(abs(change.jump).total_seconds() // 60)
    # Starts inside the skipped or repeated time, at its edges, or around it.
    offset = draw(
        st.one_of(
            st.integers(0, max(jump - 1, 0)),
            st.sampled_from([-jump, -1, 0, jump - 1, jump, jump + 1]),
            st.integers(-24 * 60, 24 * 60),
        )
    )
    length = draw(
        st.one_of(
            st.integers(1, 2 * jump + 1),  # short: about the size of the jump
            st.integers(20 * 60, 24 * 60 - 1),  # long: close to a whole day
            st.integers(1, 24 * 60 - 1),
        )
    )
    start = (change.first_wall + timedelta(minutes=offset)).replace(second=0)
    end = start + timedelta(minutes=length)
    return BackupWindow(start=start.time(), end=end.time(), timezone=change.zone), change


@settings(max_examples=3000, deadline=None)
@given(windows_on_change_days())
def test_windows_drawn_on_clock_change_days_keep_every_rule(
    drawn: tuple[BackupWindow, ClockChange],
) -> None:
    w, change = drawn
    for day in (change.day - DAY, change.day, change.day + DAY):
        check_day(w, day)


@settings(max_examples=300, deadline=None)
@given(windows_on_change_days())
def test_the_scheduler_fires_inside_windows_drawn_on_clock_change_days(
    drawn: tuple[BackupWindow, ClockChange],
) -> None:
    w, change = drawn
    check_fires(w, change.day)


# The cases of issue #14: each was empty or inverted, so the day's run failed at the gate.
@pytest.mark.parametrize(
    ("start", "end", "zone", "day", "opens", "closes"),
    [
        # London, 28 March 2027: 01:00 GMT jumps to 02:00 BST.
        ("01:00", "02:00", "Europe/London", "2027-03-28", "01:00", "02:00"),  # 02:00-03:00 BST
        ("01:30", "02:00", "Europe/London", "2027-03-28", "01:30", "02:00"),  # 02:30-03:00 BST
        # New York, 14 March 2027: 02:00 EST jumps to 03:00 EDT.
        ("02:00", "03:00", "America/New_York", "2027-03-14", "07:00", "08:00"),  # 03:00-04:00 EDT
    ],
)
def test_a_window_starting_in_the_skipped_hour_keeps_its_length(
    start: str, end: str, zone: str, day: str, opens: str, closes: str
) -> None:
    w = window(start, end, zone)
    occ = occurrence(w, date.fromisoformat(day))
    assert occ.opens_at == utc(f"{day}T{opens}")
    assert occ.closes_at == utc(f"{day}T{closes}")
    (fire,) = fires(w, occ.day, occ.day)
    assert fire == occ.opens_at  # the scheduler fires as the window opens, where the gate passes
    assert decide_gate(w, fire, fire).action == "pass"


def test_a_window_over_the_skipped_hour_closes_an_hour_later_on_the_clock() -> None:
    w = window("00:30", "03:00", "Europe/London")
    occ = occurrence(w, date(2027, 3, 28))
    assert occ.describe() == "2027-03-28 00:30 GMT to 2027-03-28 04:00 BST"  # 2 h 30 min


def test_a_long_overnight_window_gives_the_spring_day_its_own_run() -> None:
    # 02:00-01:30 in London: 23 h 30 min, but 28 March 2027 has only 23 hours.
    w = window("02:00", "01:30", "Europe/London")
    (fire,) = fires(w, date(2027, 3, 28), date(2027, 3, 28))
    assert fire == utc("2027-03-28T01:00")  # 02:00 BST
    decision = decide_gate(w, fire, fire)
    assert decision.action == "pass" and decision.window.day == date(2027, 3, 28)
    # The day before's window gives way: it closes as the spring day's opens.
    eve = occurrence(w, date(2027, 3, 27))
    assert eve.closes_at == fire
    assert run_window(w, fire - SECOND) == eve


def test_a_long_window_in_autumn_closes_when_the_next_one_opens() -> None:
    # 01:30-01:00 in London: the end's last reading (01:00 GMT on 31 October 2027)
    # comes after the next window's opening (01:30 BST), so it closes then: 24 hours.
    w = window("01:30", "01:00", "Europe/London")
    occ = occurrence(w, date(2027, 10, 30))
    assert occ.describe() == "2027-10-30 01:30 BST to 2027-10-31 01:30 BST"
    assert run_window(w, utc("2027-10-31T00:30")).day == date(2027, 10, 31)
