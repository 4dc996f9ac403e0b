"""What every DAG of the product shares: ownership, retries with backoff, and its schedule.

Schedules come from the policy file's backup window, so moving the window in
one place moves every DAG.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import Param

from include.dr.policy.model import BackupPolicy, BackupWindow
from include.dr.timetables import BackupWindowTimetable

OWNER = "backup-operations"
# A transient fault (throttling, a dropped connection) is retried with backoff; a
# fault that retrying cannot mend fails at once (AirflowFailException).
RETRY_DELAY = timedelta(seconds=float(os.environ.get("BACKUP_RETRY_DELAY_SECONDS", "60")))
DEFAULT_ARGS: dict[str, Any] = {
    "owner": OWNER,
    "retries": 3,
    "retry_delay": RETRY_DELAY,
    "retry_exponential_backoff": True,
    "max_retry_delay": RETRY_DELAY * 20,
}


def window_cron(window: BackupWindow, minutes_after_start: int = 0) -> str:
    """A daily cron expression at the window's start (plus an offset), in the window's zone."""
    start = datetime.combine(datetime(2000, 1, 1), window.start) + timedelta(
        minutes=minutes_after_start
    )
    return f"{start.minute} {start.hour} * * *"


def daily_in_window(window: BackupWindow, minutes_after_start: int = 0) -> BackupWindowTimetable:
    """Every day at the window's opening, in the window's time zone.

    The DAGs have no start date and do not run immediately when first deployed:
    the first run is the next window. A run the scheduler missed (it was down
    during the window) is still created once it is back, and its window gate
    fails it and alerts, because the backup was not made in time. A manual run
    dated in the future is refused when it is triggered (``BackupWindowTimetable``).
    """
    return BackupWindowTimetable(
        window_cron(window, minutes_after_start), timezone=window.timezone, run_immediately=False
    )


def daily_backup_dag_args(policy: BackupPolicy) -> dict[str, Any]:
    """What every daily backup DAG passes to ``@dag`` besides its schedule: one run at a
    time, the trigger form's window override, the window's Deadline Alert and the
    run-failure alert."""
    from include.dr.alerts import on_run_failure, window_deadline

    return {
        "catchup": False,
        "max_active_runs": 1,
        "default_args": DEFAULT_ARGS,
        "params": {
            "override_window": Param(
                False,
                type="boolean",
                title="Run outside the backup window",
                description="Back up now even if the policy's window has closed. "
                "The override is recorded in the run's evidence.",
            )
        },
        "deadline": window_deadline(policy),
        "on_failure_callback": on_run_failure,
    }


def restore_test_schedule(policy: BackupPolicy) -> BackupWindowTimetable:
    """The restore test's schedule, from the policy's interval, inside the backup window.

    Yearly (the policy's ceiling) runs on 15 January, a quiet day; shorter intervals run
    monthly, weekly or daily. It starts half-way through the window, after the daily
    backups it restores have had time to finish.
    """
    window = policy.schedule.window
    days = policy.restore_test.interval_days
    minute, hour, _, _, _ = window_cron(window, int(window.length.total_seconds() // 120)).split()
    calendar = (
        "15 1 *" if days >= 365 else "15 * *" if days >= 28 else "* * 1" if days >= 7 else "* * *"
    )
    return BackupWindowTimetable(
        f"{minute} {hour} {calendar}", timezone=window.timezone, run_immediately=False
    )
