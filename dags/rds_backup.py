"""
### Daily RDS MySQL backup

The policy: customer data in RDS MySQL is backed up every day, inside the
backup window, to a separate region, encrypted with AES-256 (KMS) like
production, and kept at least a week. For every RDS instance in
`include/policy.yaml`, each run:

1. **opens the window gate**: waits (deferred) for the window, fails after it
   unless triggered with `override_window`, which is recorded;
2. **preflight**: the instance exists, is encrypted, keeps automated backups at
   least the policy minimum and inside the window (drift is fixed only where the
   policy sets `fix_drift`);
3. **manifest**: each table's columns, row count and checksum, taken from the
   live database and stored encrypted in the DR bucket, for the restore test;
4. **snapshot** named from the instance and the window day (a re-run reuses it),
   tagged as ours, waited for in the triggerer;
5. **cross-region copy** into the DR region, re-encrypted with the DR key, tags
   copied, waited for in the triggerer;
6. **verifies the copy** (available, DR region, DR key, ours) and tags both
   snapshots verified;
7. **logical dump** (`mysqldump --single-transaction`), streamed, gzip-compressed
   and uploaded in parts with SSE-KMS to the DR bucket, then verified;
8. **retention** of our snapshots in both regions and of old dumps;
9. **evidence** of everything above, and the completion check against the window.

Instances are handled by mapped tasks, at most four at a time.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Asset, chain, dag, task

from include.dr.dag_defaults import daily_backup_dag_args, daily_in_window
from include.dr.operators.rds import RdsCopySnapshotToRegionOperator, RdsDailySnapshotOperator
from include.dr.operators.retention import PolicyRetentionOperator
from include.dr.operators.window import BackupWindowCompletionOperator, BackupWindowGateOperator
from include.dr.policy.loader import load_policy

POLICY = load_policy()
WINDOW = POLICY.schedule.window
PRODUCTION, DR, MYSQL = "aws_default", "aws_dr", "mysql_default"
PARALLEL_INSTANCES = 4
DR_BACKUPS = [
    Asset(name=f"rds_dr_backup__{rds.instance}", uri=f"s3://{rds.dr_bucket}/rds/{rds.instance}/")
    for rds in POLICY.assets.rds
]


@dag(
    dag_id="rds_backup",
    schedule=daily_in_window(POLICY.schedule.window),
    doc_md=__doc__,
    tags=["backup", "rds", "daily"],
    **daily_backup_dag_args(POLICY),
)
def rds_backup() -> None:
    open_window_gate = BackupWindowGateOperator(
        task_id="open_window_gate", override_window="{{ params.override_window }}"
    )

    @task
    def plan_instances(**context: Any) -> list[dict[str, Any]]:
        """One small plan per instance, named from the run's window day."""
        from include.dr.operators.run_context import logical_time
        from include.dr.rds.backup import plan_backups

        return plan_backups(load_policy(), logical_time(context))

    @task(max_active_tis_per_dag=PARALLEL_INSTANCES)
    def preflight(plan: dict[str, Any], **context: Any) -> dict[str, Any]:
        """Check the instance against the policy before anything is made."""
        from include.dr.aws_clients import hook_clients
        from include.dr.rds import backup

        rds = hook_clients(PRODUCTION)("rds", plan["production_region"])
        dag_id, run_id = context["dag"].dag_id, context["run_id"]
        return backup.preflight(plan, load_policy(), rds, dag_id, run_id)

    @task(max_active_tis_per_dag=PARALLEL_INSTANCES)
    def take_manifest(plan: dict[str, Any]) -> dict[str, Any]:
        """Describe the live tables and store the manifest encrypted in the DR bucket."""
        from airflow.providers.mysql.hooks.mysql import MySqlHook

        from include.dr.aws_clients import hook_clients
        from include.dr.rds import backup

        dr = hook_clients(DR)
        connection = MySqlHook(mysql_conn_id=MYSQL, schema=plan["database"]).get_conn()
        try:
            return backup.store_manifest(
                plan, connection, dr("s3", plan["dr_region"]), dr("kms", plan["dr_region"])
            )
        finally:
            connection.close()

    @task(max_active_tis_per_dag=PARALLEL_INSTANCES)
    def verify_copy(plan: dict[str, Any]) -> dict[str, Any]:
        """Check the DR copy's region, key and tags; then mark both snapshots verified."""
        from include.dr.aws_clients import hook_clients
        from include.dr.rds import backup

        dr = hook_clients(DR)
        verified = backup.verify_copy(
            plan, dr("rds", plan["dr_region"]), dr("kms", plan["dr_region"])
        )
        production = hook_clients(PRODUCTION)("rds", plan["production_region"])
        backup.mark_verified(production, plan["snapshot"]["arn"], verified["copy_verified_at"])
        return verified

    @task(max_active_tis_per_dag=PARALLEL_INSTANCES)
    def dump_database(plan: dict[str, Any]) -> dict[str, Any]:
        """Stream a consistent mysqldump, compressed and encrypted, into the DR bucket."""
        from include.dr.aws_clients import hook_clients
        from include.dr.rds import backup
        from include.dr.rds.dump import connection_settings

        connection = connection_settings(MYSQL)
        dr = hook_clients(DR)
        return backup.store_dump(
            plan, connection, dr("s3", plan["dr_region"]), dr("kms", plan["dr_region"])
        )

    @task
    def retention_targets(plans: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Where retention applies: snapshots in both regions and the dumps, per instance."""
        from include.dr.rds.backup import retention_targets

        return retention_targets(plans, {"production": PRODUCTION, "dr": DR})

    @task
    def record_evidence(plan: dict[str, Any], **context: Any) -> dict[str, Any]:
        """Write the instance's evidence record; return its summary for the UI's XCom tab."""
        from include.dr.rds.backup import record_backup

        return record_backup(plan, context["dag"].dag_id, context["run_id"])

    plans = plan_instances()
    manifests = take_manifest.expand(plan=preflight.expand(plan=plans))
    create_snapshot = RdsDailySnapshotOperator.partial(
        task_id="create_snapshot", aws_conn_id=PRODUCTION, max_active_tis_per_dag=PARALLEL_INSTANCES
    ).expand(plan=manifests)
    copy_snapshot_to_dr = RdsCopySnapshotToRegionOperator.partial(
        task_id="copy_snapshot_to_dr", aws_conn_id=DR, max_active_tis_per_dag=PARALLEL_INSTANCES
    ).expand(plan=create_snapshot.output)
    dumped = dump_database.expand(plan=verify_copy.expand(plan=copy_snapshot_to_dr.output))
    apply_retention = PolicyRetentionOperator.partial(task_id="apply_retention").expand_kwargs(
        retention_targets(dumped)
    )
    recorded = record_evidence.expand(plan=dumped)
    check_window_completion = BackupWindowCompletionOperator(
        task_id="check_window_completion", outlets=DR_BACKUPS
    )
    chain(open_window_gate, plans)
    chain([recorded, apply_retention], check_window_completion)


rds_backup()
