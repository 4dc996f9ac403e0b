"""Runs dated in the future: the one rule every backup DAG applies to them.

Airflow 3.3 lets a manual trigger set any logical date. A backup run dated ahead
of the clock would measure ages against a time that has not come (retention
could delete a backup the policy still protects), would be judged against a
window that has not opened, and, waiting for its date with ``max_active_runs=1``,
would hold back every scheduled backup until then. So such a run is refused
outright: at trigger time by the DAGs' timetable, and again by the window gate
should one exist anyway. The window override does not change this.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from include.dr.errors import Permanent

# Clocks disagree a little (a browser's "now" in the trigger form, a server's NTP);
# a run dated within this of the clock is not "in the future".
FUTURE_TOLERANCE = timedelta(minutes=5)


class RunDatedAhead(Permanent):
    """A run dated ahead of the clock reached a task: it must not do anything."""


def future_run_refusal(logical_time: datetime, now: datetime) -> str | None:
    """Why a run with this logical time must not run, or None when it may."""
    if logical_time <= now + FUTURE_TOLERANCE:
        return None
    return (
        f"logical date {logical_time.isoformat()} is in the future (the time is now "
        f"{now.isoformat()}): a backup run cannot be dated ahead of the clock, with or without "
        "override_window, because its retention and window would be judged against a time "
        "that has not come. Trigger it again with no logical date, or one that has passed."
    )
