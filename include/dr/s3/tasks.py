"""The S3 DAGs' task adapters: each gathers its inputs (the policy, clients, the run),
calls the domain code inside the task boundary, and returns a typed plan for XCom.

Only ``airflow.sdk`` is imported here; the rest loads inside the task that needs it,
so parsing a DAG file stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk import task

if TYPE_CHECKING:
    from include.dr.s3.backup import BackupClients
    from include.dr.s3.plans import (
        BucketPlan,
        BucketSummary,
        CheckedBucket,
        PartitionOutcome,
        PartitionPlan,
        RestorePlan,
        RetentionTarget,
    )

PARALLEL_PARTITIONS = 4  # copy tasks running at once (each with its own thread pool)


def backup_clients(production_region: str, dr_region: str) -> BackupClients:
    """The source bucket's client (production account) and the DR bucket's and key's; the
    S3 clients the copy threads share have a connection per thread and adaptive retries."""
    from include.dr.aws_clients import for_threads, hook_clients
    from include.dr.connections import AWS_DR, AWS_PRODUCTION
    from include.dr.s3.backup import tuning
    from include.dr.s3.engine import DEFAULT_THREADS

    copying = for_threads(tuning("COPY_THREADS", DEFAULT_THREADS))
    return {
        "source_s3": hook_clients(AWS_PRODUCTION, copying)("s3", production_region),
        "dr_s3": hook_clients(AWS_DR, copying)("s3", dr_region),
        "dr_kms": hook_clients(AWS_DR)("kms", dr_region),
    }


def _policy_clients() -> BackupClients:
    from include.dr.policy.loader import load_policy

    regions = load_policy().regions
    return backup_clients(regions.production, regions.dr)


# --- s3_backup ---


@task
def plan_buckets(**context: Any) -> list[BucketPlan]:
    """One small plan per bucket, for the run's window day and its own manifest folder."""
    from include.dr.policy.loader import load_policy
    from include.dr.run_info import RunInfo
    from include.dr.s3.backup import plan_buckets
    from include.dr.task_boundary import task_boundary

    run = RunInfo.from_context(context)
    with task_boundary("planning the S3 backup"):
        return plan_buckets(load_policy(), run.logical_time, run.run_id)


@task
def check_buckets(plan: BucketPlan, **context: Any) -> CheckedBucket:
    """Source present; DR bucket guardrails hold (or are fixed if the policy allows)."""
    from include.dr.policy.loader import load_policy
    from include.dr.run_info import RunInfo
    from include.dr.s3.backup import check_buckets
    from include.dr.task_boundary import task_boundary

    run = RunInfo.from_context(context)
    with task_boundary(f"checking s3://{plan['source']} and s3://{plan['dr_bucket']}"):
        clients = backup_clients(plan["production_region"], plan["dr_region"])
        return check_buckets(plan, load_policy(), clients, run)


@task
def plan_partitions(plans: list[CheckedBucket]) -> list[PartitionPlan]:
    """Split every bucket into at most eight partitions of folders."""
    from include.dr.s3.backup import plan_partitions
    from include.dr.task_boundary import task_boundary

    with task_boundary("listing the buckets' folders"):
        return plan_partitions(plans, _policy_clients())


@task(max_active_tis_per_dag=PARALLEL_PARTITIONS)
def copy_partition(part: PartitionPlan, **context: Any) -> PartitionOutcome:
    """Copy what changed in one partition, server-side, and write its manifest."""
    from include.dr.run_info import RunInfo
    from include.dr.s3.backup import copy_partition
    from include.dr.task_boundary import task_boundary

    run = RunInfo.from_context(context)
    with task_boundary(f"backing up a partition of s3://{part['source']}"):
        return copy_partition(part, _policy_clients(), run.tries_remain)


@task
def record_evidence(
    plans: list[CheckedBucket], results: list[PartitionOutcome], **context: Any
) -> list[BucketSummary]:
    """Evidence per bucket; fails the run, naming the objects, if any copy failed."""
    from include.dr.run_info import RunInfo
    from include.dr.s3.backup import record_buckets
    from include.dr.task_boundary import task_boundary

    run = RunInfo.from_context(context)
    with task_boundary("recording the S3 backup"):
        return record_buckets(plans, list(results), _policy_clients()["dr_s3"], run)


@task
def retention_targets(plans: list[CheckedBucket]) -> list[RetentionTarget]:
    """The run manifests of each bucket (object versions are kept by lifecycle)."""
    from include.dr.connections import AWS_DR
    from include.dr.s3.backup import retention_targets

    return retention_targets(plans, AWS_DR)


# --- restore_s3 ---


@task
def validate_request(**context: Any) -> RestorePlan:
    """Re-check the form server-side, find the backup; refuse by field before any write."""
    from datetime import UTC, datetime

    from include.dr.asset_names import s3_asset
    from include.dr.aws_clients import hook_clients
    from include.dr.connections import AWS_RESTORE
    from include.dr.policy.loader import load_policy
    from include.dr.restores import RestoreRefused, record_restore
    from include.dr.run_info import RunInfo
    from include.dr.s3 import restore
    from include.dr.task_boundary import task_boundary

    run, params = RunInfo.from_context(context), dict(context["params"])
    with task_boundary("checking the restore request"):
        policy = load_policy()
        try:
            request = restore.validate_request(params, policy, datetime.now(UTC))
            target_s3 = hook_clients(AWS_RESTORE)("s3", policy.regions.production)
            dr_s3 = hook_clients(AWS_RESTORE)("s3", policy.regions.dr)
            return restore.plan_restore(request, target_s3, dr_s3)
        except RestoreRefused as exc:
            details = {"refused": exc.field, "reason": str(exc)}
            record_restore(run, s3_asset(str(params.get("source_bucket"))), "fail", details)
            raise


@task
def restore_objects(plan: RestorePlan, **context: Any) -> dict[str, Any]:
    """Copy the chosen backup's versions to the target (count them only in a dry run)."""
    from include.dr.aws_clients import for_threads, hook_clients
    from include.dr.connections import AWS_RESTORE
    from include.dr.policy.loader import load_policy
    from include.dr.run_info import RunInfo
    from include.dr.s3.restore import THREADS, restore_and_record
    from include.dr.task_boundary import task_boundary

    run, region = RunInfo.from_context(context), plan["target_region"]
    with task_boundary(f"restoring s3://{plan['source_bucket']}"):
        policy, copying = load_policy(), for_threads(THREADS)
        dr_s3 = hook_clients(AWS_RESTORE, copying)("s3", policy.regions.dr)
        target_s3 = hook_clients(AWS_RESTORE, copying)("s3", region)
        return restore_and_record(policy, plan, dr_s3, target_s3, run)
