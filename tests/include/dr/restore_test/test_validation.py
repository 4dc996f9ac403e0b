"""GX validation of a restored database against its manifest, on MariaDB, with the
expectations run in the database: a faithful copy passes; one corrupted row, a lost row or
a duplicated key fails and names the table; the password never reaches GX's configuration;
a connection without verified TLS is refused before anything is opened, a refused login
is permanent and an unreachable server transient."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from include.dr.local_stack.settings import LocalSettings
from include.dr.rds.transport import TlsRequired
from include.dr.restore_test.validation import (
    ValidationRefused,
    ValidationUnreachable,
    engine_url,
    validate_database,
)

pytestmark = pytest.mark.usefixtures("local_stack")


@pytest.fixture
def connection(settings: LocalSettings) -> dict[str, Any]:
    """The restore connection, as ``connection_settings`` returns it."""
    return dict(settings.connection("mysql_restore"))


def test_a_faithful_restore_passes_every_expectation(
    restored: Any, connection: dict[str, Any]
) -> None:
    cursor, name, manifest = restored
    result = validate_database(cursor, name, manifest, {}, None, connection=connection)
    assert result["success"] is True and result["failing_tables"] == []
    assert all(table["expectations"] >= 4 for table in result["tables"].values())
    assert {t: result["tables"][t]["rows"] for t in manifest["tables"]} == {
        t: entry["row_count"] for t, entry in manifest["tables"].items()
    }
    assert "SQL" in result["engine"]


def test_one_corrupted_row_fails_and_names_the_table(
    restored: Any, connection: dict[str, Any]
) -> None:
    cursor, name, manifest = restored
    cursor.execute(f"UPDATE {name}.customers SET email = 'x@example.com' ORDER BY id LIMIT 1")
    result = validate_database(cursor, name, manifest, {}, None, connection=connection)
    assert result["failing_tables"] == ["customers"]
    assert result["tables"]["customers"]["failed"] == ["content checksum differs from the manifest"]


def test_a_lost_row_fails_unless_the_table_has_a_tolerance(
    restored: Any, connection: dict[str, Any]
) -> None:
    cursor, name, manifest = restored
    cursor.execute(f"DELETE FROM {name}.orders ORDER BY id DESC LIMIT 1")
    strict = validate_database(cursor, name, manifest, {}, ("customers",), connection=connection)
    assert strict["failing_tables"] == ["orders"]
    assert any("row_count" in f for f in strict["tables"]["orders"]["failed"])
    assert strict["tables"]["orders"]["rows"] == manifest["tables"]["orders"]["row_count"] - 1
    tolerant = validate_database(
        cursor, name, manifest, {"orders": 0.01}, ("customers",), connection=connection
    )
    assert tolerant["success"] is True


def test_a_duplicated_primary_key_fails(restored: Any, connection: dict[str, Any]) -> None:
    cursor, name, manifest = restored
    cursor.execute(f"ALTER TABLE {name}.customers DROP PRIMARY KEY")
    cursor.execute(f"UPDATE {name}.customers SET id = 1 WHERE id = 2")
    result = validate_database(cursor, name, manifest, {}, (), connection=connection)
    assert result["failing_tables"] == ["customers"]
    assert "expect_column_values_to_be_unique id" in result["tables"]["customers"]["failed"]


def test_a_missing_table_fails_and_an_extra_one_is_named(
    restored: Any, connection: dict[str, Any]
) -> None:
    cursor, name, manifest = restored
    cursor.execute(f"RENAME TABLE {name}.orders TO {name}.orders_old")
    result = validate_database(cursor, name, manifest, {}, (), connection=connection)
    assert result["failing_tables"] == ["orders"]
    assert result["tables"]["orders"]["failed"] == ["table missing after the restore"]
    assert result["unexpected_tables"] == ["orders_old"] and result["success"] is False


def test_the_password_stays_out_of_the_url_gx_is_given(connection: dict[str, Any]) -> None:
    url = engine_url({**connection, "password": "s3cr3t-pw"}, "restore_x")
    assert "s3cr3t-pw" not in url and url.startswith("mysql+pymysql://")


def test_a_connection_without_verified_tls_is_refused(
    restored: Any, connection: dict[str, Any]
) -> None:
    cursor, name, manifest = restored
    plain = {**connection, "extra": {}}
    with pytest.raises(TlsRequired, match="names no TLS CA"):
        validate_database(cursor, name, manifest, {}, None, connection=plain)


def test_a_refused_login_is_permanent_and_an_unreachable_server_transient(
    restored: Any, connection: dict[str, Any]
) -> None:
    cursor, name, manifest = restored
    wrong = {**connection, "password": "not-the-password"}
    with pytest.raises(ValidationRefused, match="refused the connection") as refused:
        validate_database(cursor, name, manifest, {}, None, connection=wrong)
    assert "not-the-password" not in str(refused.value)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]  # nothing listens once the probe is closed
    with pytest.raises(ValidationUnreachable, match=f"127.0.0.1:{closed}/{name}"):
        validate_database(
            cursor, name, manifest, {}, None, connection={**connection, "port": closed}
        )
