"""The copy engine: back up one partition of a bucket into its DR bucket.

Copies are server-side (``CopyObject``, or ``UploadPartCopy`` above the multipart
threshold), so no object bytes pass through the worker; each lands encrypted
with the DR region's KMS key, with a SHA-256 checksum computed by S3. A thread
pool copies with a bounded number of requests in flight; listing, planning and
the run manifest are streamed, so memory stays flat as the bucket grows.

Every copy is pinned to the source's listed ETag (each part too), so the bytes
copied are the bytes listed. A single copy is verified without an extra request
(the DR bucket's answer must name the DR key); one assembled from parts is read
back with a HEAD. If the source changed since it was listed, the object is copied
as it now is and checked with a HEAD. An object archived at the source (Glacier,
Deep Archive, an Intelligent-Tiering archive tier) cannot be copied until it is
restored there: it is recorded as ``archived_at_source`` and the run goes on. An
object that still fails after retries is named in the result; the caller fails
the run after recording it.
"""

from __future__ import annotations

import gzip
import json
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import IO, Any

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as AwsConnectionError

from include.dr.errors import Permanent, error_code, is_transient
from include.dr.progress import Progress
from include.dr.s3.copying import (
    COPY_OBJECT_LIMIT,
    PREFERRED_PART_SIZE,
    Copied,
    Source,
    copy_version,
    part_size_for,
)
from include.dr.s3.diff import SourceObject, Step, plan_copies
from include.dr.s3.listing import dr_objects, source_objects
from include.dr.s3.partitions import Partition

DEFAULT_THREADS = 32  # real S3 answers a cross-region copy in tens of milliseconds
MULTIPART_THRESHOLD = COPY_OBJECT_LIMIT
MULTIPART_PART_SIZE = PREFERRED_PART_SIZE
ATTEMPTS = 3
# What S3 answers a copy of an object in Glacier, Deep Archive or an archive tier.
ARCHIVED = frozenset({"ObjectNotInActiveTierError", "InvalidObjectState"})
ARCHIVED_NAMED = 20  # archived keys named in the result; the manifest lists every one


def kms_encryption(kms_key_arn: str) -> dict[str, Any]:
    """SSE-KMS with ``kms_key_arn`` and an S3 Bucket Key, for every copy and put: S3 then
    asks KMS for a data key per bucket and key for a while, not once per object, which
    cuts the KMS requests (and their cost and throttling) of a large copy."""
    return {
        "ServerSideEncryption": "aws:kms",
        "SSEKMSKeyId": kms_key_arn,
        "BucketKeyEnabled": True,
    }


class CopyNotVerified(Permanent, ValueError):
    """A copy landed, but not as the backup needs it (its size, key or checksum differs)."""


@dataclass
class PartitionResult:
    listed: int = 0
    copied: int = 0
    unchanged: int = 0
    deleted_at_source: int = 0
    archived_at_source: int = 0  # objects S3 cannot copy until restored at the source
    archived_keys: list[str] = field(default_factory=list)  # the first ARCHIVED_NAMED
    bytes_copied: int = 0
    bytes_listed: int = 0  # the source's current bytes: what a full restore would move
    failures: list[dict[str, Any]] = field(default_factory=list)  # key, error, transient
    manifest_key: str = ""
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {name: value for name, value in vars(self).items() if name != "lock"}

    def add_copy(self, size: int) -> None:
        with self.lock:
            self.copied += 1
            self.bytes_copied += size

    def add_archived(self, key: str) -> None:
        with self.lock:
            self.archived_at_source += 1
            if len(self.archived_keys) < ARCHIVED_NAMED:
                self.archived_keys.append(key)

    def add_failure(self, key: str, error: str, transient: bool = False) -> None:
        with self.lock:
            self.failures.append({"key": key, "error": error, "transient": transient})

    @property
    def only_transient_failures(self) -> bool:
        """Some objects failed, each for a reason a later try may mend (throttling, a server
        error, the network)."""
        return bool(self.failures) and all(f.get("transient") for f in self.failures)


@dataclass(frozen=True)
class CopyTarget:
    source_bucket: str
    dr_bucket: str
    kms_key_arn: str
    threads: int = DEFAULT_THREADS
    multipart_threshold: int = MULTIPART_THRESHOLD
    part_size: int = MULTIPART_PART_SIZE


def back_up_partition(
    source_s3: Any, dr_s3: Any, target: CopyTarget, partition: Partition, manifest_key: str
) -> PartitionResult:
    """Copy what changed in ``partition``; write its manifest; return the counts."""
    started = time.monotonic()
    result = PartitionResult(manifest_key=manifest_key)
    lock = threading.Lock()
    progress = Progress(
        f"backing up s3://{target.source_bucket} ({describe(partition)})", unit="objects"
    )
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024**2) as spool:
        with gzip.GzipFile(fileobj=spool, mode="wb") as manifest:

            def record(entry: dict[str, Any]) -> None:
                line = (json.dumps(entry, sort_keys=True, default=str) + "\n").encode()
                with lock:
                    manifest.write(line)

            with progress:
                _run_plan(source_s3, dr_s3, target, partition, result, record, progress)
        spool.seek(0)
        _store_manifest(dr_s3, target, manifest_key, spool)
    result.seconds = round(time.monotonic() - started, 3)
    return result


def _run_plan(
    source_s3: Any,
    dr_s3: Any,
    target: CopyTarget,
    partition: Partition,
    result: PartitionResult,
    record: Callable[[dict[str, Any]], None],
    progress: Progress,
) -> None:
    """Settle every step: the listing streams, so the total is known once it ends."""
    steps = plan_copies(
        source_objects(source_s3, target.source_bucket, partition),
        dr_objects(dr_s3, target.dr_bucket, partition),
    )
    pending: set[Future[None]] = set()
    steps_seen = 0
    with ThreadPoolExecutor(target.threads, thread_name_prefix="s3-copy") as pool:
        for step in steps:
            steps_seen += 1
            if step.source is not None:
                result.listed += 1
                result.bytes_listed += step.source.size
            if step.action == "unchanged":
                result.unchanged += 1
                record(_entry(step, "unchanged", None))
                progress.advance(1)
            elif step.action == "deleted_at_source":
                result.deleted_at_source += 1
                record(_entry(step, "deleted_at_source", None))
                progress.advance(1)
            else:
                if len(pending) >= 2 * target.threads:
                    _, pending = wait(pending, return_when=FIRST_COMPLETED)
                pending.add(pool.submit(_copy_step, dr_s3, target, step, result, record, progress))
        progress.set_total(steps_seen)
        wait(pending)


def _copy_step(
    dr_s3: Any,
    target: CopyTarget,
    step: Step,
    result: PartitionResult,
    record: Callable[[dict[str, Any]], None],
    progress: Progress,
) -> None:
    assert step.source is not None
    try:
        _copy_with_retries(dr_s3, target, step, result, record, progress)
    finally:
        progress.advance(1)


def _copy_with_retries(
    dr_s3: Any,
    target: CopyTarget,
    step: Step,
    result: PartitionResult,
    record: Callable[[dict[str, Any]], None],
    progress: Progress,
) -> None:
    assert step.source is not None
    error, transient = "", False
    for attempt in range(ATTEMPTS):
        try:
            # A failed attempt may still have copied (its answer was lost): look first.
            landed = _already_copied(dr_s3, target, step.source) if attempt else None
            copied = landed or copy_verified(dr_s3, target, step.source)
        except Exception as exc:  # noqa: BLE001 - every failure is retried, then reported
            if isinstance(exc, ClientError) and error_code(exc) in ARCHIVED:
                record(_entry(step, "archived_at_source", None))  # see the module's doc
                result.add_archived(step.source.key)
                return
            error, transient = f"{type(exc).__name__}: {exc}", _may_mend(exc)
            time.sleep(0.2 * 2**attempt)
            continue
        record(_entry(step, "copied", copied.version_id, copied))
        result.add_copy(step.source.size)
        progress.advance(bytes=step.source.size)
        return
    result.add_failure(step.source.key, error, transient)


def describe(partition: Partition) -> str:
    """A partition as a person reads it: its scope and its first and last folder."""
    scope = partition.scope or "whole bucket"
    if not partition.folders:
        return scope
    first, last = partition.folders[0], partition.folders[-1]
    span = first if first == last else f"{first}..{last}"
    return f"{scope}, {span}" + (" and the scope's own objects" if partition.root else "")


def _may_mend(exc: Exception) -> bool:
    """Whether a later try may copy the object: AWS asked to try again (throttling, a
    server error), or the network failed; not a refusal or a failed verification."""
    if isinstance(exc, ClientError):
        return is_transient(exc)
    return isinstance(exc, AwsConnectionError | HTTPClientError | ConnectionError | TimeoutError)


def _already_copied(dr_s3: Any, target: CopyTarget, source: SourceObject) -> Copied | None:
    """The DR copy an earlier attempt made, if it is complete and current."""
    try:
        head = dr_s3.head_object(Bucket=target.dr_bucket, Key=source.key, ChecksumMode="ENABLED")
    except ClientError:
        return None
    current = (
        head["ContentLength"] == source.size
        and head["LastModified"] >= source.last_modified
        and head.get("SSEKMSKeyId") == target.kms_key_arn
    )
    if not current:
        return None
    if source.size > target.multipart_threshold:
        part_size = part_size_for(source.size, target.part_size)
        return Copied(head.get("VersionId"), head.get("ChecksumSHA256"), "COMPOSITE", part_size)
    return Copied(head.get("VersionId"), head.get("ChecksumSHA256"), "FULL_OBJECT")


def copy_verified(dr_s3: Any, target: CopyTarget, source: SourceObject) -> Copied:
    """Copy one object as it was listed (pinned to its ETag) and prove the copy."""
    try:
        copied = copy_object(dr_s3, target, source.key, source.size, source.etag)
    except ClientError as exc:
        if error_code(exc) not in {"PreconditionFailed", "412"}:
            raise
        # Changed since it was listed: copy what is there now, and check it with a HEAD.
        copied = copy_object(dr_s3, target, source.key, source.size)
        head = dr_s3.head_object(
            Bucket=target.dr_bucket, Key=source.key, VersionId=copied.version_id
        )
        verify_copy(dr_s3, target, source.key, copied.version_id, int(head["ContentLength"]))
        return copied
    if copied.checksum_type == "COMPOSITE":  # assembled from parts: read back what landed
        verify_copy(dr_s3, target, source.key, copied.version_id, source.size)
    elif copied.kms_key_id != target.kms_key_arn:
        raise CopyNotVerified(
            f"s3://{target.dr_bucket}/{source.key}: encrypted with {copied.kms_key_id}, "
            f"not {target.kms_key_arn}"
        )
    return copied


def copy_object(
    dr_s3: Any, target: CopyTarget, key: str, size: int, etag: str | None = None
) -> Copied:
    """Server-side copy of one object into the DR bucket under the DR key (in parts above
    the threshold), pinned to ``etag`` when given."""
    return copy_version(
        dr_s3,
        Source(target.source_bucket, key, size, etag=etag),
        target.dr_bucket,
        key,
        kms_encryption(target.kms_key_arn),
        threshold=target.multipart_threshold,
        part_size=target.part_size,
    )


def verify_copy(dr_s3: Any, target: CopyTarget, key: str, version: str | None, size: int) -> None:
    """The DR copy has the source's size and is encrypted with the DR key."""
    head = dr_s3.head_object(
        Bucket=target.dr_bucket, Key=key, **({"VersionId": version} if version else {})
    )
    problems = []
    if head["ContentLength"] != size:
        problems.append(f"{head['ContentLength']} bytes, the source has {size}")
    if (
        head.get("ServerSideEncryption") != "aws:kms"
        or head.get("SSEKMSKeyId") != target.kms_key_arn
    ):
        problems.append(f"encrypted with {head.get('SSEKMSKeyId')}, not {target.kms_key_arn}")
    if problems:
        raise CopyNotVerified(f"s3://{target.dr_bucket}/{key}: {'; '.join(problems)}")


def _entry(
    step: Step, state: str, version: str | None, copied: Copied | None = None
) -> dict[str, Any]:
    obj = step.source or step.dr
    assert obj is not None
    return {
        "key": step.key,
        "size": obj.size,
        "state": state,
        "dr_version_id": version,
        "sha256": copied.sha256 if copied else None,
        "checksum_type": copied.checksum_type if copied else None,
        "part_size": copied.part_size if copied else None,
        "source_modified": step.source.last_modified.isoformat() if step.source else None,
        # For an object not copied this run: when its current DR copy was made, which names
        # that version among the DR bucket's versions (its id costs a versions listing).
        "dr_modified": step.dr.last_modified.isoformat() if step.dr and state != "copied" else None,
    }


def _store_manifest(dr_s3: Any, target: CopyTarget, key: str, body: IO[bytes]) -> None:
    dr_s3.put_object(
        Bucket=target.dr_bucket,
        Key=key,
        Body=body,
        ContentType="application/x-ndjson",
        ContentEncoding="gzip",
        **kms_encryption(target.kms_key_arn),
    )
