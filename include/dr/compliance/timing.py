"""When the daily evaluation runs: half an hour after the day's backup window has closed.

The schedule fires at the window's written start plus its written length plus half an
hour on the clock. On a day the clocks jump forward inside or over the window, the
window closes an hour later on the clock (:func:`include.dr.window.occurrence`), so the
scheduled run waits, deferred, until the window of its day has really closed. Pure: the
clock is an argument.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from include.dr.policy.model import BackupWindow
from include.dr.window import WindowOccurrence, occurrence

AFTER_CLOSE = timedelta(minutes=30)


def schedule_offset_minutes(window: BackupWindow) -> int:
    """The schedule's offset from the window's start, on the clock: its length plus 30 min."""
    return int((window.length + AFTER_CLOSE).total_seconds() // 60)


def latest_opened(window: BackupWindow, moment: datetime) -> WindowOccurrence:
    """The latest window that had opened by ``moment`` (the day before's, when ``moment``
    falls before its own day's window opens, e.g. after an overnight window)."""
    day = moment.astimezone(window.zone).date()
    found = occurrence(window, day)
    return found if found.opens_at <= moment else occurrence(window, day - timedelta(days=1))


def evaluation_due(window: BackupWindow, logical_time: datetime) -> datetime:
    """When a run at ``logical_time`` may judge the day: 30 min after its window closes."""
    return latest_opened(window, logical_time).closes_at + AFTER_CLOSE


def evaluation_wait(
    window: BackupWindow, logical_time: datetime, now: datetime, *, scheduled: bool
) -> datetime | None:
    """Until when a run must wait before evaluating, or None to evaluate now. A run started
    by hand evaluates at once: a person asked for it now."""
    if not scheduled:
        return None
    due = evaluation_due(window, logical_time)
    return due if now < due else None
