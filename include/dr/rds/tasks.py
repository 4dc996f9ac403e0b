"""The RDS DAGs' task adapters: Airflow in, domain calls out, errors mapped at the boundary.

Each adapter builds its clients and :class:`~include.dr.run_info.RunInfo`, calls one
domain function (:mod:`include.dr.rds.backup`, :mod:`include.dr.rds.restore`) inside
the task boundary, and returns its small typed plan for XCom. Only ``airflow.sdk``
is imported here at module level, so parsing a DAG file stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk import task

if TYPE_CHECKING:
    from include.dr.rds.plans import (
        BackupSummary,
        InstancePlan,
        LoadResult,
        RestorePlan,
        RetentionTarget,
    )

PARALLEL_INSTANCES = 4  # instances handled at once by each mapped step

# --- rds_backup ---


@task
def plan_instances(**context: Any) -> list[InstancePlan]:
    """One small plan per instance, named from the run's window day."""
    from include.dr.policy.loader import load_policy
    from include.dr.rds.backup import plan_backups
    from include.dr.run_info import RunInfo

    return plan_backups(load_policy(), RunInfo.from_context(context).logical_time)


@task(max_active_tis_per_dag=PARALLEL_INSTANCES)
def preflight(plan: InstancePlan, **context: Any) -> InstancePlan:
    """Check the instance against the policy before anything is made."""
    from include.dr.aws_clients import hook_clients
    from include.dr.connections import AWS_PRODUCTION
    from include.dr.policy.loader import load_policy
    from include.dr.rds import backup
    from include.dr.run_info import RunInfo
    from include.dr.task_boundary import task_boundary

    with task_boundary(f"preflight of {plan['instance']}"):
        rds = hook_clients(AWS_PRODUCTION)("rds", plan["production_region"])
        return backup.preflight(plan, load_policy(), rds, RunInfo.from_context(context))


@task(max_active_tis_per_dag=PARALLEL_INSTANCES)
def share_snapshot(plan: InstancePlan) -> InstancePlan:
    """Share the day's snapshot with the DR account, which copies it out of production's
    reach; nothing to share when DR is the production account itself."""
    from include.dr.aws_clients import account_of, hook_clients
    from include.dr.connections import AWS_DR, AWS_PRODUCTION
    from include.dr.rds.snapshots import share_with
    from include.dr.task_boundary import task_boundary

    with task_boundary(f"sharing snapshot {plan['snapshot_id']} with the DR account"):
        production, region = hook_clients(AWS_PRODUCTION), plan["production_region"]
        dr_account = account_of(hook_clients(AWS_DR), plan["dr_region"])
        if dr_account == account_of(production, region):
            return {**plan, "shared_with": None}
        share_with(production("rds", region), plan["snapshot_id"], dr_account)
        return {**plan, "shared_with": dr_account}


@task(max_active_tis_per_dag=PARALLEL_INSTANCES)
def take_manifest(plan: InstancePlan) -> InstancePlan:
    """Describe the live tables and store the manifest encrypted in the DR bucket."""
    from include.dr.aws_clients import hook_clients
    from include.dr.connections import AWS_DR
    from include.dr.rds import backup
    from include.dr.rds.transport import open_mysql, session_tls
    from include.dr.task_boundary import task_boundary

    with task_boundary(f"the manifest of {plan['instance']}"):
        dr, region = hook_clients(AWS_DR), plan["dr_region"]
        connection = open_mysql(plan["read_from"], plan["database"])
        try:
            in_transit = session_tls(connection.cursor(), plan["read_from"])
            plan = {**plan, "in_transit": in_transit}
            return backup.store_manifest(plan, connection, dr("s3", region), dr("kms", region))
        finally:
            connection.close()


@task(max_active_tis_per_dag=PARALLEL_INSTANCES)
def verify_copy(plan: InstancePlan) -> InstancePlan:
    """Check the DR copy's region, key and tags; then mark both snapshots verified."""
    from include.dr.aws_clients import hook_clients
    from include.dr.connections import AWS_DR, AWS_PRODUCTION
    from include.dr.rds import backup
    from include.dr.task_boundary import task_boundary

    with task_boundary(f"verifying the DR copy of {plan['instance']}"):
        dr, region = hook_clients(AWS_DR), plan["dr_region"]
        verified = backup.verify_copy(plan, dr("rds", region), dr("kms", region))
        production = hook_clients(AWS_PRODUCTION)("rds", plan["production_region"])
        backup.mark_verified(production, plan["snapshot"]["arn"], verified["copy_verified_at"])
        return verified


@task(max_active_tis_per_dag=PARALLEL_INSTANCES)
def dump_database(plan: InstancePlan) -> InstancePlan:
    """Stream a consistent mysqldump, compressed and encrypted, into the DR bucket, with
    the manifest of the same moment."""
    from include.dr.aws_clients import hook_clients
    from include.dr.connections import AWS_DR, MYSQL_RESTORE
    from include.dr.rds import backup
    from include.dr.rds.mysql_client import connection_settings
    from include.dr.rds.transport import open_mysql
    from include.dr.task_boundary import task_boundary

    with task_boundary(f"the dump of {plan['instance']}"):
        dr, region = hook_clients(AWS_DR), plan["dr_region"]
        connection = connection_settings(plan["read_from"])
        restore_server = (
            (connection_settings(MYSQL_RESTORE), lambda: open_mysql(MYSQL_RESTORE))
            if plan.get("checksums_on") == "restored_copy"
            else None
        )
        return backup.store_dump(
            plan,
            connection,
            lambda: open_mysql(plan["read_from"], plan["database"]),
            dr("s3", region),
            dr("kms", region),
            restore_server,
        )


@task
def retention_targets(plans: list[InstancePlan]) -> list[RetentionTarget]:
    """Where retention applies: snapshots in both regions and the dumps, per instance."""
    from include.dr.connections import AWS_DR, AWS_PRODUCTION
    from include.dr.rds import backup

    return backup.retention_targets(plans, {"production": AWS_PRODUCTION, "dr": AWS_DR})


@task
def record_evidence(plan: InstancePlan, **context: Any) -> BackupSummary:
    """Write the instance's evidence record; return its summary for the UI's XCom tab."""
    from include.dr.rds.backup import record_backup
    from include.dr.run_info import RunInfo

    return record_backup(plan, RunInfo.from_context(context))


# --- restore_rds ---


@task
def validate_request(**context: Any) -> RestorePlan:
    """Re-check the form server-side and find the backup; refuse by field (recorded)."""
    from datetime import UTC, datetime

    from include.dr.asset_names import rds_asset
    from include.dr.policy.loader import load_policy
    from include.dr.rds.restore_request import validate_request as check_form
    from include.dr.restores import RestoreRefused, record_restore
    from include.dr.run_info import RunInfo
    from include.dr.task_boundary import task_boundary

    params, run = dict(context["params"]), RunInfo.from_context(context)
    with task_boundary("checking the restore request"):
        try:
            request = check_form(params, load_policy(), datetime.now(UTC))
            if request["source"] == "logical_dump":
                return _find_dump(request)
            return _find_instance_backup(request)
        except RestoreRefused as exc:
            details = {"refused": exc.field, "reason": str(exc)}
            record_restore(run, rds_asset(str(params.get("instance"))), "fail", details)
            raise


def _find_instance_backup(request: RestorePlan) -> RestorePlan:
    from include.dr.aws_clients import hook_clients
    from include.dr.rds import restore
    from include.dr.rds.restore_request import restore_side

    side = restore_side(request)
    return restore.check_native(request, hook_clients(side.aws_conn_id)("rds", side.region))


def _find_dump(request: RestorePlan) -> RestorePlan:
    from include.dr.aws_clients import hook_clients
    from include.dr.connections import AWS_RESTORE, MYSQL_RESTORE
    from include.dr.rds import restore
    from include.dr.rds.transport import open_mysql

    db = open_mysql(MYSQL_RESTORE)
    try:
        dr_s3 = hook_clients(AWS_RESTORE)("s3", request["dr_region"])
        return restore.check_logical(request, dr_s3, db.cursor())
    finally:
        db.close()


@task.branch
def choose_path(plan: RestorePlan) -> str:
    """Dry runs only report; instances restore natively; dumps load into MySQL."""
    from include.dr.rds.restore_request import restore_path

    return restore_path(plan)


@task
def load_dump(plan: RestorePlan) -> LoadResult:
    """Stream the day's dump into the new database; compare it with the manifest."""
    from include.dr.aws_clients import hook_clients
    from include.dr.connections import AWS_RESTORE, MYSQL_RESTORE
    from include.dr.rds import restore
    from include.dr.rds.mysql_client import connection_settings
    from include.dr.rds.transport import open_mysql
    from include.dr.task_boundary import task_boundary

    with task_boundary(f"loading the dump into {plan.get('target_database')}"):
        connection = connection_settings(MYSQL_RESTORE)
        db = open_mysql(MYSQL_RESTORE)
        try:
            dr_s3 = hook_clients(AWS_RESTORE)("s3", plan["dr_region"])
            return restore.load_dump(plan, dr_s3, connection, db.cursor())
        finally:
            db.close()


@task(trigger_rule="none_failed_min_one_success")
def report(plan: RestorePlan, **context: Any) -> dict[str, Any]:
    """Evidence of what was restored (or would be); fails if the data does not match."""
    from include.dr.asset_names import rds_asset
    from include.dr.rds.restore import restore_outcome
    from include.dr.restores import RestoreIncomplete, record_restore
    from include.dr.run_info import RunInfo
    from include.dr.task_boundary import task_boundary

    ti = context["ti"]
    instance = ti.xcom_pull(task_ids="restore_instance")
    loaded = ti.xcom_pull(task_ids="load_dump")
    outcome = restore_outcome(plan, instance, loaded)
    record_restore(
        RunInfo.from_context(context), rds_asset(plan["instance"]), outcome.outcome, outcome.details
    )
    with task_boundary("reporting the restore"):
        if outcome.outcome != "pass":
            raise RestoreIncomplete(f"the restored database differs from the manifest: {loaded}")
    return outcome.summary
