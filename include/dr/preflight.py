"""Does the AWS estate match the policy file? Checks run before any backup touches it.

Each check takes a boto3 client (the DAG gets it through a provider hook, so the
same code reaches moto or real AWS by connection only) and returns a
:class:`Check` that names the resource, what the policy expects, what was found
and what to do. Checks never change anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from include.dr.aws_clients import ClientFactory
from include.dr.evidence import EvidenceRecord, evidence_store
from include.dr.kms import KeyUnavailable, resolve_key
from include.dr.policy.model import BackupPolicy, BackupWindow
from include.dr.rds.backup_window import rds_window_for, rds_window_inside


@dataclass(frozen=True)
class Check:
    """One verdict with the facts behind it, ready for the evidence record."""

    name: str
    resource: str
    passed: bool
    expected: str
    found: str
    fix: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "Unknown"))


def check_kms_key(kms: Any, region: str, key: str) -> Check:
    """The policy's key for ``region`` exists there and is enabled."""
    expected = f"KMS key {key} enabled in {region}"
    try:
        arn = resolve_key(kms, key, region)
    except KeyUnavailable as exc:
        return Check(
            "kms_key",
            key,
            False,
            expected,
            str(exc),
            f"create or enable {key} in {region}, or correct kms_keys.{region}; "
            "backups cannot be encrypted without it",
        )
    return Check("kms_key", arn, True, expected, "key state Enabled")


def bucket_region(s3: Any, bucket: str) -> str:
    """The bucket's region; S3 reports us-east-1 as an empty location."""
    location = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint")
    return str(location or "us-east-1")


def check_bucket_region(s3: Any, bucket: str, region: str, role: str) -> Check:
    """``bucket`` exists and lives in ``region``."""
    expected = f"{role} bucket {bucket} in {region}"
    try:
        found = bucket_region(s3, bucket)
    except ClientError as exc:
        return Check(
            f"{role}_bucket",
            bucket,
            False,
            expected,
            _error_code(exc),
            f"create the bucket in {region}, or correct its name in the policy file",
        )
    return Check(
        f"{role}_bucket",
        bucket,
        found == region,
        expected,
        f"in {found}",
        "" if found == region else f"use a bucket in {region}; a bucket cannot move region",
    )


def check_dr_bucket_protection(s3: Any, bucket: str) -> list[Check]:
    """Versioning and default SSE-KMS on a DR bucket: without them a backup can be lost."""
    try:
        versioning = s3.get_bucket_versioning(Bucket=bucket).get("Status", "Disabled")
    except ClientError as exc:
        versioning = _error_code(exc)
    checks = [
        Check(
            "dr_bucket_versioning",
            bucket,
            versioning == "Enabled",
            "versioning Enabled",
            versioning,
            "" if versioning == "Enabled" else "enable versioning on the DR bucket",
        )
    ]
    try:
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"][
            "Rules"
        ]
        algorithms = [rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] for rule in rules]
        found = ", ".join(algorithms)
    except ClientError as exc:
        algorithms, found = [], _error_code(exc)
    ok = "aws:kms" in algorithms
    checks.append(
        Check(
            "dr_bucket_encryption",
            bucket,
            ok,
            "default encryption aws:kms",
            found,
            "" if ok else "set default SSE-KMS with the DR region's key on the DR bucket",
        )
    )
    return checks


def check_rds_instance(
    rds: Any, instance: str, minimum_retention_days: int, window: BackupWindow, year: int
) -> list[Check]:
    """The instance exists, is encrypted, and keeps its own backups as the policy asks."""
    try:
        found = rds.describe_db_instances(DBInstanceIdentifier=instance)["DBInstances"][0]
    except ClientError as exc:
        return [
            Check(
                "rds_instance",
                instance,
                False,
                f"RDS instance {instance}",
                _error_code(exc),
                "create the instance, or correct assets.rds[].instance in the policy file",
            )
        ]
    encrypted = bool(found.get("StorageEncrypted"))
    retention = int(found.get("BackupRetentionPeriod", 0))
    preferred = str(found.get("PreferredBackupWindow", ""))
    inside = bool(preferred) and rds_window_inside(window, preferred, year)
    policy_window = f"{window.start:%H:%M}-{window.end:%H:%M} {window.timezone}"
    return [
        Check(
            "rds_instance",
            instance,
            True,
            f"RDS instance {instance}",
            f"{found.get('Engine')} {found.get('DBInstanceStatus')}",
        ),
        Check(
            "rds_encrypted",
            instance,
            encrypted,
            "storage encrypted with KMS",
            f"StorageEncrypted={encrypted}",
            ""
            if encrypted
            else "an unencrypted instance cannot be encrypted in place: "
            "snapshot it, copy the snapshot with a KMS key, and restore from the copy",
        ),
        Check(
            "rds_backup_retention",
            instance,
            retention >= minimum_retention_days,
            f"automated backups kept >= {minimum_retention_days} days",
            f"{retention} days",
            ""
            if retention >= minimum_retention_days
            else f"set BackupRetentionPeriod to {minimum_retention_days} or more "
            "(or set fix_drift: true for this instance in the policy file)",
        ),
        Check(
            "rds_backup_window",
            instance,
            inside,
            f"automated backup window inside {policy_window}",
            f"{preferred or 'none'} UTC",
            ""
            if inside
            else f"set PreferredBackupWindow to {rds_window_for(window, year)} "
            "(UTC), or set fix_drift: true for this instance in the policy file",
        ),
    ]


def fix_rds_drift(
    rds: Any, instance: str, minimum_retention_days: int, window: BackupWindow, year: int
) -> dict[str, Any]:
    """Set the instance's backup retention and window to the policy's (fix_drift only)."""
    changes = {
        "BackupRetentionPeriod": minimum_retention_days,
        "PreferredBackupWindow": rds_window_for(window, year),
    }
    rds.modify_db_instance(DBInstanceIdentifier=instance, ApplyImmediately=True, **changes)
    return changes


def production_checks(policy: BackupPolicy, client: ClientFactory) -> list[Check]:
    """The production side: its KMS key, source buckets and RDS instances."""
    region = policy.regions.production
    checks = [check_kms_key(client("kms", region), region, policy.kms_key(region))]
    s3 = client("s3", region)
    checks += [
        check_bucket_region(s3, asset.source, region, "source") for asset in policy.assets.s3
    ]
    rds = client("rds", region)
    year = datetime.now(UTC).year
    for asset in policy.assets.rds:
        checks += check_rds_instance(
            rds, asset.instance, policy.retention.minimum_days, policy.schedule.window, year
        )
    return checks


def dr_checks(policy: BackupPolicy, client: ClientFactory) -> list[Check]:
    """The DR side: its KMS key, and each DR bucket's region, versioning and encryption."""
    region = policy.regions.dr
    checks = [check_kms_key(client("kms", region), region, policy.kms_key(region))]
    s3 = client("s3", region)
    for bucket in policy.assets.dr_buckets:
        located = check_bucket_region(s3, bucket, region, "dr")
        checks.append(located)
        if located.passed:
            checks += check_dr_bucket_protection(s3, bucket)
    return checks


def record_preflight(
    residency: Mapping[str, Any], checks: list[Mapping[str, Any]], dag_id: str, run_id: str
) -> EvidenceRecord:
    """Store the run's checks as one evidence record; its outcome is fail if any check failed."""
    failed = [check for check in checks if not check["passed"]]
    summary = (
        f"{len(checks) - len(failed)} of {len(checks)} checks passed"
        if not failed
        else "failed: "
        + "; ".join(f"{c['name']} {c['resource']}: found {c['found']} ({c['fix']})" for c in failed)
    )
    record = EvidenceRecord(
        kind="preflight",
        asset="policy",
        dag_id=dag_id,
        run_id=run_id,
        outcome="fail" if failed else "pass",
        details={"residency": dict(residency), "checks": list(checks), "summary": summary},
    )
    evidence_store().write(record)
    return record
