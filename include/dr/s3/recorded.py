"""What the S3 backup's evidence says it wrote: each passed run's manifests and summary
(``run.json``) in the DR bucket, and the run folders whose manifests name object versions.
Tamper reconciliation checks each is still there."""

from __future__ import annotations

from typing import NamedTuple

from include.dr.evidence import EvidenceRecord, EvidenceStore, WrittenObject
from include.dr.s3.backup import summary_key

EVIDENCE_KIND = "s3_backup"


class RecordedRun(NamedTuple):
    """A passed S3 run: its DR bucket, its manifest folder, and its evidence."""

    bucket: str
    folder: str
    record: EvidenceRecord


def written_objects(store: EvidenceStore) -> list[WrittenObject]:
    """Every manifest and run summary (bucket, key) a passed S3 backup run recorded writing,
    oldest run first."""
    found: list[WrittenObject] = []
    for record in store.read(EVIDENCE_KIND):
        details = record.details
        if record.outcome != "pass" or not details.get("dr_bucket"):
            continue
        summary = details.get("summary_key") or summary_key(
            str(details["source"]), str(details["day"])
        )
        for key in [*details.get("manifests", []), summary]:
            found.append(WrittenObject("object", str(details["dr_bucket"]), record, str(key)))
    return found


def recorded_runs(store: EvidenceStore) -> list[RecordedRun]:
    """Every passed S3 run that names its run folder, oldest first: the object versions its
    manifests name are what a restore from it copies."""
    found: list[RecordedRun] = []
    for record in store.read(EVIDENCE_KIND):
        folder = str(record.details.get("summary_key", "")).removesuffix("run.json")
        bucket = str(record.details.get("dr_bucket", ""))
        if record.outcome == "pass" and folder and bucket:
            found.append(RecordedRun(bucket, folder, record))
    return found
