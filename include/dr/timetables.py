"""The backup DAGs' timetable: daily at the window's opening, never a run dated ahead.

Custom (and registered by ``plugins/backup_timetables.py``, as Airflow requires of
custom timetables) because no built-in timetable refuses a manual run dated in the
future. Airflow asks the timetable for a manual run's data interval before the run
exists (REST API, UI trigger form, ``TriggerDagRunOperator``, ``dag.test``), and
answers an error raised there with a 400 that carries its message: so the refusal
happens with nothing created, and nothing is left queued to block the daily runs.
"""

from __future__ import annotations

from datetime import UTC, datetime

from airflow.timetables.base import DataInterval
from airflow.timetables.trigger import CronTriggerTimetable
from pendulum import DateTime

from include.dr.future_runs import future_run_refusal


class FutureRunRefused(ValueError):
    """A manual run dated ahead of the clock (Airflow maps ValueError to a 400)."""


class BackupWindowTimetable(CronTriggerTimetable):
    """A cron trigger timetable that refuses manual runs dated in the future."""

    def infer_manual_data_interval(self, *, run_after: DateTime) -> DataInterval:
        refusal = future_run_refusal(run_after, datetime.now(UTC))
        if refusal is not None:
            raise FutureRunRefused(refusal)
        return super().infer_manual_data_interval(run_after=run_after)
