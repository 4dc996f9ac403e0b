"""Running a daily backup DAG under dag.test() for a chosen day."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any


def run_daily(dag_bag: Any, dag_id: str, day: datetime) -> Any:
    """One run with the window override (tests run at any hour)."""
    dag = dag_bag.get_dag(dag_id)
    # Airflow 3.3's dag.test() fails a finished run whose DAG has a DeadlineAlert; the
    # deadline is tested under airflow standalone (test_deadline_alert.py).
    dag.deadline = None
    return dag.test(logical_date=day, run_conf={"override_window": True})


_GIVEN: set[date] = set()


def a_day(first: datetime = datetime(2026, 1, 2, 12, tzinfo=UTC)) -> datetime:
    """Noon on a past day, from ``first`` to three days ago, that no other test of this
    session was given: backups are named by day, so a run makes its own, never another
    test's. (Days before the DAGs' start date would run no task at all.)"""
    span = (datetime.now(UTC) - first).days - 3
    free = [n for n in range(span) if (first + timedelta(days=n)).date() not in _GIVEN]
    day = first + timedelta(days=random.choice(free))
    _GIVEN.add(day.date())
    return day
