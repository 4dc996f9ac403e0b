"""The table checksum: one format, written into the manifest and compared after a restore.

The server computes it (``BIT_XOR`` and ``SUM`` of a ``CRC32`` per row over a
canonical text form of the row), so no rows cross the network and row order does
not matter. It compares data on the same engine family (MariaDB with MariaDB,
MySQL with MySQL): the engines may print some types differently.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple


class TableChecksum(NamedTuple):
    """A table's row count and content checksum (``<xor:08x>-<sum:x>``)."""

    rows: int
    checksum: str


def quote(identifier: str) -> str:
    """A MySQL identifier quoted with backticks; names come from information_schema."""
    return "`" + identifier.replace("`", "``") + "`"


def checksum_sql(database: str, table: str, columns: Sequence[str]) -> str:
    """SQL that returns (rows, xor, sum) over a canonical text form of every row."""
    fields = ", ".join(f"IFNULL(CAST({quote(c)} AS CHAR), CHAR(0))" for c in columns)
    row = f"CRC32(CONCAT_WS(CHAR(31), {fields}))"
    return (
        f"SELECT COUNT(*), COALESCE(BIT_XOR({row}), 0), COALESCE(SUM({row}), 0) "
        f"FROM {quote(database)}.{quote(table)}"
    )


def checksum_text(xor: int, total: int) -> str:
    """The manifest's checksum format."""
    return f"{int(xor):08x}-{int(total):x}"


def table_checksum(cursor: Any, database: str, table: str, columns: Sequence[str]) -> TableChecksum:
    """Count and checksum ``database.table`` on the server, through a DB-API cursor."""
    cursor.execute(checksum_sql(database, table, columns))
    rows, xor, total = cursor.fetchone()
    return TableChecksum(int(rows), checksum_text(xor, total))
