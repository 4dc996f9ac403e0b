"""Registers the backup DAGs' timetable, as Airflow requires of every custom timetable.

The scheduler, the DAG processor and the API server only deserialize a custom
timetable that a plugin names; the class itself lives in ``include/dr/timetables.py``.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from include.dr.timetables import BackupWindowTimetable


class BackupTimetablesPlugin(AirflowPlugin):
    name = "backup_timetables"
    timetables = [BackupWindowTimetable]
