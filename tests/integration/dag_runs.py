"""Running a daily backup DAG under dag.test() for a chosen day."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any


def run_daily(dag_bag: Any, dag_id: str, day: datetime) -> Any:
    """One run with the window override (tests run at any hour)."""
    dag = dag_bag.get_dag(dag_id)
    # Airflow 3.3's dag.test() fails a finished run whose DAG has a DeadlineAlert; the
    # deadline is tested under airflow standalone (test_deadline_alert.py).
    dag.deadline = None
    return dag.test(logical_date=day, run_conf={"override_window": True})


def a_day() -> datetime:
    """Noon on a random past day of 2026, so runs rarely meet another test's backups."""
    first = datetime(2026, 1, 2, 12, tzinfo=UTC)
    return first + timedelta(days=random.randrange((datetime.now(UTC) - first).days - 3))
