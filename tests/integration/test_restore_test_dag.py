"""The annual restore test, end to end on the local stack: after the three daily backups it
passes with a report; then a corrupted dump, a deleted object backup and a truncated bundle
each fail it by name, and every time the scratch resources are gone afterwards."""

from __future__ import annotations

import gzip
import json
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pymysql
import pytest
from airflow.sdk import ObjectStoragePath

from include.dr.evidence import evidence_store
from include.dr.local_stack.seed_aws import aws_client
from include.dr.local_stack.settings import LocalSettings
from include.dr.policy.loader import load_policy
from include.dr.rds.naming import dump_key
from include.dr.rds.restore import dump_days
from include.dr.restore_test.plan import scratch_token
from include.dr.s3.restore import finished_days, objects_as_of
from tests.integration.estate import backed_up_estate, lock_ran_out

pytestmark = pytest.mark.usefixtures("local_stack")


@pytest.fixture(scope="module")
def backed_up(
    dag_bag: Any, tmp_path_factory: pytest.TempPathFactory, settings: LocalSettings
) -> Iterator[datetime]:
    with backed_up_estate(dag_bag, tmp_path_factory, settings) as day:
        yield day


def run_test(dag_bag: Any, assets: list[str]) -> Any:
    return dag_bag.get_dag("restore_test").test(run_conf={"assets": assets, "keep_scratch": False})


def report_of(run: Any) -> Any:
    return evidence_store().get("restore_test", "all", "restore_test", run.run_id)


def report_link(run: Any) -> str:
    """The write_report task's extra link, as the UI shows it."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        value = (
            session.query(XComModel.value)
            .filter_by(
                dag_id="restore_test",
                run_id=run.run_id,
                task_id="write_report",
                key="_link_RestoreTestReportLink",
            )
            .scalar()
        )
    try:
        return str(json.loads(value))
    except (TypeError, ValueError):
        return str(value)


def assert_scratch_removed(run: Any, settings: LocalSettings) -> None:
    token = scratch_token(run.run_id)
    s3 = aws_client(settings, "s3", "eu-west-1")
    assert f"restore-test-{token}" not in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    with (
        pymysql.connect(**settings.mysql_arguments("mysql_restore")) as db,
        db.cursor() as cursor,
    ):
        cursor.execute("SHOW DATABASES LIKE %s", (f"restore_test_{token}",))
        assert cursor.fetchall() == ()
    rds = aws_client(settings, "rds", "eu-west-1")
    live = [
        i
        for i in rds.describe_db_instances()["DBInstances"]
        if i["DBInstanceIdentifier"] == f"restore-test-{token}"
        and i["DBInstanceStatus"] not in {"deleting", "deleted"}
    ]
    assert live == []


def test_after_the_daily_backups_the_restore_test_passes_with_a_report(
    dag_bag: Any, backed_up: datetime, settings: LocalSettings
) -> None:
    run = run_test(dag_bag, ["rds", "s3", "git"])
    assert run.state == "success"
    record = report_of(run)
    assert record.outcome == "pass"
    checks = {(c["asset"], c["check"]): c for c in record.details["checks"]}
    logical = checks[("rds/swl-customers-prod", "logical")]["details"]
    assert logical["engine"].startswith("great_expectations")
    assert all(t["expectations"] >= 3 and t["checksum_checked"] for t in logical["tables"].values())
    assert checks[("rds/swl-customers-prod", "native")]["details"]["encrypted"] is True
    sample = checks[(f"s3/{load_policy().assets.s3[0].source}", "sample")]["details"]
    assert sample["sampled"] >= 20 and sample["largest"] is not None
    assert {a for a, _ in checks if a.startswith("git/")} == {
        "git/social-workshop/webapp",
        "git/social-workshop/infrastructure",
        "git/social-workshop/mobile-app",
    }
    page = ObjectStoragePath(record.details["report"]["html"]).read_text()
    assert "Restore test: PASS" in page and "swl-customers-prod" in page
    assert all(seconds is not None for seconds in record.details["restore_seconds"].values())
    with urllib.request.urlopen(report_link(run)) as linked:  # noqa: S310 - a local file here
        assert "Restore test: PASS" in linked.read().decode()
    assert_scratch_removed(run, settings)


def test_a_corrupted_row_fails_validation_naming_the_table(
    dag_bag: Any, backed_up: datetime, settings: LocalSettings
) -> None:
    policy, s3 = load_policy(), aws_client(settings, "s3", "eu-west-1")
    asset = policy.assets.rds[0]
    day = datetime.fromisoformat(dump_days(s3, asset.dr_bucket, asset.instance)[-1]).date()
    key = dump_key(asset.instance, day, asset.database)
    head = s3.head_object(Bucket=asset.dr_bucket, Key=key)
    dump = gzip.decompress(s3.get_object(Bucket=asset.dr_bucket, Key=key)["Body"].read())
    marker = b"INSERT INTO `customers` VALUES\n(1,'"
    at = dump.index(marker) + len(marker)
    corrupted = dump[:at] + b"X" + dump[at + 1 :]  # the first customer's name changed

    def put_dump(body: bytes) -> None:
        s3.put_object(
            Bucket=asset.dr_bucket,
            Key=key,
            Body=gzip.compress(body),
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=head["SSEKMSKeyId"],
        )

    put_dump(corrupted)
    try:
        run = run_test(dag_bag, ["rds"])
        assert run.state == "failed"
        assert report_link(run).endswith(".html")  # linked when it failed, too
        logical = next(c for c in report_of(run).details["checks"] if c["check"] == "logical")
        assert logical["details"]["failing_tables"] == ["customers"]
        assert_scratch_removed(run, settings)
    finally:
        put_dump(dump)


def test_a_deleted_object_backup_fails_the_s3_check_naming_the_key(
    dag_bag: Any, backed_up: datetime, settings: LocalSettings
) -> None:
    bucket = load_policy().assets.s3[0]
    s3 = aws_client(settings, "s3", "eu-west-1")
    day = finished_days(s3, bucket.dr_bucket, bucket.source)[-1][0]
    plan = {
        "dr_bucket": bucket.dr_bucket,
        "source_bucket": bucket.source,
        "backup_day": day,
        "prefix": "",
    }
    largest = max(objects_as_of(s3, plan), key=lambda o: o.size)  # always in the sample
    lock_ran_out(s3, bucket.dr_bucket, largest.key, largest.version_id)
    s3.delete_object(Bucket=bucket.dr_bucket, Key=largest.key, VersionId=largest.version_id)
    run = run_test(dag_bag, ["s3"])
    assert run.state == "failed"
    sample = next(
        c for c in report_of(run).details["checks"] if c["asset"] == f"s3/{bucket.source}"
    )
    assert list(sample["details"]["failures"]) == [largest.key]
    assert_scratch_removed(run, settings)


def test_a_truncated_bundle_of_record_fails_the_git_check(
    dag_bag: Any, backed_up: datetime, settings: LocalSettings
) -> None:
    """The bundle of record is the DR copy: one cut short there fails the check, whatever
    a worker's cache holds."""
    bucket = load_policy().assets.github.dr_bucket  # type: ignore[union-attr]
    s3 = aws_client(settings, "s3", "eu-west-1")
    prefix = "git/social-workshop/webapp/"
    [key] = sorted(
        o["Key"]
        for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"]
        if o["Key"].endswith("/bundle.enc")
    )[-1:]
    whole = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    s3.put_object(Bucket=bucket, Key=key, Body=whole[: len(whole) // 2])
    try:
        run = run_test(dag_bag, ["git"])
        assert run.state == "failed"
        checks = {c["asset"]: c for c in report_of(run).details["checks"]}
        assert checks["git/social-workshop/webapp"]["success"] is False
        problem = checks["git/social-workshop/webapp"]["details"]["problem"]
        assert "does not match its sidecar" in problem
        assert checks["git/social-workshop/infrastructure"]["success"] is True
        assert_scratch_removed(run, settings)
    finally:
        # The cut version is locked (Object Lock) like every DR version: the whole bundle
        # goes back as the newest one instead.
        s3.put_object(Bucket=bucket, Key=key, Body=whole)
