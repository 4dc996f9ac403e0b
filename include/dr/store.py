"""Where the product keeps what outlives a task: the shared store and the worker's cache.

**The store** holds everything one task writes and another reads (evidence records,
restore-test reports). It is reached through Airflow's ``ObjectStoragePath``, so its
URL picks the backend: ``file://`` under ``.local/`` on the local stack (the default),
``s3://bucket/prefix`` on AWS, with ``BACKUP_STORE_CONN_ID`` naming the connection.
Every worker, the API server (the compliance page) and the restores see the same store.

**The cache** is the worker's own disk (git mirrors, bundles kept near the work). Any
task may find it empty: a new pod, another Celery worker. Nothing in it is the only
copy of anything, and no task reads a cache file another task wrote unless it can
rebuild it (see :mod:`include.dr.git.mirror` and :mod:`include.dr.git.bundle_store`).

Nothing else in the product reads these variables.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from include.dr.errors import Permanent
from include.dr.project import state_dir

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

STORE_URL_ENV = "BACKUP_STORE_URL"
STORE_CONN_ENV = "BACKUP_STORE_CONN_ID"
CACHE_DIR_ENV = "BACKUP_CACHE_DIR"


class AlreadyWritten(Permanent, FileExistsError):
    """A write-once object that exists: another writer (a second worker running the same
    try, or a clock that repeats a name) got there first. Nothing was overwritten."""


def store_url() -> str:
    """The store's URL: ``BACKUP_STORE_URL``, or ``file://`` ``.local/store`` by default."""
    return os.environ.get(STORE_URL_ENV) or f"file://{state_dir() / 'store'}"


def store_bucket() -> str | None:
    """The store's S3 bucket, which the DR buckets' guardrails judge too; ``None`` when
    the store is not on S3."""
    parts = urlsplit(store_url())
    return parts.netloc if parts.scheme == "s3" else None


def store_root() -> ObjectStoragePath:
    """The shared store's root, on the backend its URL names."""
    from airflow.sdk import ObjectStoragePath

    conn_id = os.environ.get(STORE_CONN_ENV) or None
    return ObjectStoragePath(store_url(), conn_id=conn_id)


def cache_dir() -> Path:
    """This worker's cache (git mirrors, bundles near the work): rebuilt when missing."""
    return Path(os.environ.get(CACHE_DIR_ENV) or state_dir() / "cache").resolve()


def create_once(path: ObjectStoragePath, data: bytes) -> None:
    """Write ``data`` at ``path`` only if nothing is there, atomically; else raise
    :class:`AlreadyWritten`.

    On S3 the put carries ``If-None-Match: *``: of two writers one succeeds and the
    other is answered 412, and a reader sees the whole object or none. On a local or
    mounted file system the data goes to a temporary sibling that is then hard-linked
    into place, which fails if the name exists (``link`` never replaces a file).
    """
    if path.protocol in ("file", "local", ""):
        _create_file_once(Path(path.path), data)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.fs.pipe_file(path.path, data, mode="create")  # s3fs: 412 is FileExistsError
    except FileExistsError as exc:
        raise AlreadyWritten(_refusal(path)) from exc


def replace_whole(path: ObjectStoragePath, data: bytes) -> None:
    """Write ``data`` at ``path``, replacing what is there, so a reader sees the old object
    or the new one, never half. Only for what is derived and rebuilt whole (a summary);
    records and backups are written once (:func:`create_once`)."""
    if path.protocol in ("file", "local", ""):
        target = Path(path.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
        temporary.write_bytes(data)
        os.replace(temporary, target)
        return
    path.fs.pipe_file(path.path, data)  # one PUT: S3 replaces an object whole


def _create_file_once(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with temporary.open("xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, target)
        except FileExistsError as exc:
            raise AlreadyWritten(_refusal(target)) from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def _refusal(where: object) -> str:
    return (
        f"{where} was already written by another writer; it is written once and was not "
        "overwritten. Two workers ran the same step: compare the stored copy with this "
        "task's log before re-running it."
    )
