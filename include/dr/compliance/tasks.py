"""The compliance evaluation's task adapters: the wait for the day's window to close, and
the evaluation itself, run inside the task boundary.

Only ``airflow.sdk`` is imported here at module level; the rest loads inside the tasks.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseOperator, get_current_context, task


class WaitForWindowCloseOperator(BaseOperator):
    """Wait, deferred (holding no worker slot), until the backup window of the run's day has
    closed plus 30 minutes: later than the schedule on a day the clocks jump forward.
    A run started by hand does not wait."""

    ui_color = "#d6eaf8"

    def execute(self, context: Any) -> str | None:
        from datetime import UTC, datetime

        from include.dr.compliance.timing import evaluation_wait
        from include.dr.policy.loader import load_policy
        from include.dr.run_info import RunInfo

        run = RunInfo.from_context(context)
        scheduled = str(getattr(context["dag_run"], "run_type", "")).endswith("scheduled")
        until = evaluation_wait(
            load_policy().schedule.window, run.logical_time, datetime.now(UTC), scheduled=scheduled
        )
        if until is None:
            return None
        from airflow.providers.standard.triggers.temporal import DateTimeTrigger

        self.log.info("The backup window closes later today; evaluating at %s", until)
        self.defer(trigger=DateTimeTrigger(moment=until), method_name="execute_complete")
        return None  # defer() raises; never reached

    def execute_complete(self, context: Any, event: Any = None) -> str:
        return "waited for the window to close"


@task
def evaluate() -> dict[str, Any]:
    """Judge every clause; record it; alert once and fail the run if any clause failed."""
    from datetime import UTC, datetime

    from include.dr.alerts import send
    from include.dr.aws_clients import account_of, hook_clients
    from include.dr.compliance.evaluate import PolicyNotMet, evaluate, record_evaluation
    from include.dr.connections import AWS_DR, AWS_PRODUCTION
    from include.dr.evidence import evidence_store
    from include.dr.policy.loader import load_policy
    from include.dr.restore_estimate import refresh as refresh_estimate
    from include.dr.run_info import RunInfo
    from include.dr.store import store_root
    from include.dr.task_boundary import task_boundary

    run = RunInfo.from_context(get_current_context())
    with task_boundary("evaluating the policy"):
        policy = load_policy()
        dr, production = hook_clients(AWS_DR), hook_clients(AWS_PRODUCTION)
        store = evidence_store()
        verdicts = evaluate(
            policy,
            store,
            datetime.now(UTC),
            {
                "rds_dr": dr("rds", policy.regions.dr),
                "kms_dr": dr("kms", policy.regions.dr),
                "s3_dr": dr("s3", policy.regions.dr),
                "cloudtrail": production("cloudtrail", policy.regions.production),
            },
            account_of(production, policy.regions.production),
        )
        summary = record_evaluation(verdicts, store, run)
        refresh_estimate(store, store_root(), datetime.now(UTC))  # the restore forms' (fail-soft)
        if summary["failing"]:
            send(
                policy,
                f"Backup policy not met: {len(summary['failing'])} clause(s) failed",
                "\n".join(summary["failing"]),
            )
            raise PolicyNotMet("; ".join(summary["failing"]))
        return dict(summary)
