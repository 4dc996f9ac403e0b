"""What the git backup's evidence says it wrote: each passed repository's dated bundle in the
local backup store and, where it was uploaded, its copy in the DR bucket. Tamper
reconciliation checks each is still there."""

from __future__ import annotations

from pathlib import Path

from include.dr.evidence import LocalEvidenceStore, WrittenObject
from include.dr.git.bundle import bundle_path

EVIDENCE_KIND = "git_backup"


def written_objects(store: LocalEvidenceStore, bundles: Path) -> list[WrittenObject]:
    """Every bundle (its path under ``bundles``) and DR copy (bucket, key, version) a passed
    git backup run recorded writing, oldest run first. An empty repository wrote nothing."""
    found: list[WrittenObject] = []
    for record in store.read(EVIDENCE_KIND):
        if record.outcome != "pass":
            continue
        bundle = record.details.get("bundle") or {}
        if bundle.get("day"):
            organisation, name = record.asset.split("/")[1:3]
            path = bundle_path(bundles, organisation, name, str(bundle["day"]))
            found.append(WrittenObject("file", str(path), record))
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
