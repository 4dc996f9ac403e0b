"""
### Daily RDS MySQL backup

The policy: customer data in RDS MySQL is backed up every day, inside the
backup window, to a separate region, encrypted with AES-256 (KMS) like
production, and kept at least a week. For every RDS instance in
`include/policy.yaml`, each run:

1. **opens the window gate**: waits (deferred) for the window; after it, fails
   unless triggered with `override_window`, which is recorded;
2. **preflight**: the instance exists, is encrypted, keeps automated backups at
   least the policy minimum inside the window (drift fixed only with `fix_drift`);
3. **manifest**: each table's columns, row count and checksum, from the live
   database, stored encrypted in the DR bucket (restores compare against it);
4. **snapshot** named from the instance and the window day (a re-run reuses it),
   tagged as ours, waited for in the triggerer;
5. **shared with the DR account**, which makes the **cross-region copy** with its
   own key, tags copied, waited for: the copy is out of production's reach;
6. **verifies the copy** (available, DR region, DR key, ours); tags both verified;
7. **logical dump** (`mysqldump --single-transaction`), streamed, gzip-compressed
   and uploaded in parts with SSE-KMS to the DR bucket, then verified;
8. **retention** of our snapshots in both regions and of old dumps;
9. **evidence** of everything above, and the completion check against the window.

Instances are mapped, at most four at a time (`include/dr/rds/tasks.py`).
"""

from __future__ import annotations

from airflow.sdk import Asset, chain, dag

from include.dr.asset_names import rds_asset, rds_dr_backup_asset
from include.dr.connections import AWS_DR, AWS_PRODUCTION
from include.dr.dag_defaults import daily_backup_dag_args, daily_in_window
from include.dr.operators.rds import RdsCopySnapshotToRegionOperator, RdsDailySnapshotOperator
from include.dr.operators.retention import PolicyRetentionOperator
from include.dr.operators.window import BackupWindowCompletionOperator, BackupWindowGateOperator
from include.dr.policy.loader import load_policy
from include.dr.rds import tasks

POLICY = load_policy()
DR_BACKUPS = [
    Asset(rds_dr_backup_asset(a.instance), uri=f"s3://{a.dr_bucket}/{rds_asset(a.instance)}/")
    for a in POLICY.assets.rds
]
EACH = {"max_active_tis_per_dag": tasks.PARALLEL_INSTANCES}  # instances at a time


@dag(
    dag_id="rds_backup",
    schedule=daily_in_window(POLICY.schedule.window),
    doc_md=__doc__,
    tags=["backup", "rds", "daily"],
    **daily_backup_dag_args(POLICY),
)
def rds_backup() -> None:
    gate = BackupWindowGateOperator(
        task_id="open_window_gate", override_window="{{ params.override_window }}"
    )
    plans = tasks.plan_instances()
    manifests = tasks.take_manifest.expand(plan=tasks.preflight.expand(plan=plans))
    snapshots = RdsDailySnapshotOperator.partial(
        task_id="create_snapshot", aws_conn_id=AWS_PRODUCTION, **EACH
    ).expand(plan=manifests)
    copies = RdsCopySnapshotToRegionOperator.partial(
        task_id="copy_snapshot_to_dr", aws_conn_id=AWS_DR, **EACH
    ).expand(plan=tasks.share_snapshot.expand(plan=snapshots.output))
    dumped = tasks.dump_database.expand(plan=tasks.verify_copy.expand(plan=copies.output))
    retention = PolicyRetentionOperator.partial(task_id="apply_retention").expand_kwargs(
        tasks.retention_targets(dumped)
    )
    recorded = tasks.record_evidence.expand(plan=dumped)
    completion = BackupWindowCompletionOperator(
        task_id="check_window_completion", outlets=DR_BACKUPS
    )
    chain(gate, plans)
    chain([recorded, retention], completion)


rds_backup()
