"""A manifest of the live database: what a restore is checked against.

For each table: its columns and types, primary key, row count and a content
checksum (:mod:`include.dr.rds.checksum`), all read in one consistent snapshot, with
that snapshot's moment. Two are kept per day: the dump's, taken at the dump's own
moment (:mod:`include.dr.rds.moment`), which a logical restore must equal exactly; and
the snapshot's, taken just before the RDS snapshot, which a restored instance is
compared with as far as the writes between them allow.
"""

from __future__ import annotations

import json
from typing import Any

from include.dr.errors import Permanent
from include.dr.rds.checksum import quote, table_checksum
from include.dr.rds.moment import open_snapshot

MANIFEST_VERSION = 1


class NoTables(Permanent):
    """The database holds no table the backup user can see: nothing to back up."""


def take_manifest(connection: Any, database: str, *, checksums: bool = True) -> dict[str, Any]:
    """Describe every base table of ``database`` in one consistent snapshot of its own."""
    cursor = connection.cursor()
    moment = open_snapshot(cursor)
    try:
        return describe_database(cursor, database, moment, checksums=checksums)
    finally:
        cursor.close()
        connection.rollback()


def describe_database(
    cursor: Any, database: str, moment: dict[str, Any], *, checksums: bool = True
) -> dict[str, Any]:
    """Describe every base table of ``database`` through a cursor whose session already
    holds a consistent snapshot (opened at ``moment``), so the counts and checksums
    describe that single moment. Without ``checksums`` only the rows are counted (the
    checksums are then computed elsewhere: :mod:`include.dr.rds.restored_copy`)."""
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
        if checksums:
            columns = [c["name"] for c in entry["columns"]]
            counted = table_checksum(cursor, database, table, columns)
            entry["row_count"], entry["checksum"] = counted.rows, counted.checksum
        else:
            cursor.execute(f"SELECT COUNT(*) FROM {quote(database)}.{quote(table)}")
            entry["row_count"], entry["checksum"] = int(cursor.fetchone()[0]), None
    return {
        "manifest_version": MANIFEST_VERSION,
        "database": database,
        "taken_at": moment["taken_at"],
        "moment": moment,
        "checksums": checksums,
        "tables": tables,
    }


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return json.dumps(manifest, indent=2, sort_keys=True).encode()
