"""The compliance evaluation end to end: after the daily backups and a restore test every
clause passes; then a DR snapshot or DR objects deleted by hand, aged evidence, a removed
trail and a stripped DR bucket encryption each fail their clause, with one alert per run."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from include.dr.evidence import evidence_store
from include.dr.local_stack.seed_aws import aws_client
from include.dr.local_stack.settings import LocalSettings
from include.dr.policy.loader import load_policy
from tests.alerts_queue import AlertsQueue
from tests.integration.estate import backed_up_estate, lock_ran_out

pytestmark = pytest.mark.usefixtures("local_stack")


@pytest.fixture(scope="module")
def estate(
    dag_bag: Any, tmp_path_factory: pytest.TempPathFactory, settings: LocalSettings
) -> Iterator[datetime]:
    today = datetime.now(UTC) - timedelta(minutes=1)  # a compliant estate is backed up today
    with backed_up_estate(dag_bag, tmp_path_factory, settings, True, today) as day:
        assert dag_bag.get_dag("restore_test").test(run_conf={}).state == "success"
        yield day


def evaluate(dag_bag: Any) -> tuple[Any, dict[str, dict[str, Any]]]:
    run = dag_bag.get_dag("compliance_evaluation").test()
    record = evidence_store().get("compliance", "policy", "compliance_evaluation", run.run_id)
    return run, {clause["clause"]: clause for clause in record.details["clauses"]}


def test_after_backups_and_a_restore_test_every_clause_passes(
    dag_bag: Any, estate: datetime, settings: LocalSettings
) -> None:
    alerts = AlertsQueue(settings)
    run, clauses = evaluate(dag_bag)
    assert run.state == "success"
    assert {name: c["status"] for name, c in clauses.items()} == dict.fromkeys(
        [
            "freshness",
            "window",
            "retention_coverage",
            "archived_at_source",
            "retention_minimum",
            "dr_lifecycle",
            "object_lock",
            "dr_key_guard",
            "encryption",
            "region",
            "cloudtrail",
            "restore_test",
            "sla_register",
            "tamper",
        ],
        "pass",
    )
    assert clauses["freshness"]["evidence"]  # each verdict names the runs behind it
    assert alerts.received() == []


def test_a_snapshot_deleted_by_hand_fails_tamper_and_alerts_once(
    dag_bag: Any, estate: datetime, settings: LocalSettings
) -> None:
    instance = load_policy().assets.rds[0].instance
    snapshot = f"{instance}-{estate.date().isoformat()}"
    rds = aws_client(settings, "rds", "eu-west-1")
    rds.delete_db_snapshot(DBSnapshotIdentifier=snapshot)
    alerts = AlertsQueue(settings)
    run, clauses = evaluate(dag_bag)
    assert run.state == "failed"
    assert clauses["tamper"]["status"] == "fail" and snapshot in clauses["tamper"]["text"]
    [alert] = alerts.received()
    assert "1 clause(s) failed" in alert["Subject"] and snapshot in alert["Message"]


def test_dr_objects_deleted_by_hand_fail_tamper_until_their_delete_markers_go(
    dag_bag: Any, estate: datetime, settings: LocalSettings
) -> None:
    """A dump and an S3 run summary deleted in the (versioned) DR buckets vanish from the
    current listing: tamper names both; removing the delete markers brings them back."""
    policy, day = load_policy(), estate.date().isoformat()
    rds, source = policy.assets.rds[0], policy.assets.s3[0]
    s3 = aws_client(settings, "s3", "eu-west-1")
    folder = s3.list_objects_v2(Bucket=rds.dr_bucket, Prefix=f"rds/{rds.instance}/{day}/")
    dump = next(o["Key"] for o in folder["Contents"] if o["Key"].endswith(".sql.gz"))
    summary = evidence_store().latest("s3_backup", f"s3/{source.source}")
    assert summary is not None
    gone = [(rds.dr_bucket, dump), (source.dr_bucket, summary.details["summary_key"])]
    markers = [(b, k, s3.delete_object(Bucket=b, Key=k)["VersionId"]) for b, k in gone]
    _, clauses = evaluate(dag_bag)
    assert clauses["tamper"]["status"] == "fail"
    assert all(f"s3://{b}/{k}" in clauses["tamper"]["text"] for b, k in gone)
    for bucket, key, marker in markers:
        s3.delete_object(Bucket=bucket, Key=key, VersionId=marker)
    _, clauses = evaluate(dag_bag)
    assert not any(f"s3://{b}/{k}" in clauses["tamper"]["text"] for b, k in gone)


def test_aged_evidence_fails_freshness(dag_bag: Any, estate: datetime) -> None:
    store = evidence_store()
    asset = f"rds/{load_policy().assets.rds[0].instance}"
    for path in (store.root / "rds_backup").rglob("*.json"):
        body = json.loads(path.read_text())
        if body["asset"] == asset:  # the backup happened 27 hours before it says
            at = datetime.fromisoformat(body["recorded_at"]) - timedelta(hours=27)
            body["recorded_at"] = at.isoformat()
            path.write_text(json.dumps(body))
    _, clauses = evaluate(dag_bag)
    assert clauses["freshness"]["status"] == "fail"
    assert f"{asset}: 27." in clauses["freshness"]["text"]


def test_a_removed_trail_and_a_stripped_dr_bucket_key_fail_their_clauses(
    dag_bag: Any, estate: datetime, settings: LocalSettings
) -> None:
    trail = aws_client(settings, "cloudtrail", "eu-west-2")
    trails = trail.describe_trails()["trailList"]
    bucket = load_policy().assets.s3[0].dr_bucket
    s3 = aws_client(settings, "s3", "eu-west-1")
    encryption = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    for found in trails:
        trail.delete_trail(Name=found["Name"])
    s3.delete_bucket_encryption(Bucket=bucket)
    try:
        _, clauses = evaluate(dag_bag)
        assert clauses["cloudtrail"]["status"] == "fail"
        assert clauses["encryption"]["status"] == "fail"
        assert f"s3://{bucket} dr_bucket_encryption" in clauses["encryption"]["text"]
    finally:
        for found in trails:
            trail.create_trail(
                Name=found["Name"],
                S3BucketName=found["S3BucketName"],
                IsMultiRegionTrail=True,
            )
            trail.start_logging(Name=found["Name"])
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=encryption)


def test_a_dr_object_version_deleted_permanently_fails_tamper_by_name(
    dag_bag: Any, estate: datetime, settings: LocalSettings
) -> None:
    """A version the S3 run's manifest names is locked; once its lock has run out (a lock
    shorter than the minimum, say) and it is deleted permanently, a restore from that run
    would fail, so tamper names bucket, key and version."""
    source = load_policy().assets.s3[0]
    s3 = aws_client(settings, "s3", "eu-west-1")
    summary = evidence_store().latest("s3_backup", f"s3/{source.source}")
    assert summary is not None
    body = s3.get_object(Bucket=source.dr_bucket, Key=summary.details["manifests"][0])["Body"]
    entry = next(
        e for e in map(json.loads, gzip.decompress(body.read()).splitlines()) if e["dr_version_id"]
    )
    with pytest.raises(ClientError, match="AccessDenied"):  # the lock refuses it
        s3.delete_object(
            Bucket=source.dr_bucket, Key=entry["key"], VersionId=entry["dr_version_id"]
        )
    lock_ran_out(s3, source.dr_bucket, entry["key"], entry["dr_version_id"])
    s3.delete_object(Bucket=source.dr_bucket, Key=entry["key"], VersionId=entry["dr_version_id"])
    _, clauses = evaluate(dag_bag)
    assert clauses["tamper"]["status"] == "fail"
    named = f"s3://{source.dr_bucket}/{entry['key']} version {entry['dr_version_id']}"
    assert named in clauses["tamper"]["text"]
