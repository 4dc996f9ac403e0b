"""The local stack as the DAGs see it: AWS in two regions, MariaDB and git daemon."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pymysql
import pytest

from include.dr.local_stack import stack
from include.dr.local_stack.git_daemon import history
from include.dr.local_stack.seed_aws import aws_client, demo_objects
from include.dr.local_stack.settings import LocalSettings
from include.dr.policy.loader import load_policy

pytestmark = pytest.mark.usefixtures("local_stack")
POLICY = load_policy()


def test_second_up_starts_nothing_and_changes_nothing(local_stack: Path) -> None:
    report = stack.up(local_stack)
    assert report.started == []
    assert set(report.already_running) == {"moto", "mariadb", "git-daemon"}


def test_each_region_has_its_own_key(settings: LocalSettings) -> None:
    for region, alias in POLICY.kms_keys.items():
        meta = aws_client(settings, "kms", region).describe_key(KeyId=alias)["KeyMetadata"]
        assert meta["Arn"].startswith(f"arn:aws:kms:{region}:")


def test_source_buckets_hold_the_demo_objects_in_production(settings: LocalSettings) -> None:
    s3 = aws_client(settings, "s3", POLICY.regions.production)
    for asset in POLICY.assets.s3:
        assert s3.get_bucket_location(Bucket=asset.source)["LocationConstraint"] == "eu-west-2"
        listed = s3.list_objects_v2(Bucket=asset.source, MaxKeys=1000)
        assert listed["KeyCount"] == len(demo_objects(asset.source))


def test_dr_buckets_are_versioned_and_encrypted_in_the_dr_region(settings: LocalSettings) -> None:
    s3 = aws_client(settings, "s3", POLICY.regions.dr)
    for asset in POLICY.assets.s3:
        assert s3.get_bucket_location(Bucket=asset.dr_bucket)["LocationConstraint"] == "eu-west-1"
        assert s3.get_bucket_versioning(Bucket=asset.dr_bucket)["Status"] == "Enabled"
        rule = s3.get_bucket_encryption(Bucket=asset.dr_bucket)[
            "ServerSideEncryptionConfiguration"
        ]["Rules"][0]
        assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"


def test_rds_instance_is_encrypted_and_keeps_a_week_of_backups(settings: LocalSettings) -> None:
    rds = aws_client(settings, "rds", POLICY.regions.production)
    instance = rds.describe_db_instances(DBInstanceIdentifier="swl-customers-prod")["DBInstances"][
        0
    ]
    assert instance["StorageEncrypted"] is True
    assert instance["BackupRetentionPeriod"] >= 7


def test_a_multi_region_trail_is_logging(settings: LocalSettings) -> None:
    trails = aws_client(settings, "cloudtrail", POLICY.regions.production)
    trail = trails.describe_trails()["trailList"][0]
    assert trail["IsMultiRegionTrail"] is True
    assert trails.get_trail_status(Name=trail["Name"])["IsLogging"] is True


def mysql(settings: LocalSettings, database: str | None = None) -> pymysql.Connection:  # type: ignore[type-arg]
    return pymysql.connect(
        **settings.mysql_arguments("mysql_default", database=database, autocommit=True)
    )


def test_customer_database_is_seeded_and_read_only_to_the_backup_user(
    settings: LocalSettings,
) -> None:
    with mysql(settings, "customers") as connection, connection.cursor() as cursor:
        counts = {}
        for table in ("customers", "orders", "order_items", "support_tickets"):
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
        assert counts == {
            "customers": 1200,
            "orders": 3000,
            "order_items": 6000,
            "support_tickets": 800,
        }
        with pytest.raises(pymysql.err.OperationalError, match="denied"):
            cursor.execute("DELETE FROM support_tickets")


def test_backup_user_may_create_scratch_restore_databases(settings: LocalSettings) -> None:
    with mysql(settings) as connection, connection.cursor() as cursor:
        cursor.execute("CREATE DATABASE IF NOT EXISTS restore_probe")
        cursor.execute("DROP DATABASE restore_probe")
        with pytest.raises(pymysql.err.OperationalError, match="denied"):
            cursor.execute("CREATE DATABASE not_scratch")


def test_git_daemon_serves_the_organisation_with_branches_and_tags(
    settings: LocalSettings, tmp_path: Path
) -> None:
    github = POLICY.assets.github
    assert github is not None and github.repositories
    base = settings.connection("github_default")["extra"]["git_url"]
    listed = subprocess.run(
        ["git", "ls-remote", f"{base}/{github.organisation}/{github.repositories[0]}.git"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    refs = dict(reversed(line.split("\t")) for line in listed.splitlines())
    assert {
        "refs/heads/main",
        "refs/heads/develop",
        "refs/heads/feature/login",
        "refs/tags/v1.0",
    } <= refs.keys()
    # The history is deterministic: rebuilding it elsewhere gives the same SHA.
    subprocess.run(["git", "init", "-q", "--bare", str(tmp_path)], check=True)
    subprocess.run(
        ["git", "--git-dir", str(tmp_path), "fast-import", "--quiet"],
        input=history(github.repositories[0]).encode(),
        check=True,
    )
    rebuilt = subprocess.run(
        ["git", "--git-dir", str(tmp_path), "rev-parse", "refs/heads/main"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert refs["refs/heads/main"] == rebuilt


def test_evidence_of_an_earlier_moto_is_moved_aside_never_deleted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from include.dr.evidence import record

    monkeypatch.setenv("BACKUP_STORE_URL", f"file://{tmp_path}")
    assert stack.archive_stale_evidence() is None  # nothing recorded yet: nothing to move
    written = record("rds_backup", "rds/db", "rds_backup", "run-1", "pass", {"day": "2026-11-26"})
    body = written.read_text()
    moved = stack.archive_stale_evidence()
    assert moved is not None and moved.parent == tmp_path / "evidence-archive"
    assert not written.exists()
    assert (moved / Path(written.path).relative_to(tmp_path / "evidence")).read_text() == body
