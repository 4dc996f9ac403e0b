"""
### Daily S3 cross-region backup

The policy: all customer and system data in S3 is backed up every day, inside
the backup window, to a separate region, encrypted at rest and in transit, and
kept at least a week. For every bucket in `include/policy.yaml` (or only its
listed prefixes), each run:

1. **opens the window gate** (waits deferred before the window, fails after it
   unless triggered with `override_window`);
2. **checks the guardrails** before anything is copied: the source exists in the
   production region; the DR bucket is in the DR region, versioned, SSE-KMS with
   the DR key, keeps old versions at least the policy minimum, and denies
   plain-HTTP requests. Missing settings are fixed only where the policy sets
   `fix_settings`;
3. **copies incrementally and server-side**: each bucket is split into at most
   eight partitions (mapped tasks), each copying new and changed objects with a
   thread pool (CopyObject, or UploadPartCopy above 5 GB), re-encrypted with the
   DR key, and verifying every copy;
4. **never loses history**: an object deleted at the source stays in the DR
   bucket (the manifest says *deleted at source*); an overwrite becomes a new DR
   version, the old one kept by the lifecycle rule;
5. writes a **manifest** per partition (key, size, checksum, DR version, state)
   and, last, a run summary to `.backup/manifests/<bucket>/<day>/<run>/` in the DR
   bucket, so a restore can rebuild the bucket as of any finished run. Each run has
   its own folder, and a finished run's summary is never written again (a retried
   task reuses it; a second run on the same day writes its own);
6. records **evidence** (counts, bytes, failures, duration), fails the run if any
   object failed (naming it), applies **retention** to old manifests, and checks
   completion against the window.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Asset, chain, dag, task

from include.dr.dag_defaults import daily_backup_dag_args, daily_in_window
from include.dr.operators.retention import PolicyRetentionOperator
from include.dr.operators.window import BackupWindowCompletionOperator, BackupWindowGateOperator
from include.dr.policy.loader import load_policy

POLICY = load_policy()
PRODUCTION, DR = "aws_default", "aws_dr"
PARALLEL_PARTITIONS = 4
DR_BACKUPS = [
    Asset(name=f"s3_dr_backup__{s3.source}", uri=f"s3://{s3.dr_bucket}/") for s3 in POLICY.assets.s3
]


def _clients(production_region: str, dr_region: str) -> dict[str, Any]:
    from include.dr.aws_clients import hook_clients

    dr = hook_clients(DR)
    return {
        "source_s3": hook_clients(PRODUCTION)("s3", production_region),
        "dr_s3": dr("s3", dr_region),
        "dr_kms": dr("kms", dr_region),
    }


@dag(
    dag_id="s3_backup",
    schedule=daily_in_window(POLICY.schedule.window),
    doc_md=__doc__,
    tags=["backup", "s3", "daily"],
    **daily_backup_dag_args(POLICY),
)
def s3_backup() -> None:
    open_window_gate = BackupWindowGateOperator(
        task_id="open_window_gate", override_window="{{ params.override_window }}"
    )

    @task
    def plan_buckets(**context: Any) -> list[dict[str, Any]]:
        """One small plan per bucket, for the run's window day and its own manifest folder."""
        from include.dr.operators.run_context import logical_time
        from include.dr.s3.backup import plan_buckets

        return plan_buckets(load_policy(), logical_time(context), context["run_id"])

    @task
    def check_buckets(plan: dict[str, Any], **context: Any) -> dict[str, Any]:
        """Source present; DR bucket guardrails hold (or are fixed if the policy allows)."""
        from include.dr.s3.backup import check_buckets

        clients = _clients(plan["production_region"], plan["dr_region"])
        dag_id, run_id = context["dag"].dag_id, context["run_id"]
        return check_buckets(plan, load_policy(), clients, dag_id, run_id)

    @task
    def plan_partitions(plans: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Split every bucket into at most eight partitions of folders."""
        from include.dr.s3.backup import plan_partitions

        policy = load_policy()
        return plan_partitions(plans, _clients(policy.regions.production, policy.regions.dr))

    @task(max_active_tis_per_dag=PARALLEL_PARTITIONS)
    def copy_partition(part: dict[str, Any]) -> dict[str, Any]:
        """Copy what changed in one partition, server-side, and write its manifest."""
        from include.dr.s3.backup import copy_partition

        policy = load_policy()
        return copy_partition(part, _clients(policy.regions.production, policy.regions.dr))

    @task
    def record_evidence(
        plans: list[dict[str, Any]], results: list[dict[str, Any]], **context: Any
    ) -> list[dict[str, Any]]:
        """Evidence per bucket; fails the run, naming the objects, if any copy failed."""
        from include.dr.s3.backup import record_buckets

        policy = load_policy()
        dr_s3 = _clients(policy.regions.production, policy.regions.dr)["dr_s3"]
        return record_buckets(plans, results, dr_s3, context["dag"].dag_id, context["run_id"])

    @task
    def retention_targets(plans: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The run manifests of each bucket (object versions are kept by lifecycle)."""
        from include.dr.s3.backup import retention_targets

        return retention_targets(plans, DR)

    plans = plan_buckets()
    checked = check_buckets.expand(plan=plans)
    copied = copy_partition.expand(part=plan_partitions(checked))
    recorded = record_evidence(checked, copied)
    apply_retention = PolicyRetentionOperator.partial(task_id="apply_retention").expand_kwargs(
        retention_targets(checked)
    )
    check_window_completion = BackupWindowCompletionOperator(
        task_id="check_window_completion", outlets=DR_BACKUPS
    )
    chain(open_window_gate, plans)
    chain(recorded, apply_retention, check_window_completion)


s3_backup()
