"""
### Restore an RDS database

Restores the customer database from its backups, always into something new:

- **latest** or **snapshot**: a new instance from the newest (or a chosen) DR
  snapshot, in the DR region, encrypted with the DR key;
- **point in time**: a new instance at a moment inside the automated-backup
  retention, in the production region (or the DR region, where automated
  backups are replicated there);
- **logical dump**: a day's `mysqldump` from the DR bucket loaded into a new
  (or empty) MySQL database, then compared table by table with that day's
  manifest (row counts and content checksums).

**How to use.** Trigger with the form. Leave **dry run** on first: the run
checks the request, finds the backup and says what it would restore, and
creates nothing. Then trigger again with dry run off. A new instance is not
publicly accessible; without a subnet group and security groups AWS uses the
default subnet group and the default security group, so give them for a
restore that applications must reach. The run waits for the instance in the
triggerer and reports its endpoint in the evidence.

**Guards.** The first task checks the request again (a run's configuration can
bypass the form). It refuses, naming the field and creating nothing: a
production instance or database as the target, a target instance that already
exists, a non-empty target database, a missing snapshot, a date without a dump,
a time outside the restorable window, malformed identifiers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import Param, dag, task

from include.dr.dag_defaults import DEFAULT_ARGS
from include.dr.operators.rds_restore import RdsRestoreInstanceOperator
from include.dr.policy.loader import load_policy
from include.dr.restores import RESTORE_CALLBACKS

POLICY = load_policy()
INSTANCES = [asset.instance for asset in POLICY.assets.rds]
PRODUCTION, DR, MYSQL_RESTORE = "aws_default", "aws_dr", "mysql_restore"


@dag(
    dag_id="restore_rds",
    schedule=None,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["restore", "rds", "manual"],
    params={
        "instance": Param(
            INSTANCES[0] if INSTANCES else "",
            type="string",
            enum=INSTANCES or [""],
            title="Backed-up instance",
            description="The production instance whose backup to restore.",
        ),
        "source": Param(
            "latest",
            type="string",
            enum=["latest", "snapshot", "point_in_time", "logical_dump"],
            title="Restore from",
            description="latest DR snapshot; a snapshot by id; a point in time; or a "
            "logical dump by date (into a MySQL database).",
        ),
        "snapshot_id": Param(
            None,
            type=["null", "string"],
            title="Snapshot id (source 'snapshot')",
            description="A DR snapshot, e.g. swl-customers-prod-2026-11-26.",
            maxLength=255,
        ),
        "restore_time": Param(
            None,
            type=["null", "string"],
            format="date-time",
            title="Restore time (source 'point_in_time', UTC)",
        ),
        "region": Param(
            "production",
            type="string",
            enum=["production", "dr"],
            title="Region (source 'point_in_time')",
            description="dr needs automated backups replicated to the DR region.",
        ),
        "dump_date": Param(
            None,
            type=["null", "string"],
            title="Dump date (source 'logical_dump')",
            description="The day whose dump to load, YYYY-MM-DD.",
        ),
        "target_instance": Param(
            None,
            type=["null", "string"],
            title="New instance name (instance sources)",
            description="Must not exist yet, and must not be a production instance.",
            maxLength=63,
        ),
        "target_database": Param(
            "restore_customers",
            type=["null", "string"],
            title="Target database (source 'logical_dump')",
            description="A new or empty database on the mysql_restore connection's server.",
            maxLength=64,
        ),
        "instance_class": Param(
            None,
            type=["null", "string"],
            title="Instance class",
            description="e.g. db.t3.micro; empty keeps the snapshot's class.",
        ),
        "subnet_group": Param(
            None,
            type=["null", "string"],
            title="DB subnet group",
            description="Empty: AWS uses the default DB subnet group.",
        ),
        "security_group_ids": Param(
            [],
            type="array",
            items={"type": "string"},
            title="VPC security group ids",
            description="Empty: AWS attaches the VPC's default security group.",
        ),
        "dry_run": Param(
            True,
            type="boolean",
            title="Dry run",
            description="Check the request and name the backup; create nothing.",
        ),
    },
    **RESTORE_CALLBACKS,
)
def restore_rds() -> None:
    @task
    def validate_request(**context: Any) -> dict[str, Any]:
        """Re-check the form server-side and find the backup; refuse by field."""
        from include.dr.aws_clients import hook_clients
        from include.dr.rds import restore
        from include.dr.restores import RestoreRefused, record_restore

        params, policy = dict(context["params"]), load_policy()
        try:
            request = restore.validate_request(params, policy, datetime.now(UTC))
            if request["source"] == "logical_dump":
                return _check_logical(request)
            production = request.get("pitr_region") == policy.regions.production
            conn_id = PRODUCTION if production else DR
            region = policy.regions.production if production else policy.regions.dr
            plan = restore.check_native(request, {region: hook_clients(conn_id)("rds", region)})
            return {**plan, "aws_conn_id": conn_id}
        except RestoreRefused as exc:
            asset = f"rds/{params.get('instance')}"
            record_restore(context, asset, "fail", {"refused": exc.field, "reason": str(exc)})
            raise

    @task.branch
    def choose_path(plan: dict[str, Any]) -> str:
        """Dry runs only report; instances restore natively; dumps load into MySQL."""
        if plan["dry_run"]:
            return "dry_run"
        return "load_dump" if plan["source"] == "logical_dump" else "restore_instance"

    @task
    def load_dump(plan: dict[str, Any]) -> dict[str, Any]:
        """Stream the day's dump into the new database; compare it with the manifest."""
        from airflow.providers.mysql.hooks.mysql import MySqlHook

        from include.dr.aws_clients import hook_clients
        from include.dr.rds import restore
        from include.dr.rds.dump import connection_settings

        connection = connection_settings(MYSQL_RESTORE)
        db = MySqlHook(mysql_conn_id=MYSQL_RESTORE).get_conn()
        try:
            dr_s3 = hook_clients(DR)("s3", plan["dr_region"])
            return restore.load_dump(plan, dr_s3, connection, db.cursor())
        finally:
            db.close()

    @task(trigger_rule="none_failed_min_one_success")
    def report(plan: dict[str, Any], **context: Any) -> dict[str, Any]:
        """Evidence of what was restored (or would be); fails if the data does not match."""
        from include.dr.restores import RestoreIncomplete, record_restore

        ti = context["ti"]
        instance = ti.xcom_pull(task_ids="restore_instance")
        loaded = ti.xcom_pull(task_ids="load_dump")
        step = "dry run" if plan["dry_run"] else "restored"
        details = {"step": step, **plan, "instance_result": instance, "load_result": loaded}
        ok = loaded is None or loaded["equal_to_manifest"]
        record_restore(context, f"rds/{plan['instance']}", "pass" if ok else "fail", details)
        if not ok:
            raise RestoreIncomplete(f"the restored database differs from the manifest: {loaded}")
        return {"step": step, "instance": instance, "equal_to_manifest": ok}

    plan = validate_request()
    paths = [
        RdsRestoreInstanceOperator(task_id="restore_instance", plan=plan),
        load_dump(plan),
        EmptyOperator(task_id="dry_run"),
    ]
    choose_path(plan) >> paths
    paths >> report(plan)


def _check_logical(request: dict[str, Any]) -> dict[str, Any]:
    from airflow.providers.mysql.hooks.mysql import MySqlHook

    from include.dr.aws_clients import hook_clients
    from include.dr.rds import restore

    db = MySqlHook(mysql_conn_id=MYSQL_RESTORE).get_conn()
    try:
        dr_s3 = hook_clients(DR)("s3", request["dr_region"])
        return restore.check_logical(request, dr_s3, db.cursor())
    finally:
        db.close()


restore_rds()
