"""What every DAG of the product shares: ownership, retries with backoff, and its schedule.

Schedules come from the policy file's backup window, so moving the window in
one place moves every DAG.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pendulum

from include.dr.policy.model import BackupWindow

OWNER = "backup-operations"
START_DATE = pendulum.datetime(2026, 1, 1, tz="UTC")
DEFAULT_ARGS: dict[str, Any] = {
    "owner": OWNER,
    "retries": 3,
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=20),
}


def window_cron(window: BackupWindow, minutes_after_start: int = 0) -> str:
    """A daily cron expression at the window's start (plus an offset), in the window's zone."""
    start = datetime.combine(datetime(2000, 1, 1), window.start) + timedelta(
        minutes=minutes_after_start
    )
    return f"{start.minute} {start.hour} * * *"
