"""The S3 part of the restore test: a sample of objects restored from DR versions, each
checked against its size and SHA-256 checksum from backup time, hashed as it streams
(a multi-gigabyte object never sits in memory).

The sample is a fixed share of the keys, chosen by a hash of the key (the same
keys every year, so a year-on-year difference means the data changed), topped up
to a minimum count, and always holding the largest object. It is drawn in one
streamed pass, holding only the sample.
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from botocore.exceptions import ClientError

from include.dr.errors import error_code, from_client_error, is_transient
from include.dr.progress import Progress
from include.dr.s3.copying import Source, copy_version, same_checksum, stream_digests
from include.dr.s3.restore import RestoreObject, objects_as_of

CHUNK = 1024 * 1024  # read a restored object a MiB at a time, whatever its size


def key_rank(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")


def draw_sample(
    objects: Iterable[RestoreObject], percent: float, minimum: int
) -> list[RestoreObject]:
    """``percent`` of the objects by key hash, at least ``minimum``, and the largest."""
    cutoff = percent / 100 * 2**64
    chosen: dict[str, RestoreObject] = {}
    lowest: list[tuple[int, str, RestoreObject]] = []  # a max-heap of the lowest ranks
    largest: RestoreObject | None = None
    for obj in objects:
        rank = key_rank(obj.key)
        if rank < cutoff:
            chosen[obj.key] = obj
        heapq.heappush(lowest, (-rank, obj.key, obj))
        if len(lowest) > minimum:
            heapq.heappop(lowest)
        if largest is None or obj.size > largest.size:
            largest = obj
    for _, key, obj in lowest:
        if len(chosen) >= minimum:
            break
        chosen.setdefault(key, obj)
    if largest is not None:
        chosen[largest.key] = largest
    return sorted(chosen.values(), key=lambda o: o.key)


def check_object(
    dr_s3: Any, dr_bucket: str, obj: RestoreObject, scratch_bucket: str, scratch_key: str
) -> str | None:
    """Restore one DR version into the scratch bucket (in parts above 5 GiB, as a restore
    does) and compare it, hashed as it streams by; the problem, if any."""
    try:
        expected = obj.sha256 or dr_s3.head_object(
            Bucket=dr_bucket, Key=obj.key, VersionId=obj.version_id, ChecksumMode="ENABLED"
        ).get("ChecksumSHA256")
        source = Source(dr_bucket, obj.key, obj.size, obj.version_id)
        copy_version(dr_s3, source, scratch_bucket, scratch_key, {})
        body = dr_s3.get_object(Bucket=scratch_bucket, Key=scratch_key)["Body"]
        counted = _Counted(body.iter_chunks(CHUNK))
        digests = stream_digests(counted, obj.part_size)
    except ClientError as exc:
        if is_transient(exc):  # asking again may restore it: the task is retried
            raise from_client_error(exc, f"restoring {obj.key} from s3://{dr_bucket}") from exc
        return f"could not be restored ({error_code(exc) or 'no answer code'})"
    if counted.size != obj.size:
        return f"{counted.size} bytes restored, the backup recorded {obj.size}"
    if expected and not same_checksum(expected, digests):
        return f"SHA-256 {digests['FULL_OBJECT']} differs from the backup's {expected}"
    return None if expected else "no SHA-256 was recorded for it at backup time"


class _Counted:
    """Chunks passed on as they come, counted: the size without holding the body."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self.chunks, self.size = chunks, 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.size += len(chunk)
            yield chunk


def check_bucket(
    dr_s3: Any, bucket_plan: Mapping[str, Any], scratch_bucket: str, percent: float, minimum: int
) -> dict[str, Any]:
    """The sample of the latest backup day, and one object as of the earliest day."""
    plan = {**bucket_plan, "prefix": ""}
    sample = draw_sample(objects_as_of(dr_s3, plan), percent, minimum)
    prefix = f"{bucket_plan['source_bucket']}/{bucket_plan['backup_day']}/"
    failures = {}
    with Progress(
        f"restore test: restoring a sample of s3://{bucket_plan['source_bucket']}",
        total=len(sample),
        total_bytes=sum(o.size for o in sample),
        unit="objects",
    ) as progress:
        for obj in sample:
            problem = check_object(
                dr_s3, bucket_plan["dr_bucket"], obj, scratch_bucket, prefix + obj.key
            )
            progress.advance(1, obj.size)
            if problem:
                failures[obj.key] = problem
    earlier = None
    if bucket_plan.get("earlier_day"):
        old = {**plan, "backup_day": bucket_plan["earlier_day"]}
        first = next(iter(objects_as_of(dr_s3, old)), None)
        if first is not None:
            key = f"{bucket_plan['source_bucket']}/{old['backup_day']}/{first.key}"
            problem = check_object(dr_s3, bucket_plan["dr_bucket"], first, scratch_bucket, key)
            earlier = {
                "day": old["backup_day"],
                "key": first.key,
                "version_id": first.version_id,
                "problem": problem,
            }
            if problem:
                failures[f"{first.key} (as of {old['backup_day']})"] = problem
    largest = max(sample, key=lambda o: o.size) if sample else None
    return {
        "source_bucket": bucket_plan["source_bucket"],
        "backup_day": bucket_plan["backup_day"],
        "sampled": len(sample),
        "bytes_sampled": sum(o.size for o in sample),
        "largest": {"key": largest.key, "size": largest.size} if largest else None,
        "as_of_earlier_day": earlier,
        "failures": failures,
        "success": not failures and bool(sample),
    }
