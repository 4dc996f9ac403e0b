"""A manifest of the live database, taken just before the snapshot.

For each table: its columns and types, primary key, row count and a content
checksum. The annual restore test checks restored data against it. The
checksum is computed by the server (``BIT_XOR`` and ``SUM`` of a ``CRC32`` per
row) so no rows cross the network, and it does not depend on row order. It
compares data on the same engine family (MariaDB with MariaDB, MySQL with
MySQL): the engines may print some types differently.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

MANIFEST_VERSION = 1


def quote(identifier: str) -> str:
    """A MySQL identifier quoted with backticks; names come from information_schema."""
    return "`" + identifier.replace("`", "``") + "`"


def checksum_sql(database: str, table: str, columns: list[str]) -> str:
    """SQL that returns (rows, xor, sum) over a canonical text form of every row."""
    fields = ", ".join(f"IFNULL(CAST({quote(c)} AS CHAR), CHAR(0))" for c in columns)
    row = f"CRC32(CONCAT_WS(CHAR(31), {fields}))"
    return (
        f"SELECT COUNT(*), COALESCE(BIT_XOR({row}), 0), COALESCE(SUM({row}), 0) "
        f"FROM {quote(database)}.{quote(table)}"
    )


def take_manifest(connection: Any, database: str) -> dict[str, Any]:
    """Describe every base table of ``database`` through a DB-API connection.

    All tables are read in one consistent snapshot, so the counts and checksums
    describe a single moment, as the dump's ``--single-transaction`` does.
    """
    cursor = connection.cursor()
    cursor.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
    cursor.execute(
        "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_KEY "
        "FROM information_schema.COLUMNS c JOIN information_schema.TABLES t "
        "USING (TABLE_SCHEMA, TABLE_NAME) "
        "WHERE TABLE_SCHEMA = %s AND t.TABLE_TYPE = 'BASE TABLE' "
        "ORDER BY TABLE_NAME, ORDINAL_POSITION",
        (database,),
    )
    tables: dict[str, dict[str, Any]] = {}
    for table, column, column_type, nullable, key in cursor.fetchall():
        entry = tables.setdefault(table, {"columns": [], "primary_key": []})
        entry["columns"].append(
            {"name": column, "type": column_type, "nullable": nullable == "YES"}
        )
        if key == "PRI":
            entry["primary_key"].append(column)
    if not tables:
        raise ValueError(
            f"database {database!r} has no tables the backup user can see; check "
            "assets.rds[].database in the policy file and the user's SELECT grant"
        )
    for table, entry in tables.items():
        cursor.execute(checksum_sql(database, table, [c["name"] for c in entry["columns"]]))
        rows, xor, total = cursor.fetchone()
        entry["row_count"] = int(rows)
        entry["checksum"] = f"{int(xor):08x}-{int(total):x}"
    cursor.close()
    connection.rollback()
    return {
        "manifest_version": MANIFEST_VERSION,
        "database": database,
        "taken_at": datetime.now(UTC).isoformat(),
        "tables": tables,
    }


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return json.dumps(manifest, indent=2, sort_keys=True).encode()
