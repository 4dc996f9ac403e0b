"""The restore test's steps, one function each, called by its task adapters
(:mod:`include.dr.restore_test.tasks`)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from include.dr.asset_names import git_asset, rds_asset, s3_asset
from include.dr.connections import MYSQL_PRODUCTION
from include.dr.environment import is_local_stack
from include.dr.evidence import evidence_store, record
from include.dr.policy.model import BackupPolicy
from include.dr.rds import restore as rds_restore
from include.dr.rds.naming import manifest_key, snapshot_manifest_key
from include.dr.rds.transport import session_tls, tls_options
from include.dr.restore_test.comparison import Comparison, logical_comparison, native_comparison
from include.dr.restore_test.git_check import check_repository
from include.dr.restore_test.plans import RestoreTestPlan
from include.dr.restore_test.report import build_report, store_report
from include.dr.restore_test.s3_sample import check_bucket
from include.dr.restore_test.validation import validate_database
from include.dr.run_info import RunInfo

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

    from include.dr.git.bundle_store import BundleStore

Validator = Callable[[Mapping[str, Any], Mapping[str, Any]], dict[str, Any]]
NATIVE_DATA_LOCAL = "validated through the logical path (the local stack's instances hold no data)"


def check_rds(
    test: RestoreTestPlan,
    policy: BackupPolicy,
    dr_s3: Any,
    connect: Callable[[], Any],
    connection: Mapping[str, Any],
) -> dict[str, Any]:
    """Each latest dump loaded into the scratch database and validated with GX."""
    results: dict[str, Any] = {}
    for asset in test["rds"]:
        started = time.monotonic()
        db = connect()
        try:
            cursor = db.cursor()
            plan = {**asset, "target_database": test["scratch_database"]}
            rds_restore.load_dump(plan, dr_s3, connection, cursor)
            body = dr_s3.get_object(Bucket=asset["dr_bucket"], Key=asset["manifest_key"])["Body"]
            manifest = json.loads(body.read())
            comparison = logical_comparison(manifest)
            validation = validate_database(
                cursor,
                test["scratch_database"],
                manifest,
                policy.restore_test.row_count_tolerance,
                policy.restore_test.checksum_tables,
                connection=connection,
            ) | {"compared": comparison.compared}
        finally:
            db.close()
        seconds = round(time.monotonic() - started, 2)
        results[rds_asset(asset["instance"])] = {
            "logical": {**validation, "dump_date": asset["dump_date"], "seconds": seconds}
        }
    return results


def check_instance(
    test: RestoreTestPlan,
    instance: Mapping[str, Any] | None,
    dr_key_arn: str,
    validate_data: Validator | None,
) -> dict[str, Any]:
    """The temporary instance restored from the latest DR snapshot: private, encrypted with
    the DR key, and (where ``validate_data`` is given: on AWS) holding the backed-up data."""
    asset = next((a for a in test["rds"] if a["snapshot_id"]), None)
    if asset is None or instance is None:
        return {}
    settings_ok = (
        not instance["publicly_accessible"]
        and instance["encrypted"]
        and instance["kms_key_id"] == dr_key_arn
    )
    data = validate_data(asset, instance) if validate_data else None
    return {
        rds_asset(asset["instance"]): {
            "native": {
                **instance,
                "snapshot_id": asset["snapshot_id"],
                "expected_kms_key_id": dr_key_arn,
                "data": data or NATIVE_DATA_LOCAL,
                "success": settings_ok
                and (data is None or "skipped" in data or bool(data["success"])),
            }
        }
    }


def instance_validator(
    dr_s3: Any, connection: Mapping[str, Any], policy: BackupPolicy
) -> Validator | None:
    """Validates a restored instance against the manifest of its snapshot's day; None on the
    local stack, whose restored instances hold no data (the logical path proves the data
    there)."""
    if is_local_stack(dr_s3):
        return None

    def validate(asset: Mapping[str, Any], instance: Mapping[str, Any]) -> dict[str, Any]:
        day = date.fromisoformat(str(asset["snapshot_id"]).removeprefix(f"{asset['instance']}-"))
        snapshot_manifest, dump_manifest = snapshot_manifests(
            dr_s3, asset["dr_bucket"], asset["instance"], day
        )
        return validate_instance_data(
            instance,
            connection,
            asset["database"],
            snapshot_manifest,
            policy,
            native_comparison(snapshot_manifest, dump_manifest),
        )

    return validate


def snapshot_manifests(
    dr_s3: Any, bucket: str, instance: str, day: date
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The day's snapshot manifest and dump manifest; a day backed up before the two were
    kept apart has one manifest, taken just before the snapshot, which serves as both."""

    def read(key: str) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(dr_s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        return found

    try:
        snapshot_manifest = read(snapshot_manifest_key(instance, day))
    except dr_s3.exceptions.NoSuchKey:
        return read(manifest_key(instance, day)), None
    return snapshot_manifest, read(manifest_key(instance, day))


# What a MySQL client says when nothing answers at the address: no route, a port no
# security group admits (a timeout), or a connection dropped before the server's greeting.
NO_NETWORK_PATH = {2002, 2003, 2013}


def no_network_path(endpoint: str, error: BaseException) -> dict[str, Any]:
    """The native data check, not made because the worker cannot reach the instance: a
    recorded reason, never a failure of the backup's data (the instance's own settings
    are still judged)."""
    return {
        "success": None,
        "skipped": (
            f"no network path from this worker to the temporary instance at {endpoint} "
            f"({error}); the data check was not made. Give restore_test.network a subnet "
            "group and security groups the workers can reach (README: the temporary "
            "instance's network)"
        ),
    }


def validate_instance_data(
    instance: Mapping[str, Any],
    connection: Mapping[str, Any],
    database: str,
    manifest: Mapping[str, Any],
    policy: BackupPolicy,
    comparison: Comparison,
) -> dict[str, Any]:
    """GX validation of the database on a restored instance, reached at its endpoint with
    the backup user's credentials (restored from the snapshot with everything else)."""
    import pymysql

    host, _, port = str(instance["endpoint"]).rpartition(":")
    ssl = tls_options(MYSQL_PRODUCTION, connection.get("extra") or {})
    try:
        db = pymysql.connect(
            host=host,
            port=int(port),
            user=connection["login"],
            password=connection.get("password") or "",
            database=database,
            ssl=ssl,
            connect_timeout=30,
        )
    except pymysql.err.OperationalError as exc:
        if exc.args and exc.args[0] in NO_NETWORK_PATH:
            return no_network_path(f"{host}:{port}", exc)
        raise
    try:
        in_transit = session_tls(db.cursor(), f"the restored instance {host}")
        checked = validate_database(
            db.cursor(),
            database,
            manifest,
            policy.restore_test.row_count_tolerance,
            policy.restore_test.checksum_tables if comparison.checksums else (),
            comparison.row_slack,
            connection={**connection, "host": host, "port": int(port)},
        )
        return {**checked, "in_transit": in_transit, "compared": comparison.compared}
    finally:
        db.close()


def check_s3(test: RestoreTestPlan, policy: BackupPolicy, dr_s3: Any) -> dict[str, Any]:
    results = {}
    for bucket in test["s3"]:
        started = time.monotonic()
        checked = check_bucket(
            dr_s3,
            bucket,
            test["scratch_bucket"],
            policy.restore_test.s3_sample_percent,
            policy.restore_test.s3_minimum_objects,
        )
        seconds = round(time.monotonic() - started, 2)
        results[s3_asset(bucket["source_bucket"])] = {"sample": {**checked, "seconds": seconds}}
    return results


def check_git(test: RestoreTestPlan, bundles: BundleStore, key: bytes) -> dict[str, Any]:
    results = {}
    for repo in test["git"]:
        asset = git_asset(repo["organisation"], repo["repository"])
        recorded = next(
            (
                r.details.get("refs")
                for r in reversed(evidence_store().read("git_backup", asset))
                if r.outcome == "pass" and r.details.get("day") == repo["day"]
            ),
            None,
        )
        started = time.monotonic()
        checked = check_repository(bundles, repo, key, recorded)
        results[asset] = {"bundle": {**checked, "seconds": round(time.monotonic() - started, 2)}}
    return results


def due_checks(test: RestoreTestPlan) -> dict[str, bool]:
    """Which report groups the plan made due: a due check whose task did not finish fails."""
    return {
        "rds": bool(test["rds"]),
        "rds_native": any(r["snapshot_id"] for r in test["rds"]),
        "s3": bool(test["s3"]),
        "git": bool(test["git"]),
    }


def finish(
    test: RestoreTestPlan,
    groups: Mapping[str, tuple[Mapping[str, Any] | None, bool]],
    finished_at: str,
    folder: ObjectStoragePath,
    dr_s3: Any,
    bucket: str,
    key_arn: str,
    run: RunInfo,
) -> dict[str, Any]:
    """The report, stored and recorded as evidence; its verdict and where it is.
    ``groups`` maps each check to its result and whether it was due: a due check whose
    task did not finish counts as failed."""
    results: dict[str, Any] = {}
    for name, (group, due) in groups.items():
        if group is None and due:
            problem = f"the {name} check did not finish; see its task log"
            results[name] = {"restore": {"success": False, "problem": problem}}
        for asset, checks in (group or {}).items():
            results.setdefault(asset, {}).update(checks)
    report = build_report(test, results, finished_at)
    where = store_report(report, folder, dr_s3, bucket, key_arn)
    record(
        kind="restore_test",
        asset="all",
        dag_id=run.dag_id,
        run_id=run.run_id,
        outcome="pass" if report["verdict"] == "pass" else "fail",
        details={**report, "report": where},
    )
    failing = [f"{c['asset']} {c['check']}" for c in report["checks"] if not c["success"]]
    return {"verdict": report["verdict"], "report": where, "failing": failing}


def report_url(dr_s3: Any, where: Mapping[str, str], region: str) -> str:
    """Where a person opens the report: its DR copy in the S3 console on AWS; on the local
    stack, whose S3 has no console, its copy in the shared store."""
    bucket, _, prefix = where["dr_copy"].removeprefix("s3://").partition("/")
    if is_local_stack(dr_s3):
        return where["html"]
    return (
        f"https://{region}.console.aws.amazon.com/s3/object/{bucket}"
        f"?region={region}&prefix={prefix}report.html"
    )
