"""The daily RDS backup DAG, run for real with dag.test() against moto and MariaDB."""

from __future__ import annotations

import gzip
import json
import subprocess
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pymysql
import pytest

from include.dr.evidence import evidence_store
from include.dr.local_stack.accounts import DR_ACCOUNT
from include.dr.local_stack.seed_aws import aws_client
from include.dr.local_stack.settings import LocalSettings
from include.dr.policy.loader import load_policy
from include.dr.rds.manifest import take_manifest
from include.dr.tags import VERIFIED_KEY, as_mapping
from tests.conftest import deferred_tasks
from tests.integration.dag_runs import a_day

pytestmark = pytest.mark.usefixtures("local_stack")
INSTANCE = "swl-customers-prod"


def run_backup(dag_bag: Any, logical_date: datetime | None = None, **conf: Any) -> Any:
    dag = dag_bag.get_dag("rds_backup")
    # Airflow 3.3's dag.test() reads the SDK DAG's DeadlineAlert objects where the scheduler
    # reads alert ids, and fails the finished run; the deadline is checked in test_deadline.
    dag.deadline = None
    return dag.test(logical_date=logical_date, run_conf={"override_window": False, **conf})


def evidence(run: Any) -> Any:
    return evidence_store().get("rds_backup", f"rds/{INSTANCE}", "rds_backup", run.run_id)


def snapshots(settings: LocalSettings, region: str, snapshot_id: str) -> list[dict[str, Any]]:
    rds = aws_client(settings, "rds", region)
    found = rds.describe_db_snapshots(DBInstanceIdentifier=INSTANCE)["DBSnapshots"]
    return [s for s in found if s["DBSnapshotIdentifier"] == snapshot_id]


def load_into_scratch(settings: LocalSettings, dump: bytes, database: str) -> dict[str, int]:
    conn = settings.connection("mysql_default")
    client = [
        "mariadb",
        "--no-defaults",
        "-h",
        conn["host"],
        "-P",
        str(conn["port"]),
        "-u",
        conn["login"],
        f"-p{conn['password']}",
        f"--ssl-ca={conn['extra']['ssl']['ca']}",
        "--ssl-verify-server-cert",
    ]
    subprocess.run(
        [*client, "-e", f"DROP DATABASE IF EXISTS {database}; CREATE DATABASE {database}"],
        check=True,
    )
    subprocess.run([*client, database], input=gzip.decompress(dump), check=True)
    counts = subprocess.run(
        [
            *client,
            "-N",
            "-e",
            f"SELECT TABLE_NAME, TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA='{database}'",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    exact = {}
    for table in [line.split("\t")[0] for line in counts.splitlines()]:
        out = subprocess.run(
            [*client, "-N", "-e", f"SELECT COUNT(*) FROM {database}.{table}"],
            capture_output=True,
            text=True,
            check=True,
        )
        exact[table] = int(out.stdout.strip())
    subprocess.run([*client, "-e", f"DROP DATABASE {database}"], check=True)
    return exact


def test_daily_backup_end_to_end(dag_bag: Any, settings: LocalSettings) -> None:
    run = run_backup(dag_bag, a_day(), override_window=True)
    assert run.state == "success"
    # The snapshot and the copy each waited in a trigger, holding no worker slot.
    trigger = "include.dr.triggers.rds.RdsSnapshotAvailableTrigger"
    assert deferred_tasks("rds_backup", run.run_id) == {
        "create_snapshot": trigger,
        "copy_snapshot_to_dr": trigger,
    }

    record = evidence(run)
    assert record.outcome == "pass"
    details = record.details
    policy = load_policy()
    dr_key = aws_client(settings, "kms", "eu-west-1").describe_key(
        KeyId=policy.kms_key("eu-west-1")
    )["KeyMetadata"]["Arn"]

    [copy] = snapshots(settings, "eu-west-1", details["snapshot_id"])
    assert copy["Encrypted"] and copy["KmsKeyId"] == dr_key
    # Shared with the DR account, which made the copy in its own account and region.
    assert details["shared_with"] == DR_ACCOUNT
    assert copy["DBSnapshotArn"].startswith(f"arn:aws:rds:eu-west-1:{DR_ACCOUNT}:")
    rds_dr = aws_client(settings, "rds", "eu-west-1")
    assert (
        as_mapping(rds_dr.list_tags_for_resource(ResourceName=copy["DBSnapshotArn"])["TagList"])[
            VERIFIED_KEY
        ]
        == "true"
    )
    assert details["copy"]["kms_key_id"] == dr_key and details["snapshot"]["encrypted"]
    # The database was read over verified TLS, as the session itself reported.
    assert details["in_transit"]["encrypted"] and details["in_transit"]["server_verified"]
    assert details["in_transit"]["protocol"].startswith("TLSv1.")

    s3 = aws_client(settings, "s3", "eu-west-1")
    bucket = policy.assets.rds[0].dr_bucket
    dump = s3.get_object(Bucket=bucket, Key=details["dump_key"])
    assert dump["ServerSideEncryption"] == "aws:kms" and dump["SSEKMSKeyId"] == dr_key
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=details["manifest_key"])["Body"].read())
    expected = {table: entry["row_count"] for table, entry in manifest["tables"].items()}
    assert sum(expected.values()) == 11_000
    assert load_into_scratch(settings, dump["Body"].read(), "restore_rds_test") == expected

    # A past day's run needed the override, and the evidence says so.
    window = evidence_store().get("window", "rds_backup", "rds_backup", run.run_id)
    assert window.details["override"] is True and window.details["breached"] is True


def test_rerun_for_the_same_day_makes_nothing_twice(dag_bag: Any, settings: LocalSettings) -> None:
    day = a_day()
    first = run_backup(dag_bag, day, override_window=True)
    second = run_backup(dag_bag, day + timedelta(minutes=1), override_window=True)
    assert first.state == second.state == "success"
    before, after = evidence(first).details, evidence(second).details
    assert before["snapshot_id"] == after["snapshot_id"]
    assert len(snapshots(settings, "eu-west-2", after["snapshot_id"])) == 1
    assert len(snapshots(settings, "eu-west-1", after["snapshot_id"])) == 1
    assert after["dump"]["reused"] is True and after["dump"]["sha256"] == before["dump"]["sha256"]
    s3 = aws_client(settings, "s3", "eu-west-1")
    versions = s3.list_object_versions(
        Bucket=load_policy().assets.rds[0].dr_bucket, Prefix=after["dump_key"]
    )["Versions"]
    assert len(versions) == 1


def failed_task(run: Any) -> Any:
    return next(ti for ti in run.get_task_instances() if ti.state == "failed")


def test_missing_instance_fails_preflight_and_makes_nothing(
    dag_bag: Any, settings: LocalSettings, use_policy: Callable[..., dict[str, Any]]
) -> None:
    use_policy(lambda policy: policy["assets"]["rds"][0].update(instance="swl-missing-db"))
    run = run_backup(dag_bag, a_day(), override_window=True)
    assert run.state == "failed" and failed_task(run).task_id == "preflight"
    rds = aws_client(settings, "rds", "eu-west-2")
    made = [s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots()["DBSnapshots"]]
    assert not [name for name in made if name.startswith("swl-missing-db")]
    failure = evidence_store().get("run_failure", "rds_backup", "rds_backup", run.run_id)
    assert failure is not None and failure.outcome == "fail"
    checks = evidence_store().get("rds_backup", "rds/swl-missing-db", "rds_backup", run.run_id)
    assert checks.outcome == "fail" and checks.details["failed_step"] == "preflight"
    assert "DBInstanceNotFound" in checks.details["preflight"][0]["found"]


def nothing_made_for(settings: LocalSettings, day: datetime) -> bool:
    """No snapshot in either region and no dump folder for the day."""
    snapshot = f"{INSTANCE}-{day.date().isoformat()}"
    s3 = aws_client(settings, "s3", "eu-west-1")
    folder = f"rds/{INSTANCE}/{day.date().isoformat()}/"
    listed = s3.list_objects_v2(Bucket=load_policy().assets.rds[0].dr_bucket, Prefix=folder)
    return (
        not snapshots(settings, "eu-west-2", snapshot)
        and not snapshots(settings, "eu-west-1", snapshot)
        and listed["KeyCount"] == 0
    )


def test_missing_dr_key_stops_before_anything_is_made(
    dag_bag: Any, settings: LocalSettings, use_policy: Callable[..., dict[str, Any]]
) -> None:
    use_policy(lambda policy: policy["kms_keys"].update({"eu-west-1": "alias/no-such-key"}))
    day = a_day()
    run = run_backup(dag_bag, day, override_window=True)
    failed = failed_task(run)
    assert run.state == "failed" and failed.task_id == "take_manifest"
    assert failed.try_number == 1  # a missing key is permanent: failed at once, not retried
    assert nothing_made_for(settings, day)


def test_unreachable_database_fails_the_manifest_and_makes_nothing(
    dag_bag: Any, monkeypatch: pytest.MonkeyPatch, settings: LocalSettings
) -> None:
    conn = dict(settings.connection("mysql_default"), port=1)
    monkeypatch.setenv("AIRFLOW_CONN_MYSQL_DEFAULT", json.dumps(conn))
    day = a_day()
    run = run_backup(dag_bag, day, override_window=True)
    assert run.state == "failed" and failed_task(run).task_id == "take_manifest"
    assert nothing_made_for(settings, day)


def test_a_connection_without_tls_is_refused_before_anything_is_made(
    dag_bag: Any, monkeypatch: pytest.MonkeyPatch, settings: LocalSettings
) -> None:
    conn = settings.connection("mysql_default")
    monkeypatch.setenv("AIRFLOW_CONN_MYSQL_DEFAULT", json.dumps({**conn, "extra": {}}))
    day = a_day()
    run = run_backup(dag_bag, day, override_window=True)
    assert run.state == "failed" and failed_task(run).task_id == "take_manifest"
    assert nothing_made_for(settings, day)


def test_with_a_read_replica_named_the_primary_is_not_read(
    dag_bag: Any,
    monkeypatch: pytest.MonkeyPatch,
    settings: LocalSettings,
    use_policy: Callable[..., dict[str, Any]],
) -> None:
    """The replica here is the same server under another connection; the primary's
    connection points nowhere, so a read of it would fail the run."""
    conn = settings.connection("mysql_default")
    monkeypatch.setenv("AIRFLOW_CONN_MYSQL_REPLICA", json.dumps(conn))
    monkeypatch.setenv("AIRFLOW_CONN_MYSQL_DEFAULT", json.dumps({**conn, "port": 1}))
    use_policy(lambda policy: policy["assets"]["rds"][0].update(read_replica="mysql_replica"))
    run = run_backup(dag_bag, a_day(), override_window=True)
    assert run.state == "success"
    details = evidence(run).details
    assert details["read_from"] == "mysql_replica"
    s3 = aws_client(settings, "s3", "eu-west-1")
    bucket = load_policy().assets.rds[0].dr_bucket
    for key in (details["snapshot_manifest_key"], details["manifest_key"]):
        manifest = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        assert manifest["read_from"] == "mysql_replica"


def test_checksums_on_a_restored_copy_equal_the_database_s_and_cost_it_only_counts(
    dag_bag: Any, settings: LocalSettings, use_policy: Callable[..., dict[str, Any]]
) -> None:
    use_policy(lambda policy: policy["assets"]["rds"][0].update(checksums_on="restored_copy"))
    run = run_backup(dag_bag, a_day(), override_window=True)
    assert run.state == "success"
    details = evidence(run).details
    s3 = aws_client(settings, "s3", "eu-west-1")
    bucket = load_policy().assets.rds[0].dr_bucket

    def stored(key: str) -> Any:
        return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())

    dump_manifest, snapshot_manifest = (
        stored(details["manifest_key"]),
        stored(details["snapshot_manifest_key"]),
    )
    assert dump_manifest["checksums_from"] == "restored_copy"
    assert snapshot_manifest["checksums"] is False
    assert all(t["checksum"] is None for t in snapshot_manifest["tables"].values())
    # The demo database is idle: the copy's checksums are the database's own.
    with pymysql.connect(**settings.mysql_arguments("mysql_default")) as db:
        own = take_manifest(db, "customers")["tables"]
    assert {t: e["checksum"] for t, e in dump_manifest["tables"].items()} == {
        t: e["checksum"] for t, e in own.items()
    }
    with pymysql.connect(**settings.mysql_arguments("mysql_restore")) as db, db.cursor() as cur:
        cur.execute("SHOW DATABASES LIKE 'restore\\_copy\\_%'")
        assert cur.fetchall() == ()


def test_deadline_alert_fires_at_the_end_of_the_window(dag_bag: Any) -> None:
    from airflow.sdk import DeadlineReference

    policy = load_policy()
    deadline = dag_bag.get_dag("rds_backup").deadline
    [alert] = deadline if isinstance(deadline, list) else [deadline]
    assert alert.reference == DeadlineReference.DAGRUN_LOGICAL_DATE
    assert alert.interval == policy.schedule.window.length
    assert alert.callback.kwargs["target_arn"] == policy.alerts.sns_topic_arn
