"""One evidence pack, built, signed, stored once and announced.

The pack's name says its period and its run, so a rerun of the same run finds the pack
the first try stored (and announces it, if that try did not get so far) instead of
making a second one; two writers racing for it get one pack.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, TypedDict

from include.dr.evidence import EvidenceRecord, EvidenceStore
from include.dr.evidence_pack.archive import build_archive, describe
from include.dr.evidence_pack.collect import Period, records_in, reports_for
from include.dr.evidence_pack.request import PackRequest
from include.dr.evidence_pack.signing import Signer
from include.dr.evidence_pack.stored import EVIDENCE_ASSET, EVIDENCE_KIND, pack_name, pack_path
from include.dr.evidence_pack.summary import PackSummary, summarise
from include.dr.policy.model import BackupPolicy
from include.dr.run_info import RunInfo
from include.dr.store import AlreadyWritten, create_once

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

SUMMARY_PDF = "summary.pdf"
SUMMARY_JSON = "summary.json"


class PackInfo(TypedDict):
    """What the announcing record's ``details["pack"]`` holds (and the task returns)."""

    name: str
    sha256: str
    size: int
    period: dict[str, str]
    clauses: list[str]
    signing_key_arn: str
    algorithm: str
    public_key_sha256: str
    manifest_sha256: str
    files: int
    counts: dict[str, int]
    where: str


def period_of(request: PackRequest, policy: BackupPolicy) -> Period:
    return Period(
        date.fromisoformat(request["start"]),
        date.fromisoformat(request["end"]),
        policy.schedule.window.timezone,
    )


def pack_files(
    root: ObjectStoragePath, request: PackRequest, policy: BackupPolicy, now: datetime
) -> tuple[dict[str, bytes], PackSummary]:
    """The files of the pack (path -> bytes) and the summary they were judged into."""
    from include.dr.evidence_pack.pdf import render_pdf

    period = period_of(request, policy)
    records, unreadable = records_in(root, period)
    reports = reports_for(root, records)
    missing = [
        f"{path} (named by a restore test, absent from the store)"
        for path, body in reports.items()
        if body is None
    ]
    summary = summarise(records, period, request["clauses"], policy, now, unreadable + missing)
    files = {stored.path: stored.raw for stored in records}
    files.update({path: body for path, body in reports.items() if body is not None})
    files[SUMMARY_JSON] = (json.dumps(summary, indent=2, sort_keys=True) + "\n").encode()
    files[SUMMARY_PDF] = render_pdf(summary)
    return files, summary


def run_digest(run: RunInfo) -> str:
    return hashlib.sha256(f"{run.dag_id}\n{run.run_id}".encode()).hexdigest()


def counts_of(summary: PackSummary) -> dict[str, int]:
    exceptions: dict[str, int] = {}
    for entry in summary["exceptions"]:
        exceptions[entry["kind"]] = exceptions.get(entry["kind"], 0) + 1
    return {
        "records": summary["records"],
        "restore_tests": len(summary["restore_tests"]),
        "exceptions": len(summary["exceptions"]),
        **{f"exceptions.{kind}": n for kind, n in sorted(exceptions.items())},
        "clauses_failed": sum(c["status"] == "fail" for c in summary["clauses"]),
    }


def build_and_store(
    root: ObjectStoragePath,
    request: PackRequest,
    policy: BackupPolicy,
    signer: Callable[[], Signer],
    run: RunInfo,
    store: EvidenceStore,
    now: datetime,
) -> PackInfo:
    """The run's pack, stored once (an existing one is found, never remade), and its
    announcing record (written once per run)."""
    period = period_of(request, policy)
    name = pack_name(period.start, period.end, run_digest(run))
    path = pack_path(name, root)
    path.fs.invalidate_cache(path.parent.path)
    data = path.read_bytes() if path.exists() else None
    if data is None:
        files, _ = pack_files(root, request, policy, now)
        about = {
            "pack": name,
            "company": policy.company,
            "period": period.as_dict(),
            "clauses": request["clauses"],
            "run": {"dag_id": run.dag_id, "run_id": run.run_id},
        }
        data = build_archive(files, signer(), about)
        try:
            create_once(path, data)
        except AlreadyWritten:
            data = path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        summary: PackSummary = json.loads(archive.read(SUMMARY_JSON))
    info: PackInfo = {
        "name": name,
        **describe(data),  # type: ignore[typeddict-item]
        "period": period.as_dict(),
        "clauses": request["clauses"],
        "counts": counts_of(summary),
        "where": str(path),
    }
    announced = store.get(EVIDENCE_KIND, EVIDENCE_ASSET, run.dag_id, run.run_id)
    if announced is None or announced.details.get("pack", {}).get("name") != name:
        store.write(
            EvidenceRecord(
                kind=EVIDENCE_KIND,
                asset=EVIDENCE_ASSET,
                dag_id=run.dag_id,
                run_id=run.run_id,
                outcome="pass",
                details={"pack": dict(info)},
            )
        )
    return info
