"""Checksums from a restored copy: taken only when the copy holds the database's rows,
and the scratch database never left behind."""

from __future__ import annotations

import uuid

import pytest

from include.dr.rds.checksum import checksum_sql, checksum_text
from include.dr.rds.mysql_client import connection_settings
from include.dr.rds.restored_copy import CopyDiffers, CopyNotLoaded, RestoredCopy
from include.dr.rds.transport import open_mysql

pytestmark = pytest.mark.usefixtures("local_stack")
DUMP = b"CREATE TABLE t (id INT PRIMARY KEY, note VARCHAR(10));\nINSERT INTO t VALUES (1,'a'),(2,NULL);\n"


def counted(rows: int) -> dict:
    columns = [
        {"name": "id", "type": "int", "nullable": False},
        {"name": "note", "type": "varchar(10)", "nullable": True},
    ]
    return {
        "checksums": False,
        "tables": {"t": {"columns": columns, "row_count": rows, "checksum": None}},
    }


def copy() -> RestoredCopy:
    return RestoredCopy(
        connection_settings("mysql_restore"),
        lambda: open_mysql("mysql_restore"),
        f"restore_copy_{uuid.uuid4().hex[:12]}",
    )


def databases() -> set[str]:
    db = open_mysql("mysql_restore")
    try:
        cursor = db.cursor()
        cursor.execute("SHOW DATABASES LIKE 'restore\\_copy\\_%'")
        return {row[0] for row in cursor.fetchall()}
    finally:
        db.close()


def test_equal_counts_give_the_copy_s_checksums_and_the_scratch_goes() -> None:
    restored = copy()
    try:
        restored.feed(DUMP)
        manifest = restored.checksums(counted(2))
        db = open_mysql("mysql_restore")
        try:
            cursor = db.cursor()
            cursor.execute(checksum_sql(restored.database, "t", ["id", "note"]))
            _, xor, total = cursor.fetchone()
        finally:
            db.close()
    finally:
        restored.drop()
    assert manifest["tables"]["t"]["checksum"] == checksum_text(xor, total)
    assert manifest["checksums"] is True and manifest["checksums_from"] == "restored_copy"
    assert restored.database not in databases()


def test_a_copy_missing_rows_is_refused_naming_the_table() -> None:
    restored = copy()
    try:
        restored.feed(DUMP)
        with pytest.raises(CopyDiffers, match=r"'t': \(3, 2\)"):
            restored.checksums(counted(3))
    finally:
        restored.drop()
    assert restored.database not in databases()


def test_a_dump_the_server_refuses_is_not_loaded() -> None:
    restored = copy()
    try:
        restored.feed(b"CREATE TABLE broken (;\n")
        with pytest.raises(CopyNotLoaded, match="restore server failed"):
            restored.checksums(counted(0))
    finally:
        restored.drop()
