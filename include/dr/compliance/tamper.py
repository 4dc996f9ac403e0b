"""Tamper reconciliation: every backup the evidence records as written is still there, or
our retention deleted it.

Each backup package says which objects its records wrote (``include/dr/<asset>/recorded.py``:
DR snapshot copies, DR bucket objects); this module looks for each one. An
object counts as present while it is the current version, so a delete marker written by
hand is a vanished backup. So does every object version an S3 run inside the minimum
retention names: a version deleted permanently would make that run's restore fail.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from include.dr.asset_names import rds_asset
from include.dr.compliance import clauses
from include.dr.compliance.clauses import EvidenceRef, Verdict
from include.dr.compliance.facts import deletions, ref
from include.dr.evidence import EvidenceStore, WrittenObject
from include.dr.git import recorded as git_recorded
from include.dr.policy.model import BackupPolicy
from include.dr.rds import recorded as rds_recorded
from include.dr.s3 import recorded as s3_recorded

if TYPE_CHECKING:
    from types_boto3_rds import RDSClient
    from types_boto3_s3 import S3Client

NAMED = 5  # missing versions named per S3 run; the rest are counted


def reconcile(
    policy: BackupPolicy,
    store: EvidenceStore,
    rds_dr: RDSClient,
    s3_dr: S3Client,
    now: datetime,
) -> Verdict:
    """The tamper clause: each recorded backup present, or deleted by our retention."""
    deleted = {backup for backup, *_ in deletions(store)}
    written = [
        *rds_recorded.written_objects(store),
        *s3_recorded.written_objects(store),
        *git_recorded.written_objects(store),
    ]
    ours = {rds_asset(asset.instance) for asset in policy.assets.rds}
    written = [w for w in written if w.kind != "snapshot" or w.record.asset in ours]
    listing = DrListing(s3_dr)
    present = present_snapshots(rds_dr, policy) | {
        w.name for w in written if is_present(w, listing)
    }
    # Retention deletes a whole dated folder: every object in it goes with it.
    deleted |= {
        w.name for w in written if w.kind == "object" and w.key.rsplit("/", 1)[0] + "/" in deleted
    }
    recorded = [(w.name, ref(w.record)) for w in written]
    since = now - timedelta(days=policy.retention.minimum_days)
    recorded += missing_versions(store, s3_dr, listing, deleted, since)
    return clauses.tamper(unique(recorded), present, deleted)


def present_snapshots(rds_dr: RDSClient, policy: BackupPolicy) -> set[str]:
    """The DR snapshot ids of the policy's instances, as the DR region lists them now."""
    found: set[str] = set()
    for asset in policy.assets.rds:
        pages = rds_dr.get_paginator("describe_db_snapshots").paginate(
            DBInstanceIdentifier=asset.instance
        )
        try:
            found |= {
                str(s.get("DBSnapshotIdentifier"))
                for page in pages
                for s in page.get("DBSnapshots", [])
            }
        except ClientError:  # the instance's snapshots cannot be listed: none is present
            continue
    return found


def is_present(written: WrittenObject, listing: DrListing) -> bool:
    """An object is the current version under its key (a snapshot is looked for by
    :func:`present_snapshots`)."""
    if written.kind == "object":
        folder = written.key.rsplit("/", 2)[0] + "/"
        return written.key in listing.keys(written.location, folder)
    return False


def missing_versions(
    store: EvidenceStore,
    s3: S3Client,
    listing: DrListing,
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
    for bucket, folder, record in s3_recorded.recorded_runs(store):
        if record.recorded_at < since:
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
        for entry in damage.missing[:NAMED]:
            version = entry.get("dr_version_id") or f"written {entry.get('dr_modified')}"
            found.append((f"s3://{bucket}/{entry['key']} version {version}", ref(record)))
        if len(damage.missing) > NAMED:
            more = len(damage.missing) - NAMED
            found.append((f"{more} more version(s) named by s3://{bucket}/{folder}", ref(record)))
    return found


class DrListing:
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


def unique(recorded: Iterable[tuple[str, EvidenceRef]]) -> list[tuple[str, EvidenceRef]]:
    """Each backup once (its first record), sorted by name."""
    seen: dict[str, EvidenceRef] = {}
    for backup, where in recorded:
        seen.setdefault(backup, where)
    return sorted(seen.items())
