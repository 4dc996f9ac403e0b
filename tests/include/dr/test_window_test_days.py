"""The integration tests' random day (``a_day``) is replayable and never a clock-change day."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from tests.include.dr.clock_changes import change_days
from tests.integration import dag_runs


def draw_days(monkeypatch: pytest.MonkeyPatch, seed: int, count: int) -> list[datetime]:
    monkeypatch.setattr(dag_runs, "_GIVEN", set())
    monkeypatch.setattr(dag_runs, "_DRAW", random.Random(seed))
    return [dag_runs.a_day() for _ in range(count)]


def test_a_day_is_never_a_clock_change_day_or_the_day_after_in_any_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    days = draw_days(monkeypatch, seed=14, count=150)
    assert len({day.date() for day in days}) == len(days)
    first, last = min(days).date(), max(days).date()
    for change in change_days(first - timedelta(days=3), last + timedelta(days=3)):
        # Noon UTC is the day before, the day or the day after somewhere; none of them is
        # a change day or the day after one.
        for day in days:
            assert not timedelta(days=-1) <= day.date() - change <= timedelta(days=2), day
    # London's changes of 2026 are among those kept clear.
    assert {d.date().isoformat() for d in days}.isdisjoint({"2026-03-29", "2026-10-25"})


def test_a_day_replays_from_its_seed_and_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert draw_days(monkeypatch, 2027, 5) == draw_days(monkeypatch, 2027, 5)
    day = draw_days(monkeypatch, 3, 1)[0]
    assert day.tzinfo == UTC and day.hour == 12
    printed = capsys.readouterr().out.splitlines()[-1]
    assert printed.startswith(f"test day {day.date()} (seed {dag_runs.SEED};")
    assert f"{dag_runs.SEED_VARIABLE}={dag_runs.SEED}" in printed
