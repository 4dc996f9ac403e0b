"""Gathering the facts each clause needs, from the evidence store and (read-only) from AWS,
and judging them. The result is itself recorded as evidence, so the history is a trend."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from include.dr.compliance import clauses
from include.dr.compliance.clauses import EvidenceRef, Verdict
from include.dr.evidence import EvidenceRecord, LocalEvidenceStore
from include.dr.git.bundle import bundle_path
from include.dr.policy.model import BackupPolicy

BACKUP_KINDS = ("rds_backup", "s3_backup", "git_backup")
BACKUP_DAGS = ("rds_backup", "s3_backup", "git_backup")


def ref(record: EvidenceRecord) -> EvidenceRef:
    return EvidenceRef(
        record.kind, record.asset, record.dag_id, record.run_id, record.recorded_at.isoformat()
    )


def assets_of(policy: BackupPolicy, store: LocalEvidenceStore) -> list[tuple[str, str]]:
    """(evidence kind, asset) for every asset the policy backs up."""
    found = [("rds_backup", f"rds/{a.instance}") for a in policy.assets.rds]
    found += [("s3_backup", f"s3/{a.source}") for a in policy.assets.s3]
    github = policy.assets.github
    if github:
        names = github.repositories or sorted(
            {r.asset.rsplit("/", 1)[-1] for r in store.read("git_backup")}
        )
        found += [("git_backup", f"git/{github.organisation}/{name}") for name in names]
    return found


def evaluate(
    policy: BackupPolicy,
    store: LocalEvidenceStore,
    now: datetime,
    aws: dict[str, Any],
    bundles: Path,
) -> list[Verdict]:
    """Every clause's verdict. ``aws``: read-only clients rds_dr, s3_dr, cloudtrail, kms_dr."""
    minimum = policy.retention.minimum_days
    good: dict[str, list[EvidenceRecord]] = {}
    for kind, asset in assets_of(policy, store):
        good[asset] = [r for r in store.read(kind, asset) if r.outcome == "pass"]
    last = {
        asset: ((records[-1].recorded_at, ref(records[-1])) if records else None)
        for asset, records in good.items()
    }
    days = {
        asset: {date.fromisoformat(str(r.details["day"])) for r in records if r.details.get("day")}
        for asset, records in good.items()
    }
    from include.dr.kms import resolve_key

    region = policy.regions.dr
    dr_key = resolve_key(aws["kms_dr"], policy.kms_key(region), region)
    live = _dr_bucket_checks(policy, aws, dr_key)
    verdicts = [
        clauses.freshness(last, now),
        clauses.window(_window_runs(store)),
        clauses.coverage(days, now.date(), minimum),
        clauses.early_deletions(_deletions(store), minimum),
        clauses.checks_held(
            "dr_lifecycle",
            f"DR buckets keep old versions at least {minimum} days",
            [c for c in live if c[0].endswith("dr_bucket_lifecycle")],
        ),
        _encryption(good, dr_key, live),
        _region(policy, good, live),
        _cloudtrail(aws["cloudtrail"]),
        clauses.restore_test(_last_restore_test(store), now, policy.restore_test.interval_days),
        clauses.sla_register(
            [(s.name, s.sla_reviewed_on) for s in policy.cloud_services], now.date()
        ),
        _tamper(policy, store, aws, bundles, now),
    ]
    return verdicts


def _window_runs(store: LocalEvidenceStore) -> dict[str, list[tuple[bool, bool, EvidenceRef]]]:
    runs: dict[str, list[tuple[bool, bool, EvidenceRef]]] = {}
    for dag_id in BACKUP_DAGS:
        records = store.read("window", dag_id)
        runs[dag_id] = [
            (bool(r.details.get("breached")), bool(r.details.get("override")), ref(r))
            for r in records
        ]
    return {dag_id: found for dag_id, found in runs.items() if found}


def _deletions(store: LocalEvidenceStore) -> list[tuple[str, datetime, datetime, EvidenceRef]]:
    found = []
    for record in store.read("retention"):
        if record.details.get("dry_run") or record.details.get("status") == "planned":
            continue
        # Judged by when the deletion really happened, never by the run's logical time: a run
        # dated in the future would otherwise make a young backup look old enough.
        deleted_at = record.details.get("deleted_at") or {}
        for decision in record.details.get("plan", []):
            if decision["action"] == "delete":
                completed = datetime.fromisoformat(decision["completed_at"])
                when = deleted_at.get(decision["backup_id"])
                really = datetime.fromisoformat(when) if when else record.recorded_at
                found.append((decision["backup_id"], completed, really, ref(record)))
    return found


def _dr_bucket_checks(
    policy: BackupPolicy, aws: dict[str, Any], key: str
) -> list[tuple[str, bool, str]]:
    """The DR buckets' guardrails as they are now (region, versioning, key, lifecycle, TLS)."""
    from include.dr.s3.guardrails import check_dr_bucket

    region, s3, kms = policy.regions.dr, aws["s3_dr"], aws["kms_dr"]
    local = s3.meta.endpoint_url.startswith("http://")
    found = []
    for bucket in policy.assets.dr_buckets:
        for check in check_dr_bucket(
            s3, kms, bucket, region, key, policy.retention.minimum_days, local
        ):
            found.append((f"s3://{bucket} {check.name}", check.passed, check.found))
    return found


def _latest(good: dict[str, list[EvidenceRecord]]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Each asset with a good backup, and the details of its newest one."""
    for asset, records in good.items():
        if records:
            yield asset, records[-1].details


def _encryption(
    good: dict[str, list[EvidenceRecord]], dr_key: str, live: list[tuple[str, bool, str]]
) -> Verdict:
    checks: list[tuple[str, bool, str]] = []
    for asset, details in _latest(good):
        if asset.startswith("rds/"):
            copy_key = (details.get("copy") or {}).get("kms_key_id")
            dump_key = (details.get("dump") or {}).get("kms_key_arn")
            checks.append((f"{asset} snapshot copy", copy_key == dr_key, f"key {copy_key}"))
            checks.append((f"{asset} dump", dump_key == dr_key, f"key {dump_key}"))
        elif asset.startswith("git/"):
            bundle = details.get("bundle") or {}
            checks.append(
                (f"{asset} bundle", bool(bundle.get("key_fingerprint")), "AES-256-GCM at rest")
            )
    checks += [c for c in live if c[0].endswith(("dr_bucket_encryption", "dr_bucket_tls_only"))]
    return clauses.checks_held(
        "encryption", "Backups encrypted with the expected keys; TLS only", checks
    )


def _region(
    policy: BackupPolicy, good: dict[str, list[EvidenceRecord]], live: list[tuple[str, bool, str]]
) -> Verdict:
    dr = policy.regions.dr
    checks: list[tuple[str, bool, str]] = []
    for asset, details in _latest(good):
        if asset.startswith("rds/"):
            arn = str((details.get("copy") or {}).get("arn", ""))
            checks.append((f"{asset} snapshot copy", f":{dr}:" in arn, arn))
    checks += [c for c in live if c[0].endswith(" dr_bucket")]
    return clauses.region(checks, policy.regions.residency)


def _cloudtrail(cloudtrail: Any) -> Verdict:
    checks: list[tuple[str, bool, str]] = []
    for trail in cloudtrail.describe_trails().get("trailList", []):
        if trail.get("IsMultiRegionTrail"):
            logging = cloudtrail.get_trail_status(Name=trail["TrailARN"]).get("IsLogging", False)
            checks.append((trail["Name"], bool(logging), "logging" if logging else "not logging"))
    if not checks:
        checks.append(("trail", False, "no multi-region trail exists"))
    if any(ok for _, ok, _ in checks):
        checks = [c for c in checks if c[1]]
    return clauses.checks_held("cloudtrail", "A multi-region CloudTrail trail is logging", checks)


def _last_restore_test(store: LocalEvidenceStore) -> tuple[datetime, EvidenceRef] | None:
    passed = [r for r in store.read("restore_test", "all") if r.outcome == "pass"]
    return (passed[-1].recorded_at, ref(passed[-1])) if passed else None


def _tamper(
    policy: BackupPolicy,
    store: LocalEvidenceStore,
    aws: dict[str, Any],
    bundles: Path,
    now: datetime,
) -> Verdict:
    """Every backup the evidence records as made is present, or retention deleted it: DR
    snapshot copies, RDS dumps and their manifests, S3 run manifests, git bundles (local
    and DR copies). An object counts as present while it is the current version, so a
    delete marker written by hand is a vanished backup. So does every object version an
    S3 run inside the minimum retention names: a version deleted permanently would make
    that run's restore fail."""
    deleted = {backup for backup, *_ in _deletions(store)}
    recorded: list[tuple[str, EvidenceRef]] = []
    present: set[str] = set()
    for asset in policy.assets.rds:
        try:
            snapshots = aws["rds_dr"].describe_db_snapshots(DBInstanceIdentifier=asset.instance)
        except ClientError:
            snapshots = {"DBSnapshots": []}
        present |= {s["DBSnapshotIdentifier"] for s in snapshots.get("DBSnapshots", [])}
        for record in store.read("rds_backup", f"rds/{asset.instance}"):
            copy = record.details.get("copy") or {}
            if record.outcome == "pass" and copy.get("id"):
                recorded.append((str(copy["id"]), ref(record)))
    for record in store.read("git_backup"):
        bundle = record.details.get("bundle") or {}
        if record.outcome == "pass" and bundle.get("day"):
            organisation, name = record.asset.split("/")[1:3]
            path = bundle_path(bundles, organisation, name, str(bundle["day"]))
            recorded.append((str(path), ref(record)))
            if path.exists():
                present.add(str(path))
    deleted |= {
        str(bundles / r.split("/")[1] / r.split("/")[2] / f"{d}.bundle.enc")
        for r, d in _bundle_deletions(store)
    }
    listing = _DrListing(aws["s3_dr"])
    for bucket, key, where in _dr_objects(store):
        backup = f"s3://{bucket}/{key}"
        recorded.append((backup, where))
        if key in listing.keys(bucket, key.rsplit("/", 2)[0] + "/"):
            present.add(backup)
        if key.rsplit("/", 1)[0] + "/" in deleted:  # retention deletes a whole folder
            deleted.add(backup)
    since = now - timedelta(days=policy.retention.minimum_days)
    recorded += _missing_versions(store, aws["s3_dr"], listing, deleted, since)
    return clauses.tamper(_unique(recorded), present, deleted)


def _missing_versions(
    store: LocalEvidenceStore,
    s3: Any,
    listing: _DrListing,
    deleted: set[str],
    since: datetime,
) -> list[tuple[str, EvidenceRef]]:
    """The object versions named by the S3 runs inside the minimum retention (their
    summaries still present) that are gone from the DR bucket. The DR bucket's versions
    are listed once per bucket; each run's manifests are read once. Older runs may name
    versions the lifecycle rule has rightly expired, so they are not checked."""
    from include.dr.s3.restore import VersionIndex, check_run

    indexes: dict[str, VersionIndex | None] = {}
    found: list[tuple[str, EvidenceRef]] = []
    for record in store.read("s3_backup"):
        details = record.details
        folder = str(details.get("summary_key", "")).removesuffix("run.json")
        bucket = str(details.get("dr_bucket", ""))
        if record.outcome != "pass" or not folder or record.recorded_at < since:
            continue
        if folder in deleted or f"{folder}run.json" not in listing.keys(bucket, folder):
            continue  # deleted by retention, or vanished (named as such already)
        if bucket not in indexes:
            try:
                indexes[bucket] = VersionIndex.list(s3, bucket, "")
            except ClientError:
                indexes[bucket] = None
        index = indexes[bucket]
        if index is None:
            continue
        damage = check_run(s3, bucket, folder, "", index)
        for entry in damage.missing[:_NAMED]:
            version = entry.get("dr_version_id") or f"written {entry.get('dr_modified')}"
            found.append((f"s3://{bucket}/{entry['key']} version {version}", ref(record)))
        if len(damage.missing) > _NAMED:
            more = len(damage.missing) - _NAMED
            found.append((f"{more} more version(s) named by s3://{bucket}/{folder}", ref(record)))
    return found


_NAMED = 5  # missing versions named per run; the rest are counted


def _dr_objects(store: LocalEvidenceStore) -> list[tuple[str, str, EvidenceRef]]:
    """(DR bucket, key, evidence) of every object a passed backup run recorded writing."""
    from include.dr.s3.backup import summary_key

    found = []
    for record in store.read("rds_backup"):
        details = record.details
        if record.outcome == "pass" and details.get("dr_bucket"):
            for part in ("dump", "manifest"):
                if key := (details.get(part) or {}).get("key"):
                    found.append((str(details["dr_bucket"]), str(key), ref(record)))
    for record in store.read("s3_backup"):
        details = record.details
        if record.outcome == "pass" and details.get("dr_bucket"):
            summary = details.get("summary_key") or summary_key(
                str(details["source"]), str(details["day"])
            )
            for key in [*details.get("manifests", []), summary]:
                found.append((str(details["dr_bucket"]), str(key), ref(record)))
    for record in store.read("git_backup"):
        upload = record.details.get("dr_copy") or {}
        if record.outcome == "pass" and upload.get("key"):
            found.append((str(upload["bucket"]), str(upload["key"]), ref(record)))
    return found


class _DrListing:
    """The current keys under a DR bucket's prefix, listed once per prefix and evaluation."""

    def __init__(self, s3: Any) -> None:
        self.s3 = s3
        self._listed: dict[tuple[str, str], set[str]] = {}

    def keys(self, bucket: str, prefix: str) -> set[str]:
        if (bucket, prefix) not in self._listed:
            try:
                pages = self.s3.get_paginator("list_objects_v2").paginate(
                    Bucket=bucket, Prefix=prefix
                )
                found = {item["Key"] for page in pages for item in page.get("Contents", [])}
            except ClientError:  # a DR bucket gone or closed to us: nothing in it is present
                found = set()
            self._listed[bucket, prefix] = found
        return self._listed[bucket, prefix]


def _bundle_deletions(store: LocalEvidenceStore) -> list[tuple[str, str]]:
    found = []
    for record in store.read("retention"):
        if record.details.get("inventory") != "git_bundles" or record.details.get("dry_run"):
            continue
        for decision in record.details.get("plan", []):
            if decision["action"] == "delete":
                found.append((record.asset.removesuffix("/local"), decision["backup_id"]))
    return found


def _unique(recorded: list[tuple[str, EvidenceRef]]) -> list[tuple[str, EvidenceRef]]:
    seen: dict[str, EvidenceRef] = {}
    for backup, where in recorded:
        seen.setdefault(backup, where)
    return sorted(seen.items())


def record_evaluation(
    verdicts: list[Verdict], store: LocalEvidenceStore, dag_id: str, run_id: str
) -> dict[str, Any]:
    """The evaluation as evidence (its history is the trend); the summary for the alert."""
    from include.dr.evidence import record

    status = clauses.worst(v.status for v in verdicts)
    failing = [f"{v.title}: {v.text}" for v in verdicts if v.status == "fail"]
    record(
        kind="compliance",
        asset="policy",
        dag_id=dag_id,
        run_id=run_id,
        outcome=status,
        details={"status": status, "clauses": [v.as_dict() for v in verdicts]},
    )
    return {"status": status, "failing": failing}
