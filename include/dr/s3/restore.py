"""Restoring a bucket, or a prefix of it, as it was at a chosen time.

"As it was at T" is the newest backup run whose summary (``run.json``) was
written at or before T (an empty *as of* means now: the latest run). That run's
manifests name, for every object it held, the DR version to read: its
``dr_version_id`` when the run copied the object, or the version whose
LastModified is its ``dr_modified`` when it was unchanged. Objects the manifests
mark *deleted at source* were gone by then and are not restored.

Before anything is copied, every version the run names is looked up in one
listing of the DR bucket's versions under the prefix. If one is gone (deleted
permanently), nothing is copied: the error names each missing version and says
what can still be restored (the newest earlier run that is whole, and how many
keys of the chosen run are intact). Retrying cannot bring a version back, so it
is not retried.

Each object is copied server-side from its DR version to
``<target_prefix><key>`` in the target bucket (in parts above 5 GiB, keeping its
content type, metadata and tags), encrypted with the target bucket's own default
encryption, as production keeps its data. Nothing at the target is ever deleted. An
existing object is replaced only in a versioned bucket (the old one stays a
noncurrent version); in an unversioned bucket it is left alone and reported.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import re
import threading
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, NoReturn

from botocore.exceptions import ClientError

from include.dr.asset_names import s3_asset
from include.dr.checks import bucket_region
from include.dr.errors import Permanent, error_code, from_client_error, is_not_found, is_transient
from include.dr.policy.model import BackupPolicy
from include.dr.progress import Progress, human_bytes
from include.dr.restores import (
    RESTORE_BUCKET_PREFIX,
    BackupDamaged,
    RestoreIncomplete,
    one_of,
    parse_instant,
    record_restore,
    refuse,
)
from include.dr.run_info import RunInfo
from include.dr.s3.copying import Source, copy_version
from include.dr.s3.engine import CopyNotVerified
from include.dr.s3.layout import MANIFESTS, SUMMARY, manifests_of
from include.dr.s3.plans import CheckedRequest, RestorePlan, RestoreRequest

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client

log = logging.getLogger(__name__)
_BUCKET = re.compile(r"(?!xn--)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
SAMPLE = 20
THREADS = 16
ATTEMPTS = 3
NAMED = 10  # missing versions named in an error; the rest are counted
EARLIER_RUNS = 14  # earlier runs checked for one that is whole


@dataclass(frozen=True)
class RestoreObject:
    key: str
    size: int
    version_id: str
    sha256: str | None
    checksum_type: str | None = None  # FULL_OBJECT, or COMPOSITE over part_size parts
    part_size: int | None = None


@dataclass
class RestoreResult:
    planned: int = 0
    bytes_planned: int = 0
    copied: int = 0
    bytes_copied: int = 0
    kept_existing: list[str] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)
    sample: list[str] = field(default_factory=list)


class NoSuchRun(Permanent):
    """A plan names a day with no finished backup run."""


def validate_request(
    params: Mapping[str, Any], policy: BackupPolicy, now: datetime
) -> RestoreRequest:
    """The request, normalised; refuses by field. Buckets are checked against AWS later."""
    sources = {asset.source: asset for asset in policy.assets.s3}
    source = one_of(
        "source_bucket", params.get("source_bucket"), sources, "a bucket the policy backs up"
    )
    asset = sources[source]
    prefix = _key_prefix("prefix", params.get("prefix"))
    target_prefix = _key_prefix("target_prefix", params.get("target_prefix"))
    raw_as_of = params.get("as_of")
    latest = raw_as_of is None or not str(raw_as_of).strip()  # the form's empty default
    as_of = now if latest else parse_instant("as_of", raw_as_of, now)
    target = str(params.get("target_bucket") or "")
    if not _BUCKET.fullmatch(target) or ".." in target:
        refuse(
            "target_bucket", f"{target!r} is not a bucket name", "Give an existing bucket's name."
        )
    if target in policy.assets.dr_buckets:
        refuse(
            "target_bucket",
            f"s3://{target} is a DR bucket holding backups",
            "Restore into another bucket; backups are never written over.",
        )
    production = target in sources
    if not production and not target.startswith(RESTORE_BUCKET_PREFIX):
        refuse(
            "target_bucket",
            f"s3://{target} is neither a source bucket nor a restore bucket",
            f"Restore into a bucket named {RESTORE_BUCKET_PREFIX}... (the restore operator's "
            "role may write only there), or into the source bucket itself.",
        )
    if production and str(params.get("confirm_production_bucket") or "") != target:
        refuse(
            "confirm_production_bucket",
            f"the target s3://{target} is a production bucket",
            f"To restore into it, type '{target}' here (nothing there is deleted).",
        )
    return RestoreRequest(
        source_bucket=source,
        dr_bucket=asset.dr_bucket,
        prefix=prefix,
        as_of=as_of.isoformat(),
        target_bucket=target,
        target_prefix=target_prefix,
        production_target=production,
        dry_run=params.get("dry_run") is not False,
    )


def plan_restore(request: RestoreRequest, target_s3: S3Client, dr_s3: S3Client) -> RestorePlan:
    """The checked request, with the backup run chosen and the target's region."""
    checked = check_buckets(request, target_s3)
    return choose_backup(dr_s3, checked, bucket_region(target_s3, checked["target_bucket"]))


def check_buckets(request: RestoreRequest, target_s3: S3Client) -> CheckedRequest:
    """The target exists; whether it is versioned decides if existing objects are replaced."""
    bucket = request["target_bucket"]
    try:
        target_s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        if is_transient(exc):  # throttled or a server hiccup: retried, not refused
            raise from_client_error(exc, f"looking at s3://{bucket}") from exc
        refuse(
            "target_bucket",
            f"s3://{bucket} cannot be used ({error_code(exc)})",
            "Create the bucket first, or give one this connection can write to.",
        )
    versioning = target_s3.get_bucket_versioning(Bucket=bucket).get("Status") == "Enabled"
    return CheckedRequest(**request, target_versioned=versioning)


def choose_backup(dr_s3: S3Client, request: CheckedRequest, target_region: str) -> RestorePlan:
    """The newest backup run finished at or before ``as_of``; refused when there is none."""
    source = request["source_bucket"]
    runs = finished_runs(dr_s3, request["dr_bucket"], source)
    as_of = datetime.fromisoformat(request["as_of"])
    eligible = [run for run in runs if run.finished_at <= as_of]
    if not eligible:
        earliest = f"the earliest finished {runs[0].finished_at.isoformat()}" if runs else "none"
        refuse(
            "as_of",
            f"no backup of s3://{source} had finished by {as_of.isoformat()} ({earliest})",
            "Choose a later time.",
        )
    chosen = eligible[-1]
    return RestorePlan(
        **request,
        backup_day=chosen.day,
        backup_run=chosen.folder,
        backup_finished_at=chosen.finished_at.isoformat(),
        target_region=target_region,
    )


@dataclass(frozen=True)
class FinishedRun:
    """One finished backup run of a bucket: its day, its manifest folder, when it finished."""

    day: str
    folder: str
    finished_at: datetime


def finished_runs(dr_s3: S3Client, dr_bucket: str, source: str) -> list[FinishedRun]:
    """Every finished run (a folder holding ``run.json``), oldest first. A summary straight
    in a day's folder is a run from before runs had folders of their own."""
    prefix = manifests_of(source)
    pages = dr_s3.get_paginator("list_objects_v2").paginate(Bucket=dr_bucket, Prefix=prefix)
    runs = [
        FinishedRun(
            item["Key"][len(prefix) :].split("/", 1)[0],
            item["Key"].removesuffix(SUMMARY),
            item["LastModified"],
        )
        for page in pages
        for item in page.get("Contents", [])
        if item["Key"].endswith(f"/{SUMMARY}")
    ]
    return sorted(runs, key=lambda run: (run.finished_at, run.folder))


def finished_days(dr_s3: S3Client, dr_bucket: str, source: str) -> list[tuple[str, datetime]]:
    """Each backed-up day with when its newest run finished, oldest first."""
    newest = {run.day: run.finished_at for run in finished_runs(dr_s3, dr_bucket, source)}
    return sorted(newest.items(), key=lambda pair: pair[1])


def run_folder(dr_s3: S3Client, plan: Mapping[str, Any]) -> str:
    """The plan's run folder; a plan naming only a day reads that day's newest run."""
    if plan.get("backup_run"):
        return str(plan["backup_run"])
    runs = finished_runs(dr_s3, plan["dr_bucket"], plan["source_bucket"])
    of_day = [run for run in runs if run.day == plan["backup_day"]]
    if not of_day:
        raise NoSuchRun(
            f"s3://{plan['dr_bucket']}: no finished backup of s3://{plan['source_bucket']} "
            f"on {plan['backup_day']}"
        )
    return of_day[-1].folder


@dataclass(frozen=True)
class VersionIndex:
    """The DR bucket's object versions under a prefix, from one listing."""

    by_time: dict[tuple[str, str], str]
    ids: set[tuple[str, str]]

    @classmethod
    def list(cls, dr_s3: S3Client, bucket: str, prefix: str) -> VersionIndex:
        pages = dr_s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix)
        versions = [
            version
            for page in pages
            for version in page.get("Versions", [])
            if not version["Key"].startswith(MANIFESTS)
        ]
        return cls(
            {(v["Key"], v["LastModified"].isoformat()): v["VersionId"] for v in versions},
            {(v["Key"], v["VersionId"]) for v in versions},
        )

    def resolve(self, entry: Mapping[str, Any]) -> str | None:
        """The version a manifest entry names, if it still exists."""
        key, version = entry["key"], entry.get("dr_version_id")
        if version:
            return str(version) if (key, version) in self.ids else None
        return self.by_time.get((key, str(entry.get("dr_modified"))))


def manifest_entries(
    dr_s3: S3Client, bucket: str, folder: str, prefix: str
) -> Iterator[dict[str, Any]]:
    """The entries of a run's manifests under ``prefix`` that a restore brings back."""
    pages = dr_s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=folder)
    for item in (i for page in pages for i in page.get("Contents", [])):
        name = item["Key"][len(folder) :]
        if "/" in name or not name.endswith(".jsonl.gz"):  # another run's, in a subfolder
            continue
        body = dr_s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
        for line in gzip.decompress(body).splitlines():
            entry: dict[str, Any] = json.loads(line)
            if entry["key"].startswith(prefix) and entry["state"] != "deleted_at_source":
                yield entry


def objects_as_of(
    dr_s3: S3Client, plan: Mapping[str, Any], index: VersionIndex | None = None
) -> Iterator[RestoreObject]:
    """The DR versions that make up the prefix in the chosen run, key by key."""
    bucket, prefix = plan["dr_bucket"], plan["prefix"]
    index = index or VersionIndex.list(dr_s3, bucket, prefix)
    for entry in manifest_entries(dr_s3, bucket, run_folder(dr_s3, plan), prefix):
        # A version named by id is yielded even if gone: its copy then fails by key (the
        # restore test reports it so); a restore checks every version first.
        version = index.resolve(entry) or entry.get("dr_version_id")
        if version is None:
            raise BackupDamaged(f"s3://{bucket}/{entry['key']}: {_named_version(entry)} is gone")
        yield RestoreObject(
            entry["key"],
            int(entry["size"]),
            version,
            entry.get("sha256"),
            entry.get("checksum_type"),
            entry.get("part_size"),
        )


@dataclass
class RunCheck:
    """Which versions a run names are still in the DR bucket."""

    folder: str
    intact: int = 0
    intact_bytes: int = 0  # what restoring the intact keys moves
    missing: list[dict[str, Any]] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)  # version ids of the keys asked for


def check_run(
    dr_s3: S3Client,
    bucket: str,
    folder: str,
    prefix: str,
    index: VersionIndex,
    ids_of: set[str] | None = None,
) -> RunCheck:
    """Every version the run's manifests name under ``prefix``, looked up in ``index``;
    with ``ids_of``, also the version ids this run recorded for those keys."""
    found = RunCheck(folder)
    for entry in manifest_entries(dr_s3, bucket, folder, prefix):
        if ids_of and entry["key"] in ids_of and entry.get("dr_version_id"):
            found.ids[entry["key"]] = str(entry["dr_version_id"])
        if index.resolve(entry) is None:
            found.missing.append(entry)
        else:
            found.intact += 1
            found.intact_bytes += int(entry.get("size") or 0)
    return found


def check_versions(dr_s3: S3Client, plan: Mapping[str, Any], index: VersionIndex) -> RunCheck:
    """Refuses, before anything is copied, a restore whose run names a version that is gone;
    the error names the versions and what can still be restored. A whole run's check
    counts what the restore will move."""
    bucket, prefix = plan["dr_bucket"], plan["prefix"]
    folder = run_folder(dr_s3, plan)
    found = check_run(dr_s3, bucket, folder, prefix, index)
    if not found.missing:
        return found
    runs = finished_runs(dr_s3, bucket, plan["source_bucket"])
    folders = [run.folder for run in runs]
    earlier = runs[: folders.index(folder)] if folder in folders else []
    unnamed = {e["key"] for e in found.missing if not e.get("dr_version_id")}
    whole = None
    for run in reversed(earlier[-EARLIER_RUNS:]):
        older = check_run(dr_s3, bucket, run.folder, prefix, index, unnamed)
        if not older.missing:
            whole = run
            break
        for entry in found.missing:  # the id of a version named by its time, where known
            if entry["key"] in older.ids and not entry.get("dr_version_id"):
                entry["dr_version_id"] = older.ids[entry["key"]]
    _damaged(bucket, folder, found, whole)


def _damaged(bucket: str, folder: str, found: RunCheck, whole: FinishedRun | None) -> NoReturn:
    named = "; ".join(
        f"s3://{bucket}/{e['key']} ({_named_version(e)})" for e in found.missing[:NAMED]
    )
    more = len(found.missing) - NAMED
    still = (
        f"The newest earlier backup that is whole finished {whole.finished_at.isoformat()} "
        f"(s3://{bucket}/{whole.folder}): restore with as_of at or after that time and before "
        "the damaged one"
        if whole
        else "No earlier backup of the prefix is whole either"
    )
    raise BackupDamaged(
        f"the backup s3://{bucket}/{folder} names {len(found.missing)} object version(s) "
        f"that no longer exist in the DR bucket: {named}"
        + (f" and {more} more" if more > 0 else "")
        + f". {found.intact} key(s) of it are intact. {still}; or restore a prefix that "
        "avoids the missing keys. Nothing was copied."
    )


def _named_version(entry: Mapping[str, Any]) -> str:
    written = f"written {entry['dr_modified']}" if entry.get("dr_modified") else ""
    if entry.get("dr_version_id"):
        return f"version {entry['dr_version_id']}" + (f", {written}" if written else "")
    return f"the version {written}"


def restore_objects(dr_s3: S3Client, target_s3: S3Client, plan: RestorePlan) -> RestoreResult:
    """Copy every object of the plan with a bounded pool (in a dry run, only count them)."""
    result = RestoreResult()
    lock = threading.Lock()

    def one(obj: RestoreObject) -> None:
        outcome = _restore_one(target_s3, plan, obj)
        with lock:
            if outcome == "copied":
                result.copied += 1
                result.bytes_copied += obj.size
            elif outcome == "kept":
                result.kept_existing.append(obj.key)
            else:
                result.failures.append({"key": obj.key, "error": outcome})

    index = VersionIndex.list(dr_s3, plan["dr_bucket"], plan["prefix"])
    # Nothing is half-restored from a damaged backup; the check also counts the work.
    whole = check_versions(dr_s3, plan, index)
    source = f"s3://{plan['source_bucket']}/{plan['prefix']}"
    log.info(
        "%s as of %s: %s object(s), %s (%d bytes) to %s into s3://%s/%s",
        source,
        plan.get("as_of") or "the latest backup",
        f"{whole.intact:,}",
        human_bytes(whole.intact_bytes),
        whole.intact_bytes,
        "count (dry run) rather than copy" if plan["dry_run"] else "copy",
        plan["target_bucket"],
        plan["target_prefix"],
    )
    progress = Progress(
        f"restoring {source} to s3://{plan['target_bucket']}/{plan['target_prefix']}",
        total=whole.intact,
        total_bytes=whole.intact_bytes,
        unit="objects",
    )

    def copy(obj: RestoreObject) -> None:
        try:
            one(obj)
        finally:
            progress.advance(1, obj.size)

    pending: set[Future[None]] = set()
    closing = contextlib.nullcontext() if plan["dry_run"] else progress
    with closing, ThreadPoolExecutor(THREADS, thread_name_prefix="s3-restore") as pool:
        for obj in objects_as_of(dr_s3, plan, index):
            result.planned += 1
            result.bytes_planned += obj.size
            if len(result.sample) < SAMPLE:
                result.sample.append(obj.key)
            if plan["dry_run"]:
                continue
            if len(pending) >= 2 * THREADS:
                _, pending = wait(pending, return_when=FIRST_COMPLETED)
            pending.add(pool.submit(copy, obj))
        wait(pending)
    return result


def _restore_one(target_s3: S3Client, plan: RestorePlan, obj: RestoreObject) -> str:
    """Copy one backed-up version to the target (in parts above 5 GiB), encrypted as the
    target bucket encrypts its own objects: a restore puts production data back as
    production keeps it, never under the backup's key."""
    target_key = plan["target_prefix"] + obj.key
    error = ""
    for attempt in range(ATTEMPTS):
        try:
            if not plan["target_versioned"] and _exists(
                target_s3, plan["target_bucket"], target_key
            ):
                return "kept"
            source = Source(plan["dr_bucket"], obj.key, obj.size, obj.version_id)
            copied = copy_version(target_s3, source, plan["target_bucket"], target_key, {})
            if (
                copied.checksum_type == "FULL_OBJECT"
                and obj.checksum_type != "COMPOSITE"
                and obj.sha256
                and copied.sha256
                and copied.sha256 != obj.sha256
            ):
                raise CopyNotVerified(
                    f"SHA-256 {copied.sha256} differs from the backup's {obj.sha256}"
                )
            return "copied"
        except Exception as exc:  # noqa: BLE001 - retried, then reported by key
            error = f"{type(exc).__name__}: {exc}"
            time.sleep(0.2 * 2**attempt)
    return error


def _exists(s3: S3Client, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if is_not_found(exc):
            return False
        raise
    return True


def _key_prefix(name: str, value: Any) -> str:
    prefix = "" if value is None else str(value)
    if (
        prefix.startswith("/")
        or ".." in prefix.split("/")
        or len(prefix) > 512
        or any(ord(c) < 32 for c in prefix)
        or prefix.startswith(MANIFESTS)
    ):
        refuse(
            name,
            f"{prefix[:80]!r} is not a safe key prefix",
            "Give a prefix without a leading '/', '..' segments or control characters, "
            "e.g. 'invoices/2026/'.",
        )
    return prefix


def restore_and_record(
    policy: BackupPolicy,
    plan: RestorePlan,
    dr_s3: S3Client,
    target_s3: S3Client,
    run: RunInfo,
) -> dict[str, Any]:
    """Restore the plan and record the outcome as restore evidence. A damaged backup (found
    before any copy) and objects that were not restored are recorded, then raised."""
    asset = s3_asset(plan["source_bucket"])
    try:
        result = restore_objects(dr_s3, target_s3, plan)
    except BackupDamaged as exc:
        details = {"step": "checked the backup's versions", **plan, "reason": str(exc)}
        record_restore(run, asset, "fail", details)
        raise
    step = "dry run" if plan["dry_run"] else "restored"
    details = {"step": step, **plan, **asdict(result)}
    record_restore(run, asset, "fail" if result.failures else "pass", details)
    if result.failures:
        raise RestoreIncomplete(
            f"{len(result.failures)} object(s) were not restored: "
            + "; ".join(f"{f['key']} ({f['error']})" for f in result.failures[:10])
        )
    return {k: v for k, v in details.items() if k not in {"sample", "kept_existing"}}
