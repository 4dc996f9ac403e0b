"""
### Daily compliance evaluation

Judges every clause of the backup policy from the recorded evidence and, read-only,
from AWS: freshness of each asset's last good backup (warn at 24 h, fail at 26 h),
the window of the last 7 runs, retention (the last week covered, nothing deleted
younger than the minimum), encryption and TLS, the DR region and the residency
statement, a logging multi-region CloudTrail trail, the last passed restore test,
the SLA register, and tamper reconciliation (every recorded backup is still there,
or our retention deleted it).

The result is recorded as evidence (its history is the trend) and shown on the
**Backup compliance** page of the Airflow UI. A failed clause sends one alert per
run summarising what failed, and fails the run.

Runs daily half an hour after the backup window closes, when the day's backups
should all be done.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from airflow.sdk import dag, task

from include.dr.dag_defaults import DEFAULT_ARGS, daily_in_window
from include.dr.policy.loader import load_policy

POLICY = load_policy()
WINDOW = POLICY.schedule.window
AFTER_WINDOW = int(WINDOW.length.total_seconds() // 60) + 30


@dag(
    dag_id="compliance_evaluation",
    schedule=daily_in_window(WINDOW, minutes_after_start=AFTER_WINDOW),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["compliance", "daily"],
)
def compliance_evaluation() -> None:
    @task
    def evaluate(**context: Any) -> dict[str, Any]:
        """Judge every clause; record it; alert once and fail the run if any clause failed."""
        from airflow.sdk.exceptions import AirflowFailException

        from include.dr.alerts import send
        from include.dr.aws_clients import hook_clients
        from include.dr.compliance.evaluate import evaluate, record_evaluation
        from include.dr.evidence import evidence_store
        from include.dr.git.backup import bundles_dir

        policy = load_policy()
        dr, production = hook_clients("aws_dr"), hook_clients("aws_default")
        aws = {
            "rds_dr": dr("rds", policy.regions.dr),
            "kms_dr": dr("kms", policy.regions.dr),
            "s3_dr": dr("s3", policy.regions.dr),
            "cloudtrail": production("cloudtrail", policy.regions.production),
        }
        store = evidence_store()
        verdicts = evaluate(policy, store, datetime.now(UTC), aws, bundles_dir())
        summary = record_evaluation(verdicts, store, context["dag"].dag_id, context["run_id"])
        if summary["failing"]:
            send(
                policy,
                f"Backup policy not met: {len(summary['failing'])} clause(s) failed",
                "\n".join(summary["failing"]),
            )
            raise AirflowFailException("; ".join(summary["failing"]))
        return summary

    evaluate()


compliance_evaluation()
