"""Object Lock on the DR buckets: the rule judged purely, then the lock as the moto server
keeps it (moto enforces compliance-mode retention on version deletes)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import given
from hypothesis import strategies as st

from include.dr.inventory.dated_folders import DatedFolderInventory
from include.dr.local_stack.seed_aws import aws_client, ensure_dr_bucket
from include.dr.local_stack.settings import LocalSettings
from include.dr.policy.loader import load_policy
from include.dr.s3.object_lock import (
    check_object_lock,
    default_days,
    lock_configuration,
    lock_problems,
)

POLICY = load_policy()
MINIMUM = POLICY.retention.minimum_days
DR = POLICY.regions.dr


@given(days=st.integers(min_value=1, max_value=4000), minimum=st.integers(1, 400))
def test_a_compliance_lock_holds_exactly_when_it_keeps_the_minimum(days: int, minimum: int) -> None:
    problems = lock_problems(lock_configuration(days), minimum)
    assert (problems == []) == (days >= minimum)


@given(years=st.integers(min_value=1, max_value=10), minimum=st.integers(1, 4000))
def test_a_lock_in_years_counts_365_days_a_year(years: int, minimum: int) -> None:
    configuration = {
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": years}},
    }
    assert default_days(configuration) == 365 * years
    assert (lock_problems(configuration, minimum) == []) == (365 * years >= minimum)


def test_governance_mode_or_no_default_retention_is_not_a_lock() -> None:
    governance = lock_configuration(30)
    governance["Rule"]["DefaultRetention"]["Mode"] = "GOVERNANCE"
    assert lock_problems(governance, 7) == [
        "mode GOVERNANCE (an administrator may bypass it), not COMPLIANCE"
    ]
    assert lock_problems({"ObjectLockEnabled": "Enabled"}, 7) == ["no default retention"]
    assert lock_problems({}, 7) == ["Object Lock is not enabled"]


@pytest.fixture
def locked_bucket(local_stack: Path, settings: LocalSettings) -> str:
    bucket = f"lock-{uuid.uuid4().hex[:8]}"
    ensure_dr_bucket(settings, POLICY, bucket)
    return bucket


def test_a_dr_bucket_passes_and_a_plain_one_fails_naming_the_fix(
    locked_bucket: str, settings: LocalSettings
) -> None:
    s3 = aws_client(settings, "s3", DR)
    assert check_object_lock(s3, locked_bucket, MINIMUM).status == "pass"
    plain = f"plain-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=plain, CreateBucketConfiguration={"LocationConstraint": DR})
    check = check_object_lock(s3, plain, MINIMUM)
    assert check.status == "fail"
    assert check.found == "Object Lock is not enabled"
    assert "infra/dr.json" in check.fix


def written(s3: Any, bucket: str, key: str) -> str:
    return str(s3.put_object(Bucket=bucket, Key=key, Body=b"backup")["VersionId"])


def test_every_version_is_locked_for_the_minimum_and_cannot_be_deleted(
    locked_bucket: str, settings: LocalSettings
) -> None:
    s3 = aws_client(settings, "s3", DR)
    before = datetime.now(UTC)
    version = written(s3, locked_bucket, "rds/x/2026-11-01/dump.sql.gz")
    head = s3.head_object(Bucket=locked_bucket, Key="rds/x/2026-11-01/dump.sql.gz")
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"] >= before + timedelta(days=MINIMUM) - timedelta(
        seconds=1
    )
    with pytest.raises(ClientError, match="AccessDenied"):
        s3.delete_object(
            Bucket=locked_bucket, Key="rds/x/2026-11-01/dump.sql.gz", VersionId=version
        )


def test_retention_hides_a_locked_backup_and_says_until_when_its_bytes_stay(
    locked_bucket: str, settings: LocalSettings
) -> None:
    """Deleting a dated folder writes delete markers (the lock allows that); the versions
    stay, and ``locked_until`` is the earliest moment they can be purged."""
    s3 = aws_client(settings, "s3", DR)
    keys = ["rds/x/2026-11-01/customers.sql.gz", "rds/x/2026-11-01/manifest.json.gz"]
    versions = [written(s3, locked_bucket, key) for key in keys]
    inventory = DatedFolderInventory(s3, locked_bucket, "rds/x/", ".sql.gz")
    until = inventory.locked_until("rds/x/2026-11-01/")
    newest = max(s3.head_object(Bucket=locked_bucket, Key=k)["LastModified"] for k in keys)
    assert until is not None and until - newest >= timedelta(days=MINIMUM) - timedelta(seconds=1)
    assert inventory.delete("rds/x/2026-11-01/") is True
    assert inventory.list_backups() == []
    kept = s3.list_object_versions(Bucket=locked_bucket, Prefix="rds/x/")["Versions"]
    assert sorted(v["VersionId"] for v in kept) == sorted(versions)
    assert (
        DatedFolderInventory(s3, locked_bucket, "rds/y/", ".sql.gz").locked_until(
            "rds/y/2026-11-01/"
        )
        is None
    )


def test_objects_completed_from_parts_and_copies_are_locked_too(
    locked_bucket: str, settings: LocalSettings
) -> None:
    """A streamed dump (a multipart upload) and a backup copy get the default retention,
    as S3 gives them (include/dr/local_stack/moto_app.py corrects moto on both)."""
    s3 = aws_client(settings, "s3", DR)
    upload = s3.create_multipart_upload(Bucket=locked_bucket, Key="rds/x/dump.sql.gz")
    part = s3.upload_part(
        Bucket=locked_bucket,
        Key="rds/x/dump.sql.gz",
        UploadId=upload["UploadId"],
        PartNumber=1,
        Body=b"dump",
    )
    s3.complete_multipart_upload(
        Bucket=locked_bucket,
        Key="rds/x/dump.sql.gz",
        UploadId=upload["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    written(s3, locked_bucket, "source/object")
    s3.copy_object(
        Bucket=locked_bucket,
        Key="copied/object",
        CopySource={"Bucket": locked_bucket, "Key": "source/object"},
        ChecksumAlgorithm="SHA256",
    )
    for key in ("rds/x/dump.sql.gz", "copied/object"):
        head = s3.head_object(Bucket=locked_bucket, Key=key)
        assert head["ObjectLockMode"] == "COMPLIANCE", key
        with pytest.raises(ClientError, match="AccessDenied"):
            s3.delete_object(Bucket=locked_bucket, Key=key, VersionId=head["VersionId"])
