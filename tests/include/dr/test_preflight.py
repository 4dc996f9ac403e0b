"""Preflight checks against the moto server, through the provider's hook."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from include.dr.aws_clients import account_of, hook_clients
from include.dr.checks import Check
from include.dr.evidence import evidence_store
from include.dr.policy.loader import load_policy
from include.dr.preflight import (
    check_bucket_region,
    check_kms_key,
    check_rds_instance,
    dr_checks,
    pitr_replication,
    production_checks,
    record_preflight,
)
from include.dr.s3.guardrails import check_dr_bucket

pytestmark = pytest.mark.usefixtures("local_stack")
POLICY = load_policy()
PROD, DR = hook_clients("aws_default"), hook_clients("aws_dr")


def test_seeded_estate_passes_every_check() -> None:
    production = account_of(PROD, POLICY.regions.production)
    checks = production_checks(POLICY, PROD) + dr_checks(POLICY, DR, production)
    assert [c for c in checks if c.failed] == []
    # Only what the local stack cannot show may go unchecked, and it never reads as a pass.
    assert {c.name for c in checks if not c.passed} <= {"dr_bucket_tls_only"}
    assert all(c.status == "n/a" for c in checks if not c.passed)
    assert {c.name for c in checks} >= {
        "kms_key",
        "source_bucket",
        "dr_bucket",
        "rds_encrypted",
        "dr_bucket_versioning",
        "dr_bucket_object_lock",
        "dr_key_guarded",
    }


def test_missing_bucket_is_named_with_a_fix() -> None:
    check = check_bucket_region(
        PROD("s3", "eu-west-2"), "swl-no-such-bucket", "eu-west-2", "source"
    )
    assert not check.passed
    assert check.resource == "swl-no-such-bucket" and "create the bucket in eu-west-2" in check.fix


def test_bucket_in_the_wrong_region_fails() -> None:
    check = check_bucket_region(DR("s3", "eu-west-1"), "swl-customer-uploads", "eu-west-1", "dr")
    assert not check.passed and check.found == "in eu-west-2"


def test_unprotected_dr_bucket_fails_both_protections() -> None:
    s3 = DR("s3", "eu-west-1")
    bucket = f"bare-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    try:
        kms = DR("kms", "eu-west-1")
        key = kms.describe_key(KeyId="alias/swl-backup-dr")["KeyMetadata"]["Arn"]
        checks = check_dr_bucket(s3, kms, bucket, "eu-west-1", key, 7, local=True)
        failed = {c.name: c for c in checks if c.failed}
        assert set(failed) == {"dr_bucket_versioning", "dr_bucket_encryption"}
        assert "enable versioning" in failed["dr_bucket_versioning"].fix
    finally:
        s3.delete_bucket(Bucket=bucket)


def test_missing_kms_key_fails() -> None:
    check = check_kms_key(DR("kms", "eu-west-1"), "eu-west-1", "alias/not-there")
    assert not check.passed and "alias/not-there" in check.fix


def test_missing_rds_instance_fails_with_a_fix() -> None:
    [check] = check_rds_instance(
        PROD("rds", "eu-west-2"), "no-such-db", 7, POLICY.schedule.window, 2026
    )
    assert not check.passed and "DBInstanceNotFound" in check.found


def test_short_automated_backup_retention_fails() -> None:
    checks = {
        c.name: c
        for c in check_rds_instance(
            PROD("rds", "eu-west-2"), "swl-customers-prod", 35, POLICY.schedule.window, 2026
        )
    }
    assert not checks["rds_backup_retention"].passed
    assert "35" in checks["rds_backup_retention"].fix


def test_an_automated_backup_window_meeting_the_policy_window_is_drift() -> None:
    """The seeded instance backs itself up at 23:00-23:30 UTC, inside a 23:00-01:00 London
    window (in winter), where the DAG snapshots; the fix moves it clear, before the opening."""
    from include.dr.policy.model import BackupWindow

    evening = BackupWindow.model_validate(
        {"start": "23:00", "end": "01:00", "timezone": "Europe/London"}
    )
    checks = {
        c.name: c
        for c in check_rds_instance(
            PROD("rds", "eu-west-2"), "swl-customers-prod", 7, evening, 2026
        )
    }
    assert not checks["rds_backup_window"].passed
    assert "21:00-21:30" in checks["rds_backup_window"].fix


def test_points_in_time_in_the_dr_region_need_replicated_automated_backups() -> None:
    """moto reports no replication, as RDS does for an instance that has none: asked for,
    the check fails naming the command; not asked for, it is not made."""
    rds = PROD("rds", "eu-west-2")
    window = POLICY.schedule.window
    asked = {
        c.name: c
        for c in check_rds_instance(rds, "swl-customers-prod", 7, window, 2026, "eu-west-1")
    }
    replication = asked["rds_pitr_replication"]
    assert not replication.passed
    assert "start-db-instance-automated-backups-replication --region eu-west-1" in replication.fix
    assert "pitr_in_dr_region: false" in replication.fix
    plain = check_rds_instance(rds, "swl-customers-prod", 7, window, 2026)
    assert "rds_pitr_replication" not in {c.name for c in plain}


def test_a_replication_counts_only_in_the_dr_region() -> None:
    """As RDS lists replications on the source instance: by the replicated backups' ARN."""
    arn = "arn:aws:rds:{}:123456789012:auto-backup:ab-abc123"
    instance = {
        "DBInstanceIdentifier": "db",
        "DBInstanceArn": "arn:aws:rds:eu-west-2:123456789012:db:db",
        "DBInstanceAutomatedBackupsReplications": [
            {"DBInstanceAutomatedBackupsArn": arn.format("eu-central-1")}
        ],
    }
    elsewhere = pitr_replication(instance, "eu-west-1")
    assert not elsewhere.passed and "eu-central-1" in elsewhere.found
    instance["DBInstanceAutomatedBackupsReplications"].append(
        {"DBInstanceAutomatedBackupsArn": arn.format("eu-west-1")}
    )
    there = pitr_replication(instance, "eu-west-1")
    assert there.passed and there.found == arn.format("eu-west-1")


def test_a_check_not_made_is_recorded_n_a_and_fails_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKUP_STORE_URL", f"file://{tmp_path}")
    residency = POLICY.regions.residency.as_dict()
    tls = Check.not_checked("dr_bucket_tls_only", "swl-dr", "TLS only", "local stack")
    held = Check("kms_key", "k", True, "enabled", "Enabled")
    outcome, summary = record_preflight(
        residency, [held.as_dict(), tls.as_dict()], "policy_preflight", "manual__1"
    )
    assert outcome == "pass"
    assert summary == "2 of 3 checks passed; not checked (n/a): dr_bucket_tls_only swl-dr"
    [record] = evidence_store().read("preflight", "policy")
    statuses = {c["name"]: c["status"] for c in record.details["checks"]}
    assert statuses == {"residency": "pass", "kms_key": "pass", "dr_bucket_tls_only": "n/a"}


def test_a_failed_check_fails_the_preflight_naming_its_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKUP_STORE_URL", f"file://{tmp_path}")
    broken = Check("kms_key", "k", False, "enabled", "Disabled", "enable k")
    outcome, summary = record_preflight(
        POLICY.regions.residency.as_dict(), [broken.as_dict()], "policy_preflight", "manual__2"
    )
    assert outcome == "fail" and summary == "failed: kms_key k: found Disabled (enable k)"
