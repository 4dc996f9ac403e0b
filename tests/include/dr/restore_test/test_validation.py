"""GX validation of a restored database against its manifest, on MariaDB: a faithful copy
passes; one corrupted row, a lost row or a duplicated key fails and names the table."""

from __future__ import annotations

from typing import Any

import pytest

from include.dr.restore_test.validation import validate_database

pytestmark = pytest.mark.usefixtures("local_stack")


def test_a_faithful_restore_passes_every_expectation(restored: Any) -> None:
    cursor, name, manifest = restored
    result = validate_database(cursor, name, manifest, {}, None)
    assert result["success"] is True and result["failing_tables"] == []
    assert all(table["expectations"] >= 4 for table in result["tables"].values())


def test_one_corrupted_row_fails_and_names_the_table(restored: Any) -> None:
    cursor, name, manifest = restored
    cursor.execute(f"UPDATE {name}.customers SET email = 'x@example.com' ORDER BY id LIMIT 1")
    result = validate_database(cursor, name, manifest, {}, None)
    assert result["failing_tables"] == ["customers"]
    assert result["tables"]["customers"]["failed"] == ["content checksum differs from the manifest"]


def test_a_lost_row_fails_unless_the_table_has_a_tolerance(restored: Any) -> None:
    cursor, name, manifest = restored
    cursor.execute(f"DELETE FROM {name}.orders ORDER BY id DESC LIMIT 1")
    strict = validate_database(cursor, name, manifest, {}, ("customers",))
    assert strict["failing_tables"] == ["orders"]
    assert any("row_count" in f for f in strict["tables"]["orders"]["failed"])
    tolerant = validate_database(cursor, name, manifest, {"orders": 0.01}, ("customers",))
    assert tolerant["success"] is True


def test_a_duplicated_primary_key_fails(restored: Any) -> None:
    cursor, name, manifest = restored
    cursor.execute(f"ALTER TABLE {name}.customers DROP PRIMARY KEY")
    cursor.execute(f"UPDATE {name}.customers SET id = 1 WHERE id = 2")
    result = validate_database(cursor, name, manifest, {}, ())
    assert result["failing_tables"] == ["customers"]
    assert "expect_column_values_to_be_unique id" in result["tables"]["customers"]["failed"]
