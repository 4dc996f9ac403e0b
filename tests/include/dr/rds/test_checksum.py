"""The table checksum's one format and its SQL (the server computes it; see test_backup_steps
for a changed row noticed on MariaDB)."""

from __future__ import annotations

from typing import Any

from include.dr.rds.checksum import (
    TableChecksum,
    checksum_sql,
    checksum_text,
    quote,
    table_checksum,
)


def test_identifiers_are_quoted_so_a_hostile_name_stays_a_name() -> None:
    assert quote("t") == "`t`"
    assert quote("x`; DROP DATABASE customers; --") == "`x``; DROP DATABASE customers; --`"


def test_the_sql_reads_every_column_as_text_with_nulls_kept_apart_from_empty() -> None:
    sql = checksum_sql("customers", "orders", ["id", "note"])
    assert "IFNULL(CAST(`id` AS CHAR), CHAR(0))" in sql
    assert "IFNULL(CAST(`note` AS CHAR), CHAR(0))" in sql
    assert sql.endswith("FROM `customers`.`orders`")
    assert "BIT_XOR" in sql and "SUM" in sql and "COUNT(*)" in sql


def test_the_format_is_the_manifests() -> None:
    assert checksum_text(0xABC, 255) == "00000abc-ff"
    assert checksum_text(0, 0) == "00000000-0"


class Cursor:
    def __init__(self, row: tuple[Any, ...]) -> None:
        self.row, self.executed = row, []  # type: ignore[var-annotated]

    def execute(self, sql: str) -> None:
        self.executed.append(sql)

    def fetchone(self) -> tuple[Any, ...]:
        return self.row


def test_a_table_is_counted_and_checksummed_on_the_server() -> None:
    cursor = Cursor((3, 0x1F, 1000))  # a driver may hand back Decimals or strings
    assert table_checksum(cursor, "db", "t", ["id"]) == TableChecksum(3, "0000001f-3e8")
    assert cursor.executed == [checksum_sql("db", "t", ["id"])]
