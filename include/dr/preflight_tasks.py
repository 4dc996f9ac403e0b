"""The policy preflight's task adapters: each gathers its clients, calls
:mod:`include.dr.preflight` inside the task boundary, and returns small JSON.

Only ``airflow.sdk`` is imported here at module level; the rest loads inside the task.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import get_current_context, task


@task
def check_policy() -> dict[str, Any]:
    """Load the policy file and judge where the DR copy lives."""
    from include.dr.policy.loader import load_policy
    from include.dr.task_boundary import task_boundary

    with task_boundary("loading the policy"):
        return load_policy().regions.residency.as_dict()


@task
def check_production() -> list[dict[str, Any]]:
    """Check the production KMS key, source buckets and RDS instances."""
    from include.dr.aws_clients import hook_clients
    from include.dr.connections import AWS_PRODUCTION
    from include.dr.policy.loader import load_policy
    from include.dr.preflight import production_checks
    from include.dr.task_boundary import task_boundary

    with task_boundary("checking the production estate"):
        checks = production_checks(load_policy(), hook_clients(AWS_PRODUCTION))
        return [check.as_dict() for check in checks]


@task
def check_dr() -> list[dict[str, Any]]:
    """Check the DR KMS key (and that production cannot destroy it) and the DR buckets
    through the DR connection."""
    from include.dr.aws_clients import account_of, hook_clients
    from include.dr.connections import AWS_DR, AWS_PRODUCTION
    from include.dr.policy.loader import load_policy
    from include.dr.preflight import dr_checks
    from include.dr.task_boundary import task_boundary

    with task_boundary("checking the DR estate"):
        policy = load_policy()
        production = account_of(hook_clients(AWS_PRODUCTION), policy.regions.production)
        checks = dr_checks(policy, hook_clients(AWS_DR), production)
        return [check.as_dict() for check in checks]


@task
def record_evidence(
    residency: dict[str, Any], production: list[dict[str, Any]], dr: list[dict[str, Any]]
) -> str:
    """Write every check to the evidence store, then fail the run if any check failed."""
    from include.dr.preflight import PreflightFailed, record_preflight
    from include.dr.run_info import RunInfo
    from include.dr.task_boundary import task_boundary

    run = RunInfo.from_context(get_current_context())
    with task_boundary("recording the preflight"):
        outcome, summary = record_preflight(residency, [*production, *dr], run.dag_id, run.run_id)
        if outcome == "fail":
            raise PreflightFailed(summary)
        return summary
