"""When the daily evaluation may judge the day: 30 minutes after the window of its day has
really closed, which on a spring-forward day is an hour later on the clock than the
schedule fires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from include.dr.compliance.timing import (
    evaluation_due,
    evaluation_wait,
    schedule_offset_minutes,
)
from include.dr.dag_defaults import window_cron
from include.dr.policy.model import BackupWindow

LONDON = BackupWindow.model_validate(
    {"start": "01:00", "end": "05:00", "timezone": "Europe/London"}
)
OVERNIGHT = BackupWindow.model_validate(
    {"start": "23:00", "end": "03:00", "timezone": "Europe/London"}
)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_the_schedule_fires_half_an_hour_after_the_written_window() -> None:
    assert schedule_offset_minutes(LONDON) == 270
    assert window_cron(LONDON, schedule_offset_minutes(LONDON)) == "30 5 * * *"


def test_on_an_ordinary_day_the_scheduled_run_evaluates_when_it_fires() -> None:
    fired = utc(2026, 6, 10, 4, 30)  # 05:30 BST
    assert evaluation_due(LONDON, fired) == fired
    assert evaluation_wait(LONDON, fired, fired, scheduled=True) is None


def test_on_the_spring_forward_day_the_scheduled_run_waits_for_the_real_close() -> None:
    # 29 March 2026: the window opens at 02:00 BST (01:00 does not exist) and keeps its
    # four hours, closing at 06:00 BST; the schedule still fires at 05:30 BST.
    fired = utc(2026, 3, 29, 4, 30)
    due = utc(2026, 3, 29, 5, 30)  # 06:30 BST
    assert evaluation_due(LONDON, fired) == due
    assert evaluation_wait(LONDON, fired, fired, scheduled=True) == due
    assert evaluation_wait(LONDON, fired, due - timedelta(seconds=1), scheduled=True) == due
    assert evaluation_wait(LONDON, fired, due, scheduled=True) is None


def test_on_the_fall_back_day_the_schedule_already_fires_after_the_close() -> None:
    fired = utc(2026, 10, 25, 5, 30)  # 05:30 GMT; the window closed at 05:00 GMT
    assert evaluation_due(LONDON, fired) == fired


def test_a_run_started_by_hand_evaluates_at_once() -> None:
    inside = utc(2026, 3, 29, 3, 0)  # inside the window
    assert evaluation_wait(LONDON, inside, inside, scheduled=False) is None


def test_an_overnight_window_is_judged_after_the_window_that_opened_the_evening_before() -> None:
    fired = utc(2026, 6, 11, 2, 30)  # 03:30 BST, after the window opened at 23:00 BST on 10 June
    assert evaluation_due(OVERNIGHT, fired) == fired
