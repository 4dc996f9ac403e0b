"""The logical dump: ``mysqldump`` streamed, gzip-compressed and uploaded in parts.

The dump is the portable copy: it restores outside RDS, and it is what the
restore test loads on the local stack. It is never held whole in memory or on
disk: the dump's output is compressed as it arrives and each 8 MiB of
compressed bytes is sent as one part of an S3 multipart upload encrypted with
the DR key. Only a dump that ``mysqldump`` finished (exit status 0 and its
closing ``-- Dump completed`` line) is completed into an object; anything else
aborts the upload, so no partial object can be taken for a backup.

The client runs through :mod:`include.dr.rds.mysql_client` (credentials in a
private options file, never the command line or the environment).
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from include.dr.errors import Transient
from include.dr.progress import Progress
from include.dr.rds.mysql_client import find_client, options_file, reading

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client

PART_SIZE = 8 * 1024 * 1024
UPLOADS_IN_FLIGHT = 2
COMPLETION_MARK = b"-- Dump completed"
# mysqldump opens its snapshot before it writes any table; these open a table's section.
SNAPSHOT_OPEN_MARKS = (b"-- Table structure for table", b"CREATE TABLE")
TABLE_MARK = b"-- Table structure for table"  # one per base table: the dump's progress


class DumpFailed(Transient):
    """mysqldump did not finish (the server went away, the connection dropped); the upload
    was aborted and nothing was stored, so a retry starts the dump again."""


@dataclass(frozen=True)
class DumpResult:
    key: str
    version_id: str | None
    bytes_raw: int
    bytes_compressed: int
    sha256: str
    parts: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def dump_binary() -> str:
    return find_client("mariadb-dump", "mysqldump")


def dump_command(binary: str, options: Path, database: str) -> list[str]:
    """What restores byte for byte into another server: every table, view, trigger,
    routine and event; binary columns as hex; text as utf8mb4; no GTID statements (a
    restore into a server with its own GTID history would be refused). Definers are
    kept as written; see the README on restoring into a server without those users."""
    return [
        binary,
        f"--defaults-extra-file={options}",
        "--single-transaction",  # one consistent snapshot, no table locks (InnoDB)
        "--quick",
        "--skip-lock-tables",
        "--no-tablespaces",
        "--hex-blob",
        "--default-character-set=utf8mb4",
        "--triggers",
        "--routines",
        "--events",
        "--loose-set-gtid-purged=OFF",  # MySQL's client; MariaDB's writes none by default
        database,
    ]


def stream_dump(
    s3: S3Client,
    *,
    connection: Mapping[str, Any],
    database: str,
    bucket: str,
    key: str,
    kms_key_arn: str,
    tags: str,
    part_size: int = PART_SIZE,
    command: list[str] | None = None,
    on_snapshot: Callable[[], None] | None = None,
    before_complete: Callable[[], None] | None = None,
    tee: Callable[[bytes], None] | None = None,
    progress: Progress | None = None,
) -> DumpResult:
    """Dump ``database`` into ``s3://bucket/key`` (gzip, SSE-KMS); abort on any failure.

    ``on_snapshot`` is called once the dump's snapshot is surely open (its first table
    header has arrived); ``before_complete`` once the dump is whole, before the object
    is completed, so what must exist beside a dump exists before the dump does; ``tee``
    is handed every piece of the dump's text as it passes; ``progress`` counts the tables
    begun and the compressed bytes uploaded (one is made if not given)."""
    started = time.monotonic()
    progress = progress or Progress(f"dumping {database} to s3://{bucket}/{key}", unit="tables")
    upload = s3.create_multipart_upload(
        Bucket=bucket,
        Key=key,
        ContentType="application/gzip",
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=kms_key_arn,
        BucketKeyEnabled=True,
        Tagging=tags,
    )
    upload_id = upload["UploadId"]
    try:
        with tempfile.TemporaryDirectory(prefix="dump-") as folder:
            argv = command or dump_command(
                dump_binary(), options_file(Path(folder), connection), database
            )
            result = _pump(s3, bucket, key, upload_id, argv, part_size, on_snapshot, tee, progress)
        if before_complete:
            before_complete()
    except BaseException:
        progress.finish(failed=True)
        s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        raise
    progress.finish()
    parts = result.pop("parts")
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
    )
    return DumpResult(
        key=key,
        version_id=done.get("VersionId"),
        seconds=round(time.monotonic() - started, 3),
        parts=len(parts),
        **result,
    )


def _pump(
    s3: S3Client,
    bucket: str,
    key: str,
    upload_id: str,
    argv: list[str],
    part_size: int,
    on_snapshot: Callable[[], None] | None = None,
    tee: Callable[[bytes], None] | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Three stages overlap: a thread reads the dump, this thread compresses, a pool uploads.

    Each hand-over is bounded (the read queue, the parts in flight), so memory stays at a
    few parts whatever the database's size.
    """
    progress = progress or Progress(f"dumping to s3://{bucket}/{key}", unit="tables")
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: gzip framing
    digest = hashlib.sha256()
    uploads: list[Future[dict[str, Any]]] = []
    in_flight = threading.BoundedSemaphore(UPLOADS_IN_FLIGHT)
    buffer = bytearray()
    raw = compressed = 0
    tail = b""

    def upload(number: int, data: bytes) -> dict[str, Any]:
        try:
            response = s3.upload_part(
                Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data
            )
            progress.advance(bytes=len(data))
            return {"PartNumber": number, "ETag": response["ETag"]}
        finally:
            in_flight.release()

    def send(pool: ThreadPoolExecutor, data: bytes) -> None:
        nonlocal compressed
        digest.update(data)
        compressed += len(data)
        in_flight.acquire()
        uploads.append(pool.submit(upload, len(uploads) + 1, data))

    with (
        ThreadPoolExecutor(UPLOADS_IN_FLIGHT, thread_name_prefix="dump-upload") as pool,
        reading(argv) as output,
    ):
        try:
            for chunk in output.chunks:
                if on_snapshot and any(m in tail + chunk for m in SNAPSHOT_OPEN_MARKS):
                    on_snapshot()
                    on_snapshot = None
                if tee:
                    tee(chunk)
                raw += len(chunk)
                progress.advance((tail + chunk).count(TABLE_MARK) - tail.count(TABLE_MARK))
                tail = (tail + chunk)[-512:]
                buffer += compressor.compress(chunk)
                while len(buffer) >= part_size:
                    send(pool, bytes(buffer[:part_size]))
                    del buffer[:part_size]
            ended = output.finish()
            if on_snapshot:  # a dump with no table still opened its snapshot first
                on_snapshot()
            if not ended.ok:
                raise DumpFailed(
                    f"mysqldump exited with status {ended.status}: {ended.message or 'no message'}"
                )
            if COMPLETION_MARK not in tail:
                raise DumpFailed("mysqldump ended without its '-- Dump completed' line; it is cut")
            buffer += compressor.flush()
            send(pool, bytes(buffer))
            parts = [future.result() for future in uploads]
        except BaseException:
            for future in uploads:
                future.cancel()
            raise
    return {
        "bytes_raw": raw,
        "bytes_compressed": compressed,
        "sha256": digest.hexdigest(),
        "parts": parts,
    }
