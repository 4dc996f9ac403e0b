"""What the git backup's evidence says it wrote: each passed repository's bundle of record
in the DR bucket. Tamper reconciliation checks each is still there. (The copy on the
worker that made it is a cache, so its absence says nothing.)"""

from __future__ import annotations

from include.dr.evidence import EvidenceStore, WrittenObject

EVIDENCE_KIND = "git_backup"


def written_objects(store: EvidenceStore) -> list[WrittenObject]:
    """Every DR copy (bucket, key, version) a passed git backup run recorded writing, oldest
    run first. An empty repository wrote nothing."""
    found: list[WrittenObject] = []
    for record in store.read(EVIDENCE_KIND):
        if record.outcome != "pass":
            continue
        upload = record.details.get("dr_copy") or {}
        if upload.get("key"):
            version = upload.get("version_id")
            found.append(
                WrittenObject(
                    "object",
                    str(upload["bucket"]),
                    record,
                    str(upload["key"]),
                    str(version) if version else None,
                )
            )
    return found
