"""One server-side copy of one object version, whatever its size: what backup, restore
and the restore test's sample share.

``CopyObject`` stops at 5 GiB, so a larger object is copied in parts
(``UploadPartCopy``), each pinned to the version and ETag that was listed, so that
an object overwritten mid-copy fails the copy instead of mixing two versions. A
multipart upload starts empty, so it is given the source's content type, metadata
and tags; ``CopyObject`` carries them itself. Encryption is the caller's: the DR key
for a backup, nothing (the target bucket's own default) for a restore.

Checksums differ by path, and the copy says which it has: ``FULL_OBJECT`` (the
SHA-256 of the whole object, from ``CopyObject``) or ``COMPOSITE`` (the SHA-256 of
the parts' SHA-256 digests, from a multipart upload, with its part size). The
restore test recomputes either by streaming (:func:`stream_digests`).
"""

from __future__ import annotations

import base64
import hashlib
import math
import os
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

COPY_OBJECT_LIMIT = 5 * 1024**3  # CopyObject's limit, and a part's
PREFERRED_PART_SIZE = 512 * 1024**2
MAX_PARTS = 10_000
MiB = 1024**2
ChecksumType = Literal["FULL_OBJECT", "COMPOSITE"]


@dataclass(frozen=True)
class Source:
    """The listed object version to copy: ``etag`` (and ``version_id`` where known) pin it."""

    bucket: str
    key: str
    size: int
    version_id: str | None = None
    etag: str | None = None


@dataclass(frozen=True)
class Copied:
    version_id: str | None
    sha256: str | None
    checksum_type: ChecksumType
    part_size: int | None = None  # a multipart copy's part size: its composite's boundaries
    kms_key_id: str | None = None  # the key S3 says it encrypted the copy with


def multipart_threshold() -> int:
    """Above this size an object is copied in parts: CopyObject's 5 GiB limit, or less where
    ``BACKUP_S3_MULTIPART_THRESHOLD`` says (read at each call: tests and tuning)."""
    return int(os.environ.get("BACKUP_S3_MULTIPART_THRESHOLD") or COPY_OBJECT_LIMIT)


def part_size_for(size: int, preferred: int = PREFERRED_PART_SIZE) -> int:
    """A part size that fits ``size`` in at most 10,000 parts (5 TB takes ~525 MiB parts),
    a whole number of MiB, never over the 5 GiB part limit."""
    needed = max(preferred, math.ceil(size / MAX_PARTS))
    return min(COPY_OBJECT_LIMIT, math.ceil(needed / MiB) * MiB)


def copy_version(
    s3: Any,
    source: Source,
    bucket: str,
    key: str,
    encryption: Mapping[str, Any],
    *,
    threshold: int | None = None,
    part_size: int = PREFERRED_PART_SIZE,
) -> Copied:
    """Copy ``source`` to ``bucket``/``key`` server-side, in one request up to
    ``threshold`` bytes (:func:`multipart_threshold` by default) and in parts above it."""
    threshold = multipart_threshold() if threshold is None else threshold
    copy_source = {"Bucket": source.bucket, "Key": source.key} | (
        {"VersionId": source.version_id} if source.version_id else {}
    )
    pin = {"CopySourceIfMatch": source.etag} if source.etag else {}
    if source.size <= threshold:
        response = s3.copy_object(
            Bucket=bucket,
            Key=key,
            CopySource=copy_source,
            ChecksumAlgorithm="SHA256",
            **encryption,
            **pin,
        )
        checksum = response.get("CopyObjectResult", {}).get("ChecksumSHA256")
        return Copied(
            response.get("VersionId"),
            checksum,
            "FULL_OBJECT",
            kms_key_id=response.get("SSEKMSKeyId"),
        )
    size_of_part = part_size_for(source.size, part_size)
    upload = s3.create_multipart_upload(
        Bucket=bucket,
        Key=key,
        ChecksumAlgorithm="SHA256",
        **_kept_attributes(s3, source),
        **encryption,
    )
    try:
        parts = [
            _part(s3, bucket, key, upload["UploadId"], number, copy_source, pin, byte_range)
            for number, byte_range in enumerate(_ranges(source.size, size_of_part), start=1)
        ]
        done = s3.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload["UploadId"], MultipartUpload={"Parts": parts}
        )
    except BaseException:
        s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload["UploadId"])
        raise
    return Copied(
        done.get("VersionId"),
        done.get("ChecksumSHA256"),
        "COMPOSITE",
        size_of_part,
        done.get("SSEKMSKeyId"),
    )


def _ranges(size: int, part_size: int) -> Iterable[str]:
    for start in range(0, size, part_size):
        yield f"bytes={start}-{min(start + part_size, size) - 1}"


def _part(
    s3: Any,
    bucket: str,
    key: str,
    upload_id: str,
    number: int,
    copy_source: dict[str, str],
    pin: dict[str, str],
    byte_range: str,
) -> dict[str, Any]:
    part = s3.upload_part_copy(
        Bucket=bucket,
        Key=key,
        UploadId=upload_id,
        PartNumber=number,
        CopySource=copy_source,
        CopySourceRange=byte_range,
        **pin,
    )["CopyPartResult"]
    checksum = {"ChecksumSHA256": part["ChecksumSHA256"]} if part.get("ChecksumSHA256") else {}
    return {"PartNumber": number, "ETag": part["ETag"]} | checksum


def _kept_attributes(s3: Any, source: Source) -> dict[str, Any]:
    """What a multipart copy must be told to keep: content type and headers, user
    metadata and tags (``CopyObject`` copies them by itself)."""
    version = {"VersionId": source.version_id} if source.version_id else {}
    head = s3.head_object(Bucket=source.bucket, Key=source.key, **version)
    kept: dict[str, Any] = {"Metadata": head.get("Metadata", {})}
    for header in ("ContentType", "ContentEncoding", "ContentDisposition", "CacheControl"):
        if head.get(header):
            kept[header] = head[header]
    tags = s3.get_object_tagging(Bucket=source.bucket, Key=source.key, **version)["TagSet"]
    if tags:
        kept["Tagging"] = urllib.parse.urlencode({t["Key"]: t["Value"] for t in tags})
    return kept


def stream_digests(chunks: Iterable[bytes], part_size: int | None) -> dict[ChecksumType, str]:
    """The object's SHA-256 both ways, from one streamed read (memory stays one chunk):
    whole (``FULL_OBJECT``) and, given the part size, over the parts (``COMPOSITE``, as
    S3 computes it for a multipart upload; its ``-N`` suffix left off)."""
    whole = hashlib.sha256()
    parts: list[bytes] = []
    part, filled = hashlib.sha256(), 0
    for chunk in chunks:
        whole.update(chunk)
        while part_size and chunk:
            take = chunk[: part_size - filled]
            part.update(take)
            filled += len(take)
            chunk = chunk[len(take) :]
            if filled == part_size:
                parts.append(part.digest())
                part, filled = hashlib.sha256(), 0
    found: dict[ChecksumType, str] = {"FULL_OBJECT": base64.b64encode(whole.digest()).decode()}
    if part_size:
        if filled:
            parts.append(part.digest())
        composite = hashlib.sha256(b"".join(parts)).digest()
        found["COMPOSITE"] = base64.b64encode(composite).decode()
    return found


def same_checksum(recorded: str, found: Mapping[ChecksumType, str]) -> bool:
    """Whether a recorded checksum (full, or composite with or without ``-N``) matches."""
    return recorded.split("-", 1)[0] in found.values()
