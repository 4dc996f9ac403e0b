"""The restore test's task adapters: each gathers its clients and connections, calls the
steps (:mod:`include.dr.restore_test.steps`, ``plan``, ``teardown``) inside the task
boundary, and returns small JSON.

Only ``airflow.sdk`` is imported here at module level; the rest loads inside the tasks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk import get_current_context, task

if TYPE_CHECKING:
    from include.dr.restore_test.plans import NativeRestoreRequest, RestoreTestPlan, Scratch

# The report's groups, each the task that produced it.
CHECK_TASKS = {
    "rds": "check_rds",
    "rds_native": "check_instance",
    "s3": "check_s3",
    "git": "check_git",
}


def _dr(service: str, region: str) -> Any:
    from include.dr.aws_clients import hook_clients
    from include.dr.connections import AWS_DR

    return hook_clients(AWS_DR)(service, region)


def _restore_db() -> Any:
    from include.dr.connections import MYSQL_RESTORE
    from include.dr.rds.transport import open_mysql

    return open_mysql(MYSQL_RESTORE)


@task
def plan() -> RestoreTestPlan:
    """Each asset's latest backup, and this run's scratch names."""
    from datetime import UTC, datetime

    from include.dr.git.connections import bundles_of_record
    from include.dr.policy.loader import load_policy
    from include.dr.restore_test.plan import plan_test
    from include.dr.run_info import RunInfo
    from include.dr.task_boundary import task_boundary

    context = get_current_context()
    run, params = RunInfo.from_context(context), context["params"]
    with task_boundary("planning the restore test"):
        policy = load_policy()
        return plan_test(
            policy,
            run.run_id,
            list(params["assets"]),
            bool(params["keep_scratch"]),
            _dr("s3", policy.regions.dr),
            _dr("rds", policy.regions.dr),
            bundles_of_record(policy),
            datetime.now(UTC),
        )


@task
def create_scratch(test: RestoreTestPlan) -> Scratch:
    """The scratch bucket and database, named from the run."""
    from include.dr.restore_test.teardown import create_bucket, create_database
    from include.dr.task_boundary import task_boundary

    with task_boundary("creating the scratch space"):
        create_bucket(_dr("s3", test["dr_region"]), test["scratch_bucket"], test["dr_region"])
        db = _restore_db()
        try:
            create_database(db.cursor(), test["scratch_database"])
        finally:
            db.close()
        return {"bucket": test["scratch_bucket"], "database": test["scratch_database"]}


@task
def snapshot_plan(test: RestoreTestPlan) -> NativeRestoreRequest:
    """The temporary instance's restore request (the first RDS asset's latest snapshot),
    placed as the policy's ``restore_test.network`` says."""
    from include.dr.connections import AWS_DR
    from include.dr.policy.loader import load_policy
    from include.dr.restore_test.plan import native_restore_request

    return native_restore_request(test, AWS_DR, load_policy().restore_test)


@task
def check_instance(test: RestoreTestPlan, instance: dict[str, Any] | None) -> dict[str, Any]:
    """The temporary instance: not public, DR key; on AWS, its data validated with GX."""
    from include.dr.connections import MYSQL_PRODUCTION
    from include.dr.kms import resolve_key
    from include.dr.policy.loader import load_policy
    from include.dr.rds.mysql_client import connection_settings
    from include.dr.restore_test import steps
    from include.dr.task_boundary import task_boundary

    with task_boundary("checking the restored instance"):
        policy, region = load_policy(), test["dr_region"]
        key_arn = resolve_key(_dr("kms", region), policy.kms_key(region), region)
        # The backup user's credentials came with the snapshot.
        connection = connection_settings(MYSQL_PRODUCTION)
        validate = steps.instance_validator(_dr("s3", region), connection, policy)
        return steps.check_instance(test, instance, key_arn, validate)


@task
def check_rds(test: RestoreTestPlan) -> dict[str, Any]:
    """Load each latest dump into the scratch database and validate it with GX."""
    from include.dr.connections import MYSQL_RESTORE
    from include.dr.policy.loader import load_policy
    from include.dr.rds.mysql_client import connection_settings
    from include.dr.restore_test import steps
    from include.dr.task_boundary import task_boundary

    with task_boundary("checking the RDS dumps"):
        return steps.check_rds(
            test,
            load_policy(),
            _dr("s3", test["dr_region"]),
            _restore_db,
            connection_settings(MYSQL_RESTORE),
        )


@task
def check_s3(test: RestoreTestPlan, scratch: Scratch) -> dict[str, Any]:
    """Restore a sample of each bucket into the scratch bucket; compare sizes and SHA-256."""
    from include.dr.policy.loader import load_policy
    from include.dr.restore_test import steps
    from include.dr.task_boundary import task_boundary

    with task_boundary("checking the S3 sample"):
        return steps.check_s3(test, load_policy(), _dr("s3", test["dr_region"]))


@task
def check_git(test: RestoreTestPlan) -> dict[str, Any]:
    """Clone each repository's latest bundle; fsck; refs equal the backup's evidence."""
    from include.dr.git.connections import bundle_key, bundles_of_record
    from include.dr.policy.loader import load_policy
    from include.dr.restore_test import steps
    from include.dr.task_boundary import task_boundary

    with task_boundary("checking the git bundles"):
        return steps.check_git(test, bundles_of_record(load_policy()), bundle_key())


@task
def remove_scratch(test: RestoreTestPlan) -> dict[str, str]:
    """Teardown: drop the scratch database and bucket (kept only when asked)."""
    from include.dr.restore_test import teardown
    from include.dr.task_boundary import task_boundary

    if test["keep_scratch"]:
        return {"scratch": "kept for inspection"}
    with task_boundary("removing the scratch space"):
        db = _restore_db()
        try:
            dropped = teardown.drop_database(db.cursor(), test["scratch_database"])
        finally:
            db.close()
        bucket = teardown.delete_bucket(_dr("s3", test["dr_region"]), test["scratch_bucket"])
        return {"database": dropped, "bucket": bucket}


@task
def remove_instance(test: RestoreTestPlan) -> dict[str, str]:
    """Teardown: delete the temporary instance, if this run made one."""
    from include.dr.restore_test import teardown
    from include.dr.run_info import RunInfo
    from include.dr.task_boundary import task_boundary

    if test["keep_scratch"] or not test["rds"]:
        return {"instance": "kept for inspection" if test["keep_scratch"] else "none"}
    run = RunInfo.from_context(get_current_context())
    with task_boundary("removing the temporary instance"):
        rds = _dr("rds", test["dr_region"])
        scratch = test["rds"][0]["scratch_instance"]
        return {"instance": teardown.delete_instance(rds, scratch, run.run_id)}
