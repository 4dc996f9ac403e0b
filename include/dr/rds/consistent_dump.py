"""The logical dump and its manifest taken at one moment (see :mod:`include.dr.rds.moment`).

Two sessions do it: one holds the fence, the other opens the manifest's snapshot inside
it and then computes the checksums while the dump streams, so the manifest costs no
extra wall-clock time. The manifest is stored before the dump's object is completed:
a dump never exists without the manifest that validates it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from include.dr.progress import Progress
from include.dr.rds.dump import DumpResult, stream_dump
from include.dr.rds.manifest import NoTables, describe_database
from include.dr.rds.moment import (
    FENCE_LIMIT_SECONDS,
    FenceNotTaken,
    base_tables,
    fence,
    open_snapshot,
    write_counters,
)
from include.dr.rds.restored_copy import RestoredCopy

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client


@dataclass(frozen=True)
class MomentDump:
    """The dump, the manifest of its moment, and what fixing that moment cost."""

    result: DumpResult
    manifest: dict[str, Any]
    writes_paused_seconds: float
    counters: dict[str, int]  # the server's write counters at the moment


def dump_at_one_moment(
    connect: Callable[[], Any],
    connection: Mapping[str, Any],
    database: str,
    *,
    s3: S3Client,
    bucket: str,
    key: str,
    kms_key_arn: str,
    tags: str,
    store_manifest: Callable[[dict[str, Any]], None],
    restored_copy: RestoredCopy | None = None,
) -> MomentDump:
    """Dump ``database`` into ``s3://bucket/key`` and describe it at the same moment;
    ``store_manifest`` is called with the manifest before the dump is completed. With a
    ``restored_copy``, the database only counts rows and the copy gives the checksums."""
    locker, reader = connect(), connect()
    try:
        tables = base_tables(reader.cursor(), database)
        if not tables:
            raise NoTables(
                f"database {database!r} has no tables the backup user can see; check "
                "assets.rds[].database in the policy file and the user's SELECT grant"
            )
        guard = threading.Lock()
        with fence(locker.cursor(), database, tables) as held:
            read = reader.cursor()
            moment = open_snapshot(read)
            counters = write_counters(read)
            described = _Describing(read, database, moment, checksums=restored_copy is None)
            expired = threading.Event()

            def expire() -> None:  # the fence may not stand longer than its limit
                with guard:
                    if held.held_seconds is None:
                        expired.set()
                        held.release()

            def snapshot_open() -> None:
                with guard:
                    if expired.is_set():
                        raise FenceNotTaken(
                            f"the dump of {database} did not open its snapshot within "
                            f"{FENCE_LIMIT_SECONDS} s, so it and its manifest may describe "
                            "different moments; nothing was stored, and it is tried again"
                        )
                    held.release()

            def complete() -> None:
                manifest = described.result()
                if restored_copy:
                    manifest = restored_copy.checksums(manifest)
                    described.replace(manifest)
                store_manifest(manifest | {"counters": counters})

            watchdog = threading.Timer(FENCE_LIMIT_SECONDS, expire)
            watchdog.start()
            try:
                result = stream_dump(
                    s3,
                    connection=connection,
                    database=database,
                    bucket=bucket,
                    key=key,
                    kms_key_arn=kms_key_arn,
                    tags=tags,
                    on_snapshot=snapshot_open,
                    before_complete=complete,
                    tee=restored_copy.feed if restored_copy else None,
                    progress=Progress(
                        f"dumping {database} to s3://{bucket}/{key}",
                        total=len(tables),
                        unit="tables",
                    ),
                )
            except BaseException:
                described.stop(locker.cursor(), reader)
                raise
            finally:
                watchdog.cancel()
        manifest = described.result() | {"counters": counters}
        return MomentDump(result, manifest, held.held_seconds or 0.0, counters)
    finally:
        locker.close()
        reader.close()


class _Describing:
    """The manifest, computed in a thread inside the reader's snapshot while the dump
    streams."""

    def __init__(
        self, cursor: Any, database: str, moment: dict[str, Any], *, checksums: bool
    ) -> None:
        self._found: list[dict[str, Any]] = []
        self._failed: list[BaseException] = []

        def run() -> None:
            try:
                self._found.append(describe_database(cursor, database, moment, checksums=checksums))
            except BaseException as exc:  # noqa: BLE001 - raised to the caller in result()
                self._failed.append(exc)

        self._thread = threading.Thread(target=run, name="dump-manifest", daemon=True)
        self._thread.start()

    def result(self) -> dict[str, Any]:
        self._thread.join()
        if self._failed:
            raise self._failed[0]
        return self._found[0]

    def replace(self, manifest: dict[str, Any]) -> None:
        """The manifest completed elsewhere (its checksums from a restored copy)."""
        self._found[0] = manifest

    def stop(self, killer: Any, reader: Any) -> None:
        """The dump failed: stop the checksums (the server's KILL QUERY, which a user may
        send to its own sessions) rather than wait for them."""
        if self._thread.is_alive():
            with contextlib.suppress(Exception):  # the query may just have ended
                killer.execute(f"KILL QUERY {int(reader.thread_id())}")
        self._thread.join()
