"""Gathering the facts each clause needs, from the evidence store and (read-only) from AWS.

Each function here reads; the judging is :mod:`include.dr.compliance.clauses`, and the
tamper reconciliation :mod:`include.dr.compliance.tamper`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from include.dr.asset_names import git_asset, rds_asset, s3_asset
from include.dr.compliance import clauses
from include.dr.compliance.clauses import CheckFact, EvidenceRef, Verdict
from include.dr.evidence import EvidenceRecord, EvidenceStore
from include.dr.policy.model import BackupPolicy

if TYPE_CHECKING:
    from types_boto3_cloudtrail import CloudTrailClient
    from types_boto3_kms import KMSClient
    from types_boto3_s3 import S3Client

    from include.dr.checks import Check

BACKUP_DAGS = ("rds_backup", "s3_backup", "git_backup")
EMPTY_REPOSITORY = "empty"  # a git backup's verdict for a repository with nothing to bundle

Good = dict[str, list[EvidenceRecord]]  # asset -> its passed backup records, oldest first


def ref(record: EvidenceRecord) -> EvidenceRef:
    return EvidenceRef(
        record.kind, record.asset, record.dag_id, record.run_id, record.recorded_at.isoformat()
    )


def assets_of(policy: BackupPolicy, store: EvidenceStore) -> list[tuple[str, str]]:
    """(evidence kind, asset) for every asset the policy backs up."""
    found = [("rds_backup", rds_asset(a.instance)) for a in policy.assets.rds]
    found += [("s3_backup", s3_asset(a.source)) for a in policy.assets.s3]
    github = policy.assets.github
    if github:
        names = github.repositories or sorted(
            {r.asset.rsplit("/", 1)[-1] for r in store.read("git_backup")}
        )
        found += [("git_backup", git_asset(github.organisation, name)) for name in names]
    return found


def good_backups(policy: BackupPolicy, store: EvidenceStore) -> Good:
    """Each asset's passed backup records."""
    return {
        asset: [r for r in store.read(kind, asset) if r.outcome == "pass"]
        for kind, asset in assets_of(policy, store)
    }


def archived(good: Good) -> dict[str, tuple[int, EvidenceRef]]:
    """Per S3 asset, how many objects its newest good backup found archived at the source."""
    return {
        asset: (int(records[-1].details.get("archived_at_source") or 0), ref(records[-1]))
        for asset, records in good.items()
        if records and records[-1].kind == "s3_backup"
    }


def last_good(good: Good) -> dict[str, tuple[datetime, EvidenceRef] | None]:
    return {
        asset: ((records[-1].recorded_at, ref(records[-1])) if records else None)
        for asset, records in good.items()
    }


def good_days(good: Good) -> dict[str, set[date]]:
    return {
        asset: {date.fromisoformat(str(r.details["day"])) for r in records if r.details.get("day")}
        for asset, records in good.items()
    }


def window_runs(store: EvidenceStore) -> dict[str, list[tuple[bool, bool, EvidenceRef]]]:
    """(breached, overridden, evidence) of each backup DAG's runs, oldest first."""
    runs: dict[str, list[tuple[bool, bool, EvidenceRef]]] = {}
    for dag_id in BACKUP_DAGS:
        records = store.read("window", dag_id)
        runs[dag_id] = [
            (bool(r.details.get("breached")), bool(r.details.get("override")), ref(r))
            for r in records
        ]
    return {dag_id: found for dag_id, found in runs.items() if found}


def deletions(store: EvidenceStore) -> list[tuple[str, datetime, datetime, EvidenceRef]]:
    """(backup, completed, really deleted at, evidence) of every deletion retention made."""
    found = []
    for record in store.read("retention"):
        if record.details.get("dry_run") or record.details.get("status") == "planned":
            continue
        # Judged by when the deletion really happened, never by the run's logical time: a run
        # dated in the future would otherwise make a young backup look old enough.
        deleted_at = record.details.get("deleted_at") or {}
        # A backup S3 refused to delete at all is not a deletion; one partly deleted is.
        refused = set(record.details.get("not_deleted") or {}) - set(deleted_at)
        for decision in record.details.get("plan", []):
            if decision["action"] == "delete" and decision["backup_id"] not in refused:
                completed = datetime.fromisoformat(decision["completed_at"])
                when = deleted_at.get(decision["backup_id"])
                really = datetime.fromisoformat(when) if when else record.recorded_at
                found.append((decision["backup_id"], completed, really, ref(record)))
    return found


def dr_bucket_checks(
    policy: BackupPolicy, s3: S3Client, kms: KMSClient, key: str
) -> list[CheckFact]:
    """The DR buckets' guardrails as they are now (region, versioning, key, lifecycle, TLS,
    Object Lock; and the store's lock when it is on S3); one that cannot be checked here
    is ``None`` (n/a), never a pass."""
    from include.dr.preflight import check_dr_buckets

    return [
        as_fact(check, f"s3://{check.resource}") for check in check_dr_buckets(policy, s3, kms, key)
    ]


def as_fact(check: Check, resource: str) -> CheckFact:
    """A check as a clause reads it: (name, held or ``None`` when not made, what was found)."""
    return (f"{resource} {check.name}", check.passed if check.checked else None, check.found)


def dr_key_guard(kms: KMSClient, key: str, production_account: str) -> Verdict:
    """The DR key's policy denies every production principal disabling or deleting it."""
    from include.dr.key_guard import check_key_guarded

    check = check_key_guarded(kms, key, production_account)
    return clauses.checks_held(
        "dr_key_guard",
        "Production can neither disable nor delete the DR key",
        [as_fact(check, key)],
    )


def latest(good: Good) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Each asset with a good backup, and the details of its newest one."""
    for asset, records in good.items():
        if records:
            yield asset, records[-1].details


def encryption(good: Good, dr_key: str, live: list[CheckFact]) -> Verdict:
    checks: list[CheckFact] = []
    for asset, details in latest(good):
        if asset.startswith("rds/"):
            copy_key = (details.get("copy") or {}).get("kms_key_id")
            dump_key = (details.get("dump") or {}).get("kms_key_arn")
            checks.append((f"{asset} snapshot copy", copy_key == dr_key, f"key {copy_key}"))
            checks.append((f"{asset} dump", dump_key == dr_key, f"key {dump_key}"))
        elif asset.startswith("git/") and details.get("verdict") != EMPTY_REPOSITORY:
            # An empty repository has no bundle to encrypt.
            bundle = details.get("bundle") or {}
            checks.append(
                (f"{asset} bundle", bool(bundle.get("key_fingerprint")), "AES-256-GCM at rest")
            )
    checks += [c for c in live if c[0].endswith(("dr_bucket_encryption", "dr_bucket_tls_only"))]
    return clauses.checks_held(
        "encryption", "Backups encrypted with the expected keys; TLS only", checks
    )


def region(policy: BackupPolicy, good: Good, live: list[CheckFact]) -> Verdict:
    dr = policy.regions.dr
    checks: list[CheckFact] = []
    for asset, details in latest(good):
        if asset.startswith("rds/"):
            arn = str((details.get("copy") or {}).get("arn", ""))
            checks.append((f"{asset} snapshot copy", f":{dr}:" in arn, arn))
    checks += [c for c in live if c[0].endswith(" dr_bucket")]
    return clauses.region(checks, policy.regions.residency)


def cloudtrail(client: CloudTrailClient) -> Verdict:
    checks: list[CheckFact] = []
    for trail in client.describe_trails().get("trailList", []):
        if trail.get("IsMultiRegionTrail"):
            status = client.get_trail_status(Name=str(trail.get("TrailARN")))
            logging = bool(status.get("IsLogging", False))
            checks.append(
                (str(trail.get("Name")), logging, "logging" if logging else "not logging")
            )
    if not checks:
        checks.append(("trail", False, "no multi-region trail exists"))
    if any(ok for _, ok, _ in checks):
        checks = [c for c in checks if c[1]]
    return clauses.checks_held("cloudtrail", "A multi-region CloudTrail trail is logging", checks)


def last_restore_test(store: EvidenceStore) -> tuple[datetime, EvidenceRef] | None:
    passed = [r for r in store.read("restore_test", "all") if r.outcome == "pass"]
    return (passed[-1].recorded_at, ref(passed[-1])) if passed else None
