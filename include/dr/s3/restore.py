"""Restoring a bucket, or a prefix of it, as it was at a chosen time.

"As it was at T" is the newest backup day whose run summary (``run.json``) was
written at or before T. That day's manifests name, for every object it held,
the DR version to read: its ``dr_version_id`` when the object was copied that
day, or the version whose LastModified is its ``dr_modified`` when it was
unchanged. Objects the manifests mark *deleted at source* were gone by then
and are not restored.

Each object is copied server-side from its DR version to
``<target_prefix><key>`` in the target bucket, with the target region's policy
key where the policy names one. Nothing at the target is ever deleted. An
existing object is replaced only in a versioned bucket (the old one stays a
noncurrent version); in an unversioned bucket it is left alone and reported.
"""

from __future__ import annotations

import gzip
import json
import re
import threading
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from include.dr.checks import error_code
from include.dr.policy.model import BackupPolicy
from include.dr.restores import parse_instant, refuse
from include.dr.s3.backup import manifest_prefix

MANIFESTS = ".backup/manifests/"
_BUCKET = re.compile(r"(?!xn--)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
SAMPLE = 20
THREADS = 16
ATTEMPTS = 3


@dataclass(frozen=True)
class RestoreObject:
    key: str
    size: int
    version_id: str
    sha256: str | None


@dataclass
class RestoreResult:
    planned: int = 0
    bytes_planned: int = 0
    copied: int = 0
    bytes_copied: int = 0
    kept_existing: list[str] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)
    sample: list[str] = field(default_factory=list)


def validate_request(
    params: Mapping[str, Any], policy: BackupPolicy, now: datetime
) -> dict[str, Any]:
    """The request, normalised; refuses by field. Buckets are checked against AWS later."""
    sources = {asset.source: asset for asset in policy.assets.s3}
    source = str(params.get("source_bucket") or "")
    if source not in sources:
        refuse(
            "source_bucket",
            f"{source!r} is not a bucket the policy backs up",
            f"Choose one of: {', '.join(sorted(sources))}.",
        )
    asset = sources[source]
    prefix = _key_prefix("prefix", params.get("prefix"))
    target_prefix = _key_prefix("target_prefix", params.get("target_prefix"))
    as_of = parse_instant("as_of", params.get("as_of"), now)
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
    if production and str(params.get("confirm_production_bucket") or "") != target:
        refuse(
            "confirm_production_bucket",
            f"the target s3://{target} is a production bucket",
            f"To restore into it, type '{target}' here (nothing there is deleted).",
        )
    return {
        "source_bucket": source,
        "dr_bucket": asset.dr_bucket,
        "prefix": prefix,
        "as_of": as_of.isoformat(),
        "target_bucket": target,
        "target_prefix": target_prefix,
        "production_target": production,
        "dry_run": params.get("dry_run") is not False,
    }


def check_buckets(request: Mapping[str, Any], target_s3: Any) -> dict[str, Any]:
    """The target exists; whether it is versioned decides if existing objects are replaced."""
    bucket = request["target_bucket"]
    try:
        target_s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        refuse(
            "target_bucket",
            f"s3://{bucket} cannot be used ({error_code(exc)})",
            "Create the bucket first, or give one this connection can write to.",
        )
    versioning = target_s3.get_bucket_versioning(Bucket=bucket).get("Status") == "Enabled"
    return {**request, "target_versioned": versioning}


def choose_backup(dr_s3: Any, request: Mapping[str, Any]) -> dict[str, Any]:
    """The newest backup day finished at or before ``as_of``; refused when there is none."""
    source = request["source_bucket"]
    days = finished_days(dr_s3, request["dr_bucket"], source)
    as_of = datetime.fromisoformat(request["as_of"])
    eligible = [(day, at) for day, at in days if at <= as_of]
    if not eligible:
        earliest = f"the earliest finished {days[0][1].isoformat()}" if days else "none exists"
        refuse(
            "as_of",
            f"no backup of s3://{source} had finished by {as_of.isoformat()} ({earliest})",
            "Choose a later time.",
        )
    day, finished = eligible[-1]
    return {**request, "backup_day": day, "backup_finished_at": finished.isoformat()}


def finished_days(dr_s3: Any, dr_bucket: str, source: str) -> list[tuple[str, datetime]]:
    """Each backed-up day with when its run summary was written, oldest first."""
    prefix = f"{MANIFESTS}{source}/"
    pages = dr_s3.get_paginator("list_objects_v2").paginate(Bucket=dr_bucket, Prefix=prefix)
    days = [
        (item["Key"][len(prefix) :].split("/", 1)[0], item["LastModified"])
        for page in pages
        for item in page.get("Contents", [])
        if item["Key"].endswith("/run.json")
    ]
    return sorted(days, key=lambda pair: pair[1])


def objects_as_of(dr_s3: Any, plan: Mapping[str, Any]) -> Iterator[RestoreObject]:
    """The DR versions that make up the prefix on the chosen day, key by key."""
    bucket, prefix = plan["dr_bucket"], plan["prefix"]
    folder = manifest_prefix(plan["source_bucket"], plan["backup_day"])
    versions = _versions_by_time(dr_s3, bucket, prefix)
    pages = dr_s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=folder)
    for item in (i for page in pages for i in page.get("Contents", [])):
        if not item["Key"].endswith(".jsonl.gz"):
            continue
        body = dr_s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
        for line in gzip.decompress(body).splitlines():
            entry = json.loads(line)
            if not entry["key"].startswith(prefix) or entry["state"] == "deleted_at_source":
                continue
            version = entry["dr_version_id"] or versions.get((entry["key"], entry["dr_modified"]))
            if version is None:
                raise LookupError(
                    f"s3://{bucket}/{entry['key']}: no DR version from {entry['dr_modified']}; "
                    "the DR bucket's lifecycle may have expired it"
                )
            yield RestoreObject(entry["key"], int(entry["size"]), version, entry.get("sha256"))


def _versions_by_time(dr_s3: Any, bucket: str, prefix: str) -> dict[tuple[str, str], str]:
    pages = dr_s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix)
    return {
        (version["Key"], version["LastModified"].isoformat()): version["VersionId"]
        for page in pages
        for version in page.get("Versions", [])
        if not version["Key"].startswith(MANIFESTS)
    }


def restore_objects(
    dr_s3: Any, target_s3: Any, plan: Mapping[str, Any], encryption: Mapping[str, str]
) -> RestoreResult:
    """Copy every object of the plan with a bounded pool (in a dry run, only count them)."""
    result = RestoreResult()
    lock = threading.Lock()

    def one(obj: RestoreObject) -> None:
        outcome = _restore_one(dr_s3, target_s3, plan, obj, encryption)
        with lock:
            if outcome == "copied":
                result.copied += 1
                result.bytes_copied += obj.size
            elif outcome == "kept":
                result.kept_existing.append(obj.key)
            else:
                result.failures.append({"key": obj.key, "error": outcome})

    pending: set[Future[None]] = set()
    with ThreadPoolExecutor(THREADS, thread_name_prefix="s3-restore") as pool:
        for obj in objects_as_of(dr_s3, plan):
            result.planned += 1
            result.bytes_planned += obj.size
            if len(result.sample) < SAMPLE:
                result.sample.append(obj.key)
            if plan["dry_run"]:
                continue
            if len(pending) >= 2 * THREADS:
                _, pending = wait(pending, return_when=FIRST_COMPLETED)
            pending.add(pool.submit(one, obj))
        wait(pending)
    return result


def _restore_one(
    dr_s3: Any,
    target_s3: Any,
    plan: Mapping[str, Any],
    obj: RestoreObject,
    encryption: Mapping[str, str],
) -> str:
    target_key = plan["target_prefix"] + obj.key
    error = ""
    for attempt in range(ATTEMPTS):
        try:
            if not plan["target_versioned"] and _exists(
                target_s3, plan["target_bucket"], target_key
            ):
                return "kept"
            response = target_s3.copy_object(
                Bucket=plan["target_bucket"],
                Key=target_key,
                CopySource={
                    "Bucket": plan["dr_bucket"],
                    "Key": obj.key,
                    "VersionId": obj.version_id,
                },
                ChecksumAlgorithm="SHA256",
                **encryption,
            )
            checksum = response.get("CopyObjectResult", {}).get("ChecksumSHA256")
            if obj.sha256 and checksum and checksum != obj.sha256:
                raise ValueError(f"SHA-256 {checksum} differs from the backup's {obj.sha256}")
            return "copied"
        except Exception as exc:  # noqa: BLE001 - retried, then reported by key
            error = f"{type(exc).__name__}: {exc}"
            time.sleep(0.2 * 2**attempt)
    return error


def _exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if error_code(exc) in {"404", "NoSuchKey", "NotFound"}:
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


def target_encryption(policy: BackupPolicy, region: str, kms: Any) -> dict[str, str]:
    """SSE-KMS with the policy's key for the target's region; else the bucket's default."""
    if region not in policy.kms_keys:
        return {}
    from include.dr.kms import resolve_key

    arn = resolve_key(kms, policy.kms_key(region), region)
    return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": arn}
