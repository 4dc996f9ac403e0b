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

from airflow.sdk import Asset, chain, dag

from include.dr.asset_names import s3_dr_backup_asset
from include.dr.dag_defaults import daily_backup_dag_args, daily_in_window
from include.dr.operators.retention import PolicyRetentionOperator
from include.dr.operators.window import BackupWindowCompletionOperator, BackupWindowGateOperator
from include.dr.policy.loader import load_policy
from include.dr.s3 import tasks

POLICY = load_policy()
DR_BACKUPS = [
    Asset(name=s3_dr_backup_asset(s3.source), uri=f"s3://{s3.dr_bucket}/")
    for s3 in POLICY.assets.s3
]


@dag(
    dag_id="s3_backup",
    schedule=daily_in_window(POLICY.schedule.window),
    doc_md=__doc__,
    tags=["backup", "s3", "daily"],
    **daily_backup_dag_args(POLICY),
)
def s3_backup() -> None:
    gate = BackupWindowGateOperator(
        task_id="open_window_gate", override_window="{{ params.override_window }}"
    )
    plans = tasks.plan_buckets()
    checked = tasks.check_buckets.expand(plan=plans)
    copied = tasks.copy_partition.expand(part=tasks.plan_partitions(checked))
    recorded = tasks.record_evidence(checked, copied)
    retention = PolicyRetentionOperator.partial(task_id="apply_retention").expand_kwargs(
        tasks.retention_targets(checked)
    )
    completion = BackupWindowCompletionOperator(
        task_id="check_window_completion", outlets=DR_BACKUPS
    )
    chain(gate, plans, checked, copied, recorded, retention, completion)


s3_backup()
