"""Running a daily backup DAG under dag.test() for a chosen day."""

from __future__ import annotations

import logging
import os
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
# The days are drawn from a seeded generator, so a failing run can be replayed: set
# BACKUP_TEST_DAY_SEED to the seed it printed (with the same tests, in the same order,
# on the same date, the same days come out).
SEED_VARIABLE = "BACKUP_TEST_DAY_SEED"
SEED = int(os.environ.get(SEED_VARIABLE) or random.SystemRandom().randrange(2**32))
_DRAW = random.Random(SEED)


def a_day(first: datetime = datetime(2026, 1, 2, 12, tzinfo=UTC)) -> datetime:
    """Noon on a past day, from ``first`` to three days ago, that no other test of this
    session was given: backups are named by day, so a run makes its own, never another
    test's. (Days before the DAGs' start date would run no task at all.)

    It is never a day on which the clocks change, or the day after, in any IANA zone a
    policy may name. Noon UTC is the day before, the same day or the day after in one
    zone or another, so the days from one before a change to two after it are left out.
    Clock-change days have their own tests (``tests/include/dr/test_window_clock_changes.py``).
    """
    from tests.include.dr.clock_changes import change_days

    days = [first + timedelta(days=n) for n in range((datetime.now(UTC) - first).days - 3)]
    changes = change_days(days[0].date() - timedelta(days=3), days[-1].date() + timedelta(days=3))
    taken = _GIVEN | {change + timedelta(days=n) for change in changes for n in (-1, 0, 1, 2)}
    day = _DRAW.choice([day for day in days if day.date() not in taken])
    _GIVEN.add(day.date())
    message = f"test day {day.date()} (seed {SEED}; replay with {SEED_VARIABLE}={SEED})"
    print(message)
    logging.getLogger(__name__).info(message)
    return day
