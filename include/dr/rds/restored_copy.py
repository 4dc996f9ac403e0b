"""The dump's checksums computed on a restored copy, not by the database being read.

With ``checksums_on: restored_copy`` in the policy, the database the backup reads (the
primary, or its replica) only counts rows, at the dump's moment; the dump is loaded, as
it streams, into a scratch database on the restore server (``mysql_restore``), and once
that copy's row counts are found equal to the database's, its checksums complete the
manifest. Production then pays a ``COUNT`` per table instead of a ``CRC32`` of every
row; the restore server pays a load of the dump every day, and the dump runs at the
load's pace. What it proves is less, and the README says so: the checksums describe
what the dump restores to, so later restores are checked against this first one, and
the dump's fidelity to the database rests on the equal counts (and on mysqldump).
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from queue import Full, Queue
from typing import Any

from include.dr.errors import Permanent, Transient
from include.dr.rds.checksum import quote
from include.dr.rds.manifest import take_manifest
from include.dr.rds.mysql_client import ClientExit, feeding, find_client, options_file

QUEUED_CHUNKS = 16


class CopyDiffers(Permanent):
    """The restored copy does not hold the rows the database held at the dump's moment:
    the dump does not reproduce the database, so it is not kept."""


class CopyNotLoaded(Transient):
    """The restore server did not take the dump (it went away, or refused a statement)."""


class RestoredCopy:
    """A scratch database on the restore server, fed the dump as it streams."""

    def __init__(
        self, connection: Mapping[str, Any], connect: Callable[[], Any], database: str
    ) -> None:
        self.database, self._connect = database, connect
        self._queue: Queue[bytes | None] = Queue(maxsize=QUEUED_CHUNKS)
        self._ended: list[tuple[ClientExit, BaseException | None]] = []
        self._execute(f"CREATE DATABASE {quote(database)} CHARACTER SET utf8mb4")
        self._folder = tempfile.TemporaryDirectory(prefix="restored-copy-")
        options = options_file(Path(self._folder.name), connection)
        argv = [find_client("mariadb", "mysql"), f"--defaults-extra-file={options}", "--batch"]

        def load() -> None:
            self._ended.append(feeding([*argv, database], self._chunks()))

        self._thread = threading.Thread(target=load, name="restored-copy", daemon=True)
        self._thread.start()

    def feed(self, chunk: bytes) -> None:
        """Hand the loader the next piece of the dump; waits while the server catches up."""
        while True:
            try:
                self._queue.put(chunk, timeout=1)
                return
            except Full:
                if not self._thread.is_alive():
                    raise CopyNotLoaded(self._failure()) from None

    def checksums(self, counted: Mapping[str, Any]) -> dict[str, Any]:
        """End the load; ``counted`` (the database's manifest, rows counted only) with the
        copy's checksums, once the copy holds the same number of rows in every table."""
        self._close_feed()
        ended, failed = self._ended[0]
        if not ended.ok or failed:
            raise CopyNotLoaded(self._failure())
        db = self._connect()
        try:
            copy = take_manifest(db, self.database)
        finally:
            db.close()
        differ = {
            table: (entry["row_count"], copy["tables"].get(table, {}).get("row_count"))
            for table, entry in counted["tables"].items()
            if copy["tables"].get(table, {}).get("row_count") != entry["row_count"]
        }
        if differ:
            raise CopyDiffers(
                "the dump, loaded into the restore server, does not hold the rows the "
                "database held at the dump's moment (table: database rows, restored rows): "
                f"{differ}; it was not kept"
            )
        tables = {
            table: {**entry, "checksum": copy["tables"][table]["checksum"]}
            for table, entry in counted["tables"].items()
        }
        return {**counted, "tables": tables, "checksums": True, "checksums_from": "restored_copy"}

    def drop(self) -> None:
        """Remove the scratch database, whatever happened."""
        self._close_feed()
        self._execute(f"DROP DATABASE IF EXISTS {quote(self.database)}")
        self._folder.cleanup()

    def _chunks(self) -> Iterator[bytes]:
        while (chunk := self._queue.get()) is not None:
            yield chunk

    def _close_feed(self) -> None:
        while self._thread.is_alive():
            try:
                self._queue.put(None, timeout=1)
                break
            except Full:
                continue
        self._thread.join()

    def _failure(self) -> str:
        ended, failed = self._ended[0] if self._ended else (None, None)
        detail = (ended.message[-500:] if ended else "") or repr(failed)
        return f"loading the dump into {self.database} on the restore server failed: {detail}"

    def _execute(self, sql: str) -> None:
        db = self._connect()
        try:
            db.cursor().execute(sql)
        finally:
            db.close()
