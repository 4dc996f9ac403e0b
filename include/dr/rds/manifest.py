"""A manifest of the live database, taken just before the snapshot.

For each table: its columns and types, primary key, row count and a content
checksum (:mod:`include.dr.rds.checksum`). A logical restore and the annual
restore test check restored data against it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from include.dr.errors import Permanent
from include.dr.rds.checksum import table_checksum

MANIFEST_VERSION = 1


class NoTables(Permanent):
    """The database holds no table the backup user can see: nothing to back up."""


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
        raise NoTables(
            f"database {database!r} has no tables the backup user can see; check "
            "assets.rds[].database in the policy file and the user's SELECT grant"
        )
    for table, entry in tables.items():
        counted = table_checksum(cursor, database, table, [c["name"] for c in entry["columns"]])
        entry["row_count"], entry["checksum"] = counted.rows, counted.checksum
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
