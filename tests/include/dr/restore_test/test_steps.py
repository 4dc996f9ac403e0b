"""The restore test's check of a restored instance: its settings, and on AWS its data, read
at its endpoint (here a scratch MariaDB database stands in for the instance)."""

from __future__ import annotations

from typing import Any

import pytest

from include.dr.local_stack.settings import LocalSettings
from include.dr.policy.loader import load_policy
from include.dr.restore_test.comparison import native_comparison
from include.dr.restore_test.steps import check_instance, validate_instance_data

pytestmark = pytest.mark.usefixtures("local_stack")
KEY = "arn:aws:kms:eu-west-1:123456789012:key/dr"


def instance_at(endpoint: str) -> dict[str, Any]:
    """A temporary instance as the restore reports it: private, with the DR key."""
    return {
        "endpoint": endpoint,
        "publicly_accessible": False,
        "encrypted": True,
        "kms_key_id": KEY,
    }


def validator(conn: dict[str, Any], manifest: dict[str, Any], comparison: Any) -> Any:
    """The restore test's data check of an instance, against ``manifest`` as compared."""

    def validate(asset: Any, restored_instance: Any) -> dict[str, Any]:
        return validate_instance_data(
            restored_instance, conn, asset["database"], manifest, load_policy(), comparison
        )

    return validate


def test_the_instance_passes_only_private_with_the_dr_key_and_the_backed_up_data(
    restored: Any, settings: LocalSettings
) -> None:
    cursor, name, manifest = restored
    conn = settings.connection("mysql_restore")
    instance = instance_at(f"{conn['host']}:{conn['port']}")
    test = {"rds": [{"instance": "db1", "snapshot_id": "db1-2026-11-26", "database": name}]}

    quiet = {"handler_write": 5, "handler_delete": 1}
    validate = validator(
        conn, manifest, native_comparison({**manifest, "counters": quiet}, {"counters": quiet})
    )
    good = check_instance(test, instance, KEY, validate)["rds/db1"]["native"]
    assert good["success"] is True and good["data"]["success"] is True
    assert "no row was written between them" in good["data"]["compared"]

    cursor.execute(f"UPDATE {name}.customers SET email = 'x@example.com' ORDER BY id LIMIT 1")
    bad = check_instance(test, instance, KEY, validate)["rds/db1"]["native"]
    assert bad["success"] is False and bad["data"]["failing_tables"] == ["customers"]

    # Rows written between the manifest and the snapshot: counts within them, no checksums.
    busy = native_comparison(
        {**manifest, "counters": quiet}, {"counters": {**quiet, "handler_delete": 4}}
    )
    cursor.execute(f"DELETE FROM {name}.support_tickets ORDER BY id LIMIT 3")
    validate_busy = validator(conn, manifest, busy)

    bounded = check_instance(test, instance, KEY, validate_busy)["rds/db1"]["native"]
    assert bounded["success"] is True
    assert "within 3 rows, content checksums not compared" in bounded["data"]["compared"]
    cursor.execute(f"DELETE FROM {name}.support_tickets ORDER BY id LIMIT 1")
    beyond = check_instance(test, instance, KEY, validate_busy)["rds/db1"]["native"]
    assert beyond["success"] is False and beyond["data"]["failing_tables"] == ["support_tickets"]

    for change in ({"publicly_accessible": True}, {"kms_key_id": "arn:other"}):
        assert (
            check_instance(test, instance | change, KEY, None)["rds/db1"]["native"]["success"]
            is False
        )


def test_an_instance_the_worker_cannot_reach_skips_the_data_check_with_its_reason(
    restored: Any, settings: LocalSettings
) -> None:
    _, name, manifest = restored
    conn = settings.connection("mysql_restore")
    nowhere = instance_at("127.0.0.1:1")  # nothing listens: as with no route or security group
    test = {"rds": [{"instance": "db1", "snapshot_id": "db1-2026-11-26", "database": name}]}
    validate = validator(conn, manifest, native_comparison(manifest, None))
    native = check_instance(test, nowhere, KEY, validate)["rds/db1"]["native"]
    assert native["success"] is True  # not a false failure of the backup
    assert native["data"]["success"] is None
    assert "no network path" in native["data"]["skipped"]
    assert "restore_test.network" in native["data"]["skipped"]
