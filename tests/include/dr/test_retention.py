"""The retention planner's promises, checked over thousands of generated inventories."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from include.dr.retention import Backup, plan_deletions

BASE = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)


@st.composite
def inventories(draw: st.DrawFn) -> list[Backup]:
    count = draw(st.integers(0, 25))
    return [
        Backup(
            backup_id=f"snap-{index:03d}",
            completed_at=BASE - timedelta(minutes=draw(st.integers(-3 * 1440, 60 * 1440))),
            finished=draw(st.booleans()),
            verified=draw(st.booleans()),
            ours=draw(st.integers(0, 9)) > 0,
        )
        for index in range(count)
    ]


clocks = st.integers(-10 * 1440, 60 * 1440).map(lambda minutes: BASE + timedelta(minutes=minutes))
minimums = st.integers(7, 30)
keeps = st.integers(1, 5)
MANY = settings(max_examples=1000, deadline=None)


def deleted(
    backups: list[Backup],
    now: datetime,
    minimum: int,
    keep: int,
    *,
    logical: datetime | None = None,
) -> set[str]:
    """What a run at logical time ``logical`` (default: ``now``) deletes when the clock says
    ``now``."""
    plan = plan_deletions(backups, logical or now, minimum, keep, now=now)
    return {d.backup_id for d in plan if d.action == "delete"}


@MANY
@given(inventories(), clocks, minimums, keeps)
def test_never_deletes_young_foreign_or_unfinished_backups(
    backups: list[Backup], now: datetime, minimum: int, keep: int
) -> None:
    gone = deleted(backups, now, minimum, keep)
    for backup in backups:
        if backup.backup_id in gone:
            assert backup.ours and backup.finished
            assert now - backup.completed_at > timedelta(days=minimum)


@MANY
@given(inventories(), clocks, minimums, keeps)
def test_newest_verified_backups_survive_whatever_their_age(
    backups: list[Backup], now: datetime, minimum: int, keep: int
) -> None:
    gone = deleted(backups, now, minimum, keep)
    candidates = sorted(
        (b for b in backups if b.ours and b.finished), key=lambda b: (b.completed_at, b.backup_id)
    )
    verified = [b for b in candidates if b.verified]
    if verified:
        assert verified[-1].backup_id not in gone
    kept_verified = [b for b in verified if b.backup_id not in gone]
    assert len(kept_verified) >= min(keep, len(verified))
    kept_finished = [b for b in candidates if b.backup_id not in gone]
    assert len(kept_finished) >= min(keep, len(candidates))


@MANY
@given(inventories(), clocks, minimums, keeps)
def test_applying_a_plan_twice_deletes_nothing_more(
    backups: list[Backup], now: datetime, minimum: int, keep: int
) -> None:
    gone = deleted(backups, now, minimum, keep)
    remaining = [b for b in backups if b.backup_id not in gone]
    assert deleted(remaining, now, minimum, keep) == set()


@MANY
@given(inventories(), clocks, clocks, minimums, keeps)
def test_an_earlier_logical_time_never_deletes_more(
    backups: list[Backup], first: datetime, second: datetime, minimum: int, keep: int
) -> None:
    earlier, later = sorted((first, second))
    assert deleted(backups, earlier, minimum, keep) <= deleted(backups, later, minimum, keep)


@given(inventories(), clocks, minimums, keeps)
def test_every_backup_gets_one_decision_with_a_reason(
    backups: list[Backup], now: datetime, minimum: int, keep: int
) -> None:
    plan = plan_deletions(backups, now, minimum, keep, now=now)
    assert sorted(d.backup_id for d in plan) == sorted(b.backup_id for b in backups)
    assert all(d.reason for d in plan)


def test_a_typical_week_keeps_seven_days_and_the_verified_newest() -> None:
    days = [
        Backup(f"day-{age:02d}", BASE - timedelta(days=age), True, age in (12, 20), True)
        for age in range(0, 21)
    ]
    plan = {d.backup_id: d for d in plan_deletions(days, BASE, 7, 1, now=BASE)}
    assert all(plan[f"day-{age:02d}"].action == "keep" for age in range(0, 8))
    assert plan["day-12"].action == "keep" and "newest 1 verified" in plan["day-12"].reason
    assert plan["day-20"].action == "delete" and plan["day-09"].action == "delete"


def test_unverified_asset_keeps_its_newest_copies() -> None:
    old = [Backup(f"old-{n}", BASE - timedelta(days=30 + n), True, False, True) for n in range(5)]
    plan = {d.backup_id: d for d in plan_deletions(old, BASE, 7, 2, now=BASE)}
    assert [plan[f"old-{n}"].action for n in range(5)] == [
        "keep",
        "keep",
        "delete",
        "delete",
        "delete",
    ]
    assert "only 0 verified" in plan["old-0"].reason


@MANY
@given(inventories(), clocks, minimums, keeps, st.timezones(), st.timezones())
def test_time_zones_of_the_inventory_and_the_clock_change_nothing(
    backups: list[Backup], now: datetime, minimum: int, keep: int, theirs: Any, ours: Any
) -> None:
    """An inventory stamped in one zone and a run clock in another (a DST zone included)
    decide exactly as in UTC: ages are real elapsed time, never wall-clock differences."""
    zoned = [replace(b, completed_at=b.completed_at.astimezone(theirs)) for b in backups]
    assert deleted(zoned, now.astimezone(ours), minimum, keep) == deleted(
        backups, now, minimum, keep
    )
    for backup in zoned:
        if backup.backup_id in deleted(zoned, now.astimezone(ours), minimum, keep):
            assert now - backup.completed_at > timedelta(days=minimum)


# Logical times before, at and after the wall clock: a manual run may be dated anywhere.
logical_offsets = st.sampled_from([0]) | st.integers(-60 * 1440, 400 * 1440)


@MANY
@given(inventories(), clocks, logical_offsets, minimums, keeps)
def test_nothing_younger_than_the_minimum_by_the_real_clock_is_deleted_whatever_the_logical_date(
    backups: list[Backup], now: datetime, offset: int, minimum: int, keep: int
) -> None:
    """A run dated 30 days (or a year) ahead once deleted backups 2-6 days old."""
    logical = now + timedelta(minutes=offset)
    for backup in backups:
        if backup.backup_id in deleted(backups, now, minimum, keep, logical=logical):
            assert now - backup.completed_at > timedelta(days=minimum)
            assert logical - backup.completed_at > timedelta(days=minimum)


@MANY
@given(inventories(), clocks, st.integers(1, 400 * 1440), minimums, keeps)
def test_a_run_dated_ahead_deletes_exactly_what_a_run_dated_now_would(
    backups: list[Backup], now: datetime, ahead: int, minimum: int, keep: int
) -> None:
    future = now + timedelta(minutes=ahead)
    assert deleted(backups, now, minimum, keep, logical=future) == deleted(
        backups, now, minimum, keep
    )


def test_a_run_dated_thirty_days_ahead_keeps_last_weeks_backups() -> None:
    days = [Backup(f"day-{age}", BASE - timedelta(days=age), True, True, True) for age in range(9)]
    plan = plan_deletions(days, BASE + timedelta(days=30), 7, 1, now=BASE)
    assert {d.backup_id for d in plan if d.action == "delete"} == {"day-8"}
