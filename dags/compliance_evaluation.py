"""
### Daily compliance evaluation

Judges every clause of the backup policy from the recorded evidence and, read-only,
from AWS: freshness of each asset's last good backup (warn at 24 h, fail at 26 h),
the window of the last 7 runs, retention (the last week covered, nothing deleted
younger than the minimum), encryption and TLS, the DR region and the residency
statement, a logging multi-region CloudTrail trail, the last passed restore test,
the SLA register, and tamper reconciliation (every recorded backup is still there,
or our retention deleted it). A check that cannot be made here is named `n/a`.

The result is recorded as evidence (its history is the trend) and shown on the
**Backup compliance** page of the Airflow UI. A failed clause sends one alert per
run summarising what failed, and fails the run.

Runs daily half an hour after the backup window closes, when the day's backups
should all be done. On a day the clocks jump forward the window closes an hour
later on the clock, so the scheduled run waits (deferred) until it has. Trigger it
by hand to evaluate now.
"""

from __future__ import annotations

from airflow.sdk import chain, dag

from include.dr.compliance.tasks import WaitForWindowCloseOperator, evaluate
from include.dr.compliance.timing import schedule_offset_minutes
from include.dr.dag_defaults import DEFAULT_ARGS, daily_in_window
from include.dr.policy.loader import load_policy

WINDOW = load_policy().schedule.window


@dag(
    dag_id="compliance_evaluation",
    schedule=daily_in_window(WINDOW, minutes_after_start=schedule_offset_minutes(WINDOW)),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["compliance", "daily"],
)
def compliance_evaluation() -> None:
    chain(WaitForWindowCloseOperator(task_id="wait_for_window_close"), evaluate())


compliance_evaluation()
