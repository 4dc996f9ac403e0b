"""What every DAG of the product shares: ownership, retries with backoff, and its schedule.

Schedules come from the policy file's backup window, so moving the window in
one place moves every DAG.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

import pendulum

from include.dr.policy.model import BackupWindow

OWNER = "backup-operations"
START_DATE = pendulum.datetime(2026, 1, 1, tz="UTC")
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
