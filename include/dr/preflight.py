"""Does the AWS estate match the policy file? Checks run before any backup touches it.

Each check takes a boto3 client (the DAG gets it through a provider hook, so the
same code reaches moto or real AWS by connection only) and returns a
:class:`Check` that names the resource, what the policy expects, what was found
and what to do. Checks never change anything. A check that cannot be made (on the
local stack, the TLS-only bucket policy) is recorded as ``n/a`` and fails nothing; a
transient AWS answer is raised as :class:`~include.dr.errors.Transient` and retried.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from include.dr.aws_clients import ClientFactory
from include.dr.checks import Check, check_bucket_region, error_code, failed_checks, status_of
from include.dr.environment import is_local_stack
from include.dr.errors import Permanent, from_client_error, is_transient
from include.dr.evidence import Outcome
from include.dr.evidence import record as record_evidence
from include.dr.key_guard import check_key_guarded
from include.dr.kms import KeyUnavailable, resolve_key
from include.dr.policy.model import BackupPolicy, BackupWindow
from include.dr.rds.backup_window import rds_window_clear, rds_window_for
from include.dr.s3.guardrails import check_dr_bucket
from include.dr.s3.object_lock import check_object_lock
from include.dr.store import store_bucket


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


def check_rds_instance(
    rds: Any,
    instance: str,
    minimum_retention_days: int,
    window: BackupWindow,
    year: int,
    replicated_to: str | None = None,
) -> list[Check]:
    """The instance exists, is encrypted, and keeps its own backups as the policy asks, in an
    automated-backup window clear of the policy window (where the DAG snapshots); and,
    where the policy asks for points in time in the DR region (``replicated_to``), its
    automated backups are replicated there."""
    try:
        found = rds.describe_db_instances(DBInstanceIdentifier=instance)["DBInstances"][0]
    except ClientError as exc:
        if is_transient(exc):
            raise from_client_error(exc, f"describing RDS instance {instance}") from exc
        return [
            Check(
                "rds_instance",
                instance,
                False,
                f"RDS instance {instance}",
                error_code(exc),
                "create the instance, or correct assets.rds[].instance in the policy file",
            )
        ]
    encrypted = bool(found.get("StorageEncrypted"))
    retention = int(found.get("BackupRetentionPeriod", 0))
    preferred = str(found.get("PreferredBackupWindow", ""))
    maintenance = found.get("PreferredMaintenanceWindow")
    clear = bool(preferred) and rds_window_clear(window, preferred, year)
    policy_window = f"{window.start:%H:%M}-{window.end:%H:%M} {window.timezone}"
    replication = [pitr_replication(found, replicated_to)] if replicated_to else []
    return replication + [
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
            clear,
            f"automated backup window clear of {policy_window}, when the DAG snapshots",
            f"{preferred or 'none'} UTC",
            ""
            if clear
            else f"set PreferredBackupWindow to {rds_window_for(window, year, maintenance)} "
            "(UTC), or set fix_drift: true for this instance in the policy file",
        ),
    ]


def pitr_replication(instance: Mapping[str, Any], region: str) -> Check:
    """Whether the instance's automated backups are replicated to ``region``: RDS lists each
    replication on the source instance, by the ARN of the replicated backups there.
    Not a drift the DAG fixes: replication needs a key of the production account in the
    DR region, which the policy does not name."""
    name = str(instance.get("DBInstanceIdentifier"))
    arns = [
        str(r.get("DBInstanceAutomatedBackupsArn", ""))
        for r in instance.get("DBInstanceAutomatedBackupsReplications") or []
    ]
    there = [arn for arn in arns if arn.split(":")[3:4] == [region]]
    return Check(
        "rds_pitr_replication",
        name,
        bool(there),
        f"automated backups replicated to {region}, for point-in-time restores there",
        there[0] if there else f"replicated to {', '.join(arns) or 'no region'}",
        ""
        if there
        else f"aws rds start-db-instance-automated-backups-replication --region {region} "
        f"--source-db-instance-arn {instance.get('DBInstanceArn')} --kms-key-id <a key of the "
        f"production account in {region}> --backup-retention-period <days>; or set "
        "pitr_in_dr_region: false for this instance in the policy file",
    )


def fix_rds_drift(
    rds: Any, instance: str, minimum_retention_days: int, window: BackupWindow, year: int
) -> dict[str, Any]:
    """Set the instance's backup retention to the policy's, and its automated-backup window
    clear of the policy window and off its maintenance window (fix_drift only)."""
    found = rds.describe_db_instances(DBInstanceIdentifier=instance)["DBInstances"][0]
    changes = {
        "BackupRetentionPeriod": minimum_retention_days,
        "PreferredBackupWindow": rds_window_for(
            window, year, found.get("PreferredMaintenanceWindow")
        ),
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
            rds,
            asset.instance,
            policy.retention.minimum_days,
            policy.schedule.window,
            year,
            policy.regions.dr if asset.pitr_in_dr_region else None,
        )
    return checks


def dr_checks(policy: BackupPolicy, client: ClientFactory, production_account: str) -> list[Check]:
    """The DR side: its KMS key, guarded against every principal of
    ``production_account``, and each DR bucket's region, versioning, encryption,
    lifecycle and Object Lock (and the store's lock, when the store is on S3)."""
    region = policy.regions.dr
    kms = client("kms", region)
    key_check = check_kms_key(kms, region, policy.kms_key(region))
    checks = [key_check]
    if key_check.passed:
        checks.append(check_key_guarded(kms, key_check.resource, production_account))
    return checks + check_dr_buckets(policy, client("s3", region), kms, key_check.resource)


def check_dr_buckets(policy: BackupPolicy, s3: Any, kms: Any, key_arn: str) -> list[Check]:
    """Every DR bucket's guardrails and Object Lock, and the store's lock when the store is
    on S3: what the preflight and the compliance evaluation judge alike."""
    region, minimum = policy.regions.dr, policy.retention.minimum_days
    local = is_local_stack(s3)
    checks: list[Check] = []
    for bucket in policy.assets.dr_buckets:
        guardrails = check_dr_bucket(s3, kms, bucket, region, key_arn, minimum, local)
        checks += guardrails
        if guardrails[0].passed:  # the bucket is there, in the DR region
            checks.append(check_object_lock(s3, bucket, minimum))
    store = store_bucket()
    if store:
        checks.append(check_object_lock(s3, store, minimum))
    return checks


def residency_check(residency: Mapping[str, Any]) -> Check:
    """The residency verdict (``ResidencyVerdict.as_dict()``) as a check: the DR region is in
    the production region's country, or an exception approved for this very pair covers it."""
    return Check(
        "residency",
        f"{residency['production_region']} -> {residency['dr_region']}",
        bool(residency["holds"]),
        "DR region in the production region's country, "
        "or a residency exception approved for this region pair",
        str(residency["statement"]),
        str(residency.get("fix") or ""),
    )


class PreflightFailed(Permanent):
    """A check failed: the estate does not match the policy (the message names each fix)."""


def summarise(checks: list[Mapping[str, Any]]) -> str:
    """One line: how many checks passed and which were not made (``n/a``), or each failure
    with its fix."""
    failed = failed_checks(checks)
    if failed:
        return "failed: " + "; ".join(
            f"{c['name']} {c['resource']}: found {c['found']} ({c['fix']})" for c in failed
        )
    passed = sum(status_of(c) == "pass" for c in checks)
    unchecked = [f"{c['name']} {c['resource']}" for c in checks if status_of(c) == "n/a"]
    return f"{passed} of {len(checks)} checks passed" + (
        f"; not checked (n/a): {', '.join(unchecked)}" if unchecked else ""
    )


def record_preflight(
    residency: Mapping[str, Any], checks: list[Mapping[str, Any]], dag_id: str, run_id: str
) -> tuple[Outcome, str]:
    """Store the run's checks, the residency verdict first, as one evidence record; return
    its outcome (fail if any check failed; an ``n/a`` check fails nothing) and a one-line
    summary naming each failure and its fix."""
    checks = [residency_check(residency).as_dict(), *checks]
    summary = summarise(checks)
    outcome: Outcome = "fail" if failed_checks(checks) else "pass"
    details = {"residency": dict(residency), "checks": list(checks), "summary": summary}
    record_evidence("preflight", "policy", dag_id, run_id, outcome, details)
    return outcome, summary
