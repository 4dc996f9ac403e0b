"""One moment for the logical dump and the manifest that validates it.

``mysqldump --single-transaction`` reads the database in its own consistent snapshot,
and the manifest (row counts and checksums) is computed in another session. On a
database that is being written to, two snapshots opened a moment apart differ, so a
restore compared with the manifest would report a failure for a good backup.

So both snapshots are opened inside a *fence*: one session holds ``LOCK TABLES ...
READ`` on every base table of the database, which waits for the transactions writing
them to commit and then holds new writes back. While the fence stands, the manifest
session opens its snapshot, and the dump client opens its own; both see the same
committed data. The fence falls as soon as the dump's snapshot is open (its first table
header is in the stream), typically a fraction of a second; the checksums and the dump
then run outside it. Only ``LOCK TABLES`` and ``SELECT`` are needed, which RDS grants
(no ``FLUSH TABLES WITH READ LOCK``, which it does not).

The alternatives were weighed: deriving the manifest from the dump stream would check
the dump against itself, not against the database; matching binlog positions cannot
be had without a global lock on RDS, and two independent snapshots under steady
writes never match. The fence gives exact equality at the price of a short, bounded
pause of writes to this database's tables, recorded in the evidence.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from include.dr.errors import Transient
from include.dr.rds.checksum import quote

# How long the fence waits for transactions writing the tables to finish before giving
# up (retried later: a long transaction is a passing state), and how long it may stand.
LOCK_WAIT_SECONDS = 30
FENCE_LIMIT_SECONDS = 60


class FenceNotTaken(Transient):
    """Writers held the tables longer than the fence waits, or the fence stood too long;
    a later try normally finds a quiet moment."""


@dataclass
class Fence:
    """The lock session and when it went up; :meth:`release` is safe to call twice."""

    cursor: Any
    raised_at: float = field(default_factory=time.monotonic)
    held_seconds: float | None = None

    def release(self) -> None:
        if self.held_seconds is None:
            self.cursor.execute("UNLOCK TABLES")
            self.held_seconds = round(time.monotonic() - self.raised_at, 3)

    def overdue(self) -> bool:
        return self.held_seconds is None and (
            time.monotonic() - self.raised_at > FENCE_LIMIT_SECONDS
        )


def base_tables(cursor: Any, database: str) -> list[str]:
    cursor.execute(
        "SELECT TABLE_NAME FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA = %s AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
        (database,),
    )
    return [str(row[0]) for row in cursor.fetchall()]


@contextmanager
def fence(cursor: Any, database: str, tables: Sequence[str]) -> Iterator[Fence]:
    """Hold writes to ``tables`` back until :meth:`Fence.release` (or the block ends)."""
    cursor.execute(f"SET SESSION lock_wait_timeout = {LOCK_WAIT_SECONDS}")
    listed = ", ".join(f"{quote(database)}.{quote(t)} READ" for t in tables)
    try:
        cursor.execute(f"LOCK TABLES {listed}")
    except Exception as exc:
        if "lock wait timeout" in str(exc).lower():
            raise FenceNotTaken(
                f"transactions writing {database} held its tables for over "
                f"{LOCK_WAIT_SECONDS} s, so the dump's moment could not be fixed; retried later"
            ) from exc
        raise
    held = Fence(cursor)
    try:
        yield held
    finally:
        held.release()


def open_snapshot(cursor: Any) -> dict[str, Any]:
    """Open this session's consistent, read-only snapshot; when it was opened and, where
    the server says, the binlog position it sees (MariaDB reports it per snapshot)."""
    cursor.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
    taken_at = datetime.now(UTC).isoformat()
    cursor.execute("SHOW SESSION STATUS LIKE 'binlog_snapshot_%'")
    status = {str(name): str(value) for name, value in cursor.fetchall()}
    file, position = status.get("Binlog_snapshot_file"), status.get("Binlog_snapshot_position")
    return {
        "taken_at": taken_at,
        "binlog": {"file": file, "position": int(position)} if file and position else None,
    }


def write_counters(cursor: Any) -> dict[str, int]:
    """The server's running counts of rows inserted, deleted and updated (the handler
    counters, which MySQL and MariaDB both keep, for every table of every engine), to
    bound how far two moments differ."""
    cursor.execute(
        "SHOW GLOBAL STATUS WHERE Variable_name IN "
        "('Handler_write', 'Handler_delete', 'Handler_update')"
    )
    return {str(name).lower(): int(value) for name, value in cursor.fetchall()}


def rows_changed_between(before: dict[str, int], after: dict[str, int]) -> int | None:
    """At most how many rows were inserted or deleted between two readings of
    :func:`write_counters` (server-wide, so an upper bound for one database); None when
    the counters went backwards (a restart between them)."""
    keys = ("handler_write", "handler_delete")
    changed = [after.get(k, 0) - before.get(k, 0) for k in keys]
    return None if min(changed) < 0 else sum(changed)
