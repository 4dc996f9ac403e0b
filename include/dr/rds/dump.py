"""The logical dump: ``mysqldump`` streamed, gzip-compressed and uploaded in parts.

The dump is the portable copy: it restores outside RDS, and it is what the
restore test loads on the local stack. It is never held whole in memory or on
disk: the dump's output is compressed as it arrives and each 8 MiB of
compressed bytes is sent as one part of an S3 multipart upload encrypted with
the DR key. Only a dump that ``mysqldump`` finished (exit status 0 and its
closing ``-- Dump completed`` line) is completed into an object; anything else
aborts the upload, so no partial object can be taken for a backup.

The password reaches ``mysqldump`` through a private options file, never the
command line or the environment.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
import threading
import time
import zlib
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from queue import Queue
from typing import IO, Any

PART_SIZE = 8 * 1024 * 1024
READ_SIZE = 1024 * 1024
READ_AHEAD_CHUNKS = 16
UPLOADS_IN_FLIGHT = 2
COMPLETION_MARK = b"-- Dump completed"


class DumpFailed(RuntimeError):
    """mysqldump did not finish; the upload was aborted and nothing was stored."""


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
    for name in ("mariadb-dump", "mysqldump"):
        found = shutil.which(name)
        if found:
            return found
    raise DumpFailed(
        "neither mariadb-dump nor mysqldump is installed; install the MariaDB or MySQL "
        "client (Debian: apt-get install mariadb-client; the image gets it from packages.txt)"
    )


def connection_settings(conn_id: str) -> dict[str, Any]:
    """An Airflow MySQL connection, as :func:`options_file` and the clients need it."""
    from airflow.providers.mysql.hooks.mysql import MySqlHook

    conn = MySqlHook.get_connection(conn_id)
    return {
        "host": conn.host,
        "port": conn.port,
        "login": conn.login,
        "password": conn.password,
        "extra": conn.extra_dejson,
    }


def options_file(folder: Path, connection: Mapping[str, Any]) -> Path:
    """A ``[client]`` options file readable only by us, with the TLS settings the
    connection asks for (extra ``ssl``: ``ca``, ``cert``, ``key``)."""
    lines = [
        "[client]",
        f"host={connection['host']}",
        f"port={int(connection.get('port') or 3306)}",
        f"user={connection['login']}",
        f"password={connection.get('password') or ''}",
    ]
    ssl = (connection.get("extra") or {}).get("ssl") or {}
    for option in ("ca", "cert", "key"):
        if ssl.get(option):
            lines.append(f"ssl-{option}={ssl[option]}")
    if ssl:
        # MariaDB and MySQL clients name certificate checking differently; loose- skips
        # the option a client does not know.
        lines += ["loose-ssl-verify-server-cert", "loose-ssl-mode=VERIFY_IDENTITY"]
    path = folder / "client.cnf"
    path.touch(mode=0o600)
    path.write_text("\n".join(lines) + "\n")
    return path


def dump_command(binary: str, options: Path, database: str) -> list[str]:
    return [
        binary,
        f"--defaults-extra-file={options}",
        "--single-transaction",  # one consistent snapshot, no table locks (InnoDB)
        "--quick",
        "--skip-lock-tables",
        "--no-tablespaces",
        "--hex-blob",
        "--triggers",
        database,
    ]


def stream_dump(
    s3: Any,
    *,
    connection: Mapping[str, Any],
    database: str,
    bucket: str,
    key: str,
    kms_key_arn: str,
    tags: str,
    part_size: int = PART_SIZE,
    command: list[str] | None = None,
) -> DumpResult:
    """Dump ``database`` into ``s3://bucket/key`` (gzip, SSE-KMS); abort on any failure."""
    started = time.monotonic()
    upload = s3.create_multipart_upload(
        Bucket=bucket,
        Key=key,
        ContentType="application/gzip",
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=kms_key_arn,
        Tagging=tags,
    )
    upload_id = upload["UploadId"]
    try:
        with tempfile.TemporaryDirectory(prefix="dump-") as folder:
            argv = command or dump_command(
                dump_binary(), options_file(Path(folder), connection), database
            )
            result = _pump(s3, bucket, key, upload_id, argv, Path(folder), part_size)
    except BaseException:
        s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        raise
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
    s3: Any, bucket: str, key: str, upload_id: str, argv: list[str], folder: Path, part_size: int
) -> dict[str, Any]:
    """Three stages overlap: a thread reads the dump, this thread compresses, a pool uploads.

    Each hand-over is bounded (the read queue, the parts in flight), so memory stays at a
    few parts whatever the database's size.
    """
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
        (folder / "stderr").open("w+b") as stderr,
        ThreadPoolExecutor(UPLOADS_IN_FLIGHT, thread_name_prefix="dump-upload") as pool,
    ):
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=stderr)  # noqa: S603
        chunks = _read_ahead(process.stdout)  # type: ignore[arg-type]
        try:
            for chunk in chunks:
                raw += len(chunk)
                tail = (tail + chunk)[-512:]
                buffer += compressor.compress(chunk)
                while len(buffer) >= part_size:
                    send(pool, bytes(buffer[:part_size]))
                    del buffer[:part_size]
            status = process.wait()
            stderr.seek(0)
            message = stderr.read()[-2000:].decode(errors="replace").strip()
            if status != 0:
                raise DumpFailed(
                    f"mysqldump exited with status {status}: {message or 'no message'}"
                )
            if COMPLETION_MARK not in tail:
                raise DumpFailed("mysqldump ended without its '-- Dump completed' line; it is cut")
            buffer += compressor.flush()
            send(pool, bytes(buffer))
            parts = [future.result() for future in uploads]
        except BaseException:
            process.kill()
            process.wait()
            for future in uploads:
                future.cancel()
            raise
    return {
        "bytes_raw": raw,
        "bytes_compressed": compressed,
        "sha256": digest.hexdigest(),
        "parts": parts,
    }


def _read_ahead(stream: IO[bytes]) -> Iterator[bytes]:
    """Chunks of ``stream``, read by a thread into a bounded queue so reading never waits
    on compression (and the dump never stalls on a full pipe)."""
    queue: Queue[bytes | BaseException | None] = Queue(maxsize=READ_AHEAD_CHUNKS)

    def reader() -> None:
        try:
            while chunk := stream.read(READ_SIZE):
                queue.put(chunk)
            queue.put(None)
        except BaseException as exc:  # handed to the consumer
            queue.put(exc)

    threading.Thread(target=reader, name="dump-reader", daemon=True).start()
    while (item := queue.get()) is not None:
        if isinstance(item, BaseException):
            raise item
        yield item
