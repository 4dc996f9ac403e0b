"""
### Annual restore test

The policy: "Backups must be tested every year to ensure their consistency and
reliability." A restore that queries no data is not a test, so this DAG
restores the latest backup of every asset into scratch space and checks the
data against what was recorded at backup time:

- **RDS, logical path**: the latest dump from the DR bucket is loaded into a
  scratch database and validated with **Great Expectations** built from the
  backup's manifest (tables and columns, row counts within the policy's
  tolerance, unique non-null primary keys), plus each table's content checksum.
  On the local stack this is the path that proves the data end to end.
- **RDS, native path**: the latest DR snapshot is restored into a temporary
  instance (unique name, our tags, not public, encrypted with the DR key),
  waited for in the triggerer, and its settings checked.
- **S3**: a sample of each bucket (a share of the keys, at least a minimum,
  always the largest object) is restored from its DR versions into a scratch
  bucket and compared with the sizes and SHA-256 checksums of backup time, and
  one object is restored as of the earliest backup day.
- **Git**: each repository's latest bundle is decrypted, cloned and fsck'd, and
  every ref compared with the backup's evidence.

Scratch resources are removed by **teardown tasks that run whatever happened**
(unless *keep scratch* is set for inspection). The **report** (HTML and JSON:
backups restored, every check, restore seconds per asset, the verdict) is kept
in the backup store and, encrypted, in the DR bucket; the `write_report` task
links it ("Restore test report") and its evidence names both copies.

Scheduled from the policy's restore-test interval (yearly, on 15 January, half
way through the backup window); trigger it by hand to test now.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from airflow.sdk import Param, chain, dag, task

from include.dr.dag_defaults import DEFAULT_ARGS, restore_test_schedule
from include.dr.operators.rds_restore import RdsRestoreInstanceOperator
from include.dr.operators.restore_report import RestoreTestReportOperator
from include.dr.policy.loader import load_policy

POLICY = load_policy()
DR, MYSQL_RESTORE, MYSQL_PRODUCTION = "aws_dr", "mysql_restore", "mysql_default"


@dag(
    dag_id="restore_test",
    schedule=restore_test_schedule(POLICY),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["restore-test", "compliance"],
    params={
        "assets": Param(
            ["rds", "s3", "git"],
            type="array",
            items={"type": "string", "enum": ["rds", "s3", "git"]},
            uniqueItems=True,
            title="Assets to test",
        ),
        "keep_scratch": Param(
            False,
            type="boolean",
            title="Keep the scratch resources for inspection",
            description="Off: the scratch database, bucket and instance are removed at the end.",
        ),
    },
)
def restore_test() -> None:
    @task
    def plan(**context: Any) -> dict[str, Any]:
        """Each asset's latest backup, and this run's scratch names."""
        from include.dr.aws_clients import hook_clients
        from include.dr.git.backup import bundles_dir
        from include.dr.restore_test.plan import plan_test

        policy, params = load_policy(), context["params"]
        dr = hook_clients(DR)
        return plan_test(
            policy,
            context["run_id"],
            list(params["assets"]),
            bool(params["keep_scratch"]),
            dr("s3", policy.regions.dr),
            dr("rds", policy.regions.dr),
            bundles_dir(),
            datetime.now(UTC),
        )

    @task
    def create_scratch(test: dict[str, Any]) -> dict[str, str]:
        """The scratch bucket and database, named from the run."""
        from airflow.providers.mysql.hooks.mysql import MySqlHook

        from include.dr.aws_clients import hook_clients
        from include.dr.rds.manifest import quote
        from include.dr.restore_test.teardown import create_bucket

        create_bucket(
            hook_clients(DR)("s3", test["dr_region"]), test["scratch_bucket"], test["dr_region"]
        )
        db = MySqlHook(mysql_conn_id=MYSQL_RESTORE).get_conn()
        try:
            db.cursor().execute(f"CREATE DATABASE {quote(test['scratch_database'])}")
        finally:
            db.close()
        return {"bucket": test["scratch_bucket"], "database": test["scratch_database"]}

    @task
    def snapshot_plan(test: dict[str, Any]) -> dict[str, Any]:
        """The temporary instance's restore request (the first RDS asset's latest snapshot)."""
        first = next((r for r in test["rds"] if r["snapshot_id"]), None)
        if first is None:
            return {"dry_run": True}  # nothing to restore natively
        return {
            "source": "snapshot",
            "snapshot_id": first["snapshot_id"],
            "target_instance": first["scratch_instance"],
            "region": test["dr_region"],
            "aws_conn_id": DR,
            "dry_run": False,
        }

    @task
    def check_instance(test: dict[str, Any], instance: dict[str, Any] | None) -> dict[str, Any]:
        """The temporary instance: not public, DR key; on AWS, its data validated with GX."""
        from include.dr.aws_clients import hook_clients
        from include.dr.kms import resolve_key
        from include.dr.rds.dump import connection_settings
        from include.dr.restore_test import steps

        policy, region, dr = load_policy(), test["dr_region"], hook_clients(DR)
        key_arn = resolve_key(dr("kms", region), policy.kms_key(region), region)
        dr_s3 = dr("s3", region)

        # The backup user's credentials came with the snapshot.
        connection = connection_settings(MYSQL_PRODUCTION)
        validate = steps.instance_validator(dr_s3, connection, policy)
        # moto's restored instances hold no data: the logical path proves it on the local stack.
        local = dr_s3.meta.endpoint_url.startswith("http://")
        return steps.check_instance(test, instance, key_arn, None if local else validate)

    @task
    def check_rds(test: dict[str, Any]) -> dict[str, Any]:
        """Load each latest dump into the scratch database and validate it with GX."""
        from airflow.providers.mysql.hooks.mysql import MySqlHook

        from include.dr.aws_clients import hook_clients
        from include.dr.rds.dump import connection_settings
        from include.dr.restore_test import steps

        connection = connection_settings(MYSQL_RESTORE)
        return steps.check_rds(
            test,
            load_policy(),
            hook_clients(DR)("s3", test["dr_region"]),
            MySqlHook(mysql_conn_id=MYSQL_RESTORE).get_conn,
            connection,
        )

    @task
    def check_s3(test: dict[str, Any], scratch: dict[str, str]) -> dict[str, Any]:
        """Restore a sample of each bucket into the scratch bucket; compare sizes and SHA-256."""
        from include.dr.aws_clients import hook_clients
        from include.dr.restore_test import steps

        return steps.check_s3(test, load_policy(), hook_clients(DR)("s3", test["dr_region"]))

    @task
    def check_git(test: dict[str, Any]) -> dict[str, Any]:
        """Clone each repository's latest bundle; fsck; refs equal the backup's evidence."""
        from include.dr.git.backup import bundles_dir
        from include.dr.git.connections import bundle_key
        from include.dr.restore_test import steps

        return steps.check_git(test, bundles_dir(), bundle_key())

    @task
    def remove_scratch(test: dict[str, Any], **context: Any) -> dict[str, str]:
        """Teardown: drop the scratch database and bucket (kept only when asked)."""
        from airflow.providers.mysql.hooks.mysql import MySqlHook

        from include.dr.aws_clients import hook_clients
        from include.dr.restore_test import teardown

        if test["keep_scratch"]:
            return {"scratch": "kept for inspection"}
        db = MySqlHook(mysql_conn_id=MYSQL_RESTORE).get_conn()
        try:
            dropped = teardown.drop_database(db.cursor(), test["scratch_database"])
        finally:
            db.close()
        bucket = teardown.delete_bucket(
            hook_clients(DR)("s3", test["dr_region"]), test["scratch_bucket"]
        )
        return {"database": dropped, "bucket": bucket}

    @task
    def remove_instance(test: dict[str, Any], **context: Any) -> dict[str, str]:
        """Teardown: delete the temporary instance, if this run made one."""
        from include.dr.aws_clients import hook_clients
        from include.dr.restore_test import teardown

        if test["keep_scratch"] or not test["rds"]:
            return {"instance": "kept for inspection" if test["keep_scratch"] else "none"}
        rds = hook_clients(DR)("rds", test["dr_region"])
        return {
            "instance": teardown.delete_instance(
                rds, test["rds"][0]["scratch_instance"], context["run_id"]
            )
        }

    test = plan()
    scratch = create_scratch(test)
    instance = RdsRestoreInstanceOperator(task_id="restore_instance", plan=snapshot_plan(test))
    native = check_instance(test, instance.output)
    rds = check_rds(test)
    s3 = check_s3(test, scratch)
    git = check_git(test)
    chain(scratch, [instance, rds])
    report = RestoreTestReportOperator(
        task_id="write_report",
        plan_task="plan",
        checks={
            "rds": "check_rds",
            "rds_native": "check_instance",
            "s3": "check_s3",
            "git": "check_git",
        },
        trigger_rule="all_done",
    )
    chain([rds, native, s3, git], report)
    # Both teardowns hang on the scratch setup, so they run whatever the checks did,
    # including a restore_instance that failed part-way.
    scratch_gone = remove_scratch(test).as_teardown(setups=scratch)
    instance_gone = remove_instance(test).as_teardown(setups=scratch)
    chain(report, [scratch_gone, instance_gone])


restore_test()
