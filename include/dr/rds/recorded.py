"""What the RDS backup's evidence says it wrote: each passed run's DR snapshot copy, and in
the DR bucket its dump, the dump's manifest and the snapshot's manifest (runs before the
two manifests recorded one, as ``manifest``). Tamper reconciliation checks each is still
there."""

from __future__ import annotations

from include.dr.evidence import EvidenceStore, WrittenObject

EVIDENCE_KIND = "rds_backup"


def written_objects(store: EvidenceStore) -> list[WrittenObject]:
    """Every DR snapshot copy (by id) and DR bucket object (bucket, key, version) a passed
    RDS backup run recorded writing, oldest run first."""
    found: list[WrittenObject] = []
    for record in store.read(EVIDENCE_KIND):
        if record.outcome != "pass":
            continue
        details = record.details
        copy = details.get("copy") or {}
        if copy.get("id"):
            found.append(WrittenObject("snapshot", str(copy["id"]), record))
        bucket = details.get("dr_bucket")
        dump = details.get("dump") or {}
        parts = (dump, dump.get("manifest"), details.get("snapshot_manifest"))
        for written in (*parts, details.get("manifest")) if bucket else ():
            written = written or {}
            if written.get("key"):
                version = written.get("version_id")
                found.append(
                    WrittenObject(
                        "object",
                        str(bucket),
                        record,
                        str(written["key"]),
                        str(version) if version else None,
                    )
                )
    return found
