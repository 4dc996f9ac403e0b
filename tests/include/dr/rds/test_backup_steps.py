"""Backup steps against the local stack that the DAG test does not reach on its own."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pymysql
import pytest

from include.dr.aws_clients import hook_clients
from include.dr.local_stack.settings import LocalSettings
from include.dr.policy.loader import load_policy
from include.dr.rds import backup
from include.dr.rds.manifest import take_manifest
from include.dr.run_info import RunInfo

pytestmark = pytest.mark.usefixtures("local_stack")
POLICY = load_policy()


@pytest.fixture
def drifted_instance() -> Any:
    rds = hook_clients("aws_default")("rds", "eu-west-2")
    name = f"drift-{uuid.uuid4().hex[:10]}"
    rds.create_db_instance(
        DBInstanceIdentifier=name,
        Engine="mysql",
        DBInstanceClass="db.t3.micro",
        AllocatedStorage=20,
        MasterUsername="probe",
        MasterUserPassword="not-a-secret-moto",
        StorageEncrypted=True,
        BackupRetentionPeriod=1,
        PreferredBackupWindow="01:00-01:30",  # when the policy window opens
    )
    yield rds, name
    rds.delete_db_instance(DBInstanceIdentifier=name, SkipFinalSnapshot=True)


def plan_for(instance: str, fix_drift: bool) -> Any:
    return {"instance": instance, "fix_drift": fix_drift, "day": "2026-11-27"}


def run(run_id: str) -> RunInfo:
    return RunInfo("rds_backup", run_id, datetime(2026, 11, 27, 1, tzinfo=UTC))


def test_drift_fails_the_preflight_naming_each_setting(drifted_instance: Any) -> None:
    rds, name = drifted_instance
    with pytest.raises(backup.RdsBackupFailed) as failed:
        backup.preflight(plan_for(name, False), POLICY, rds, run("manual__drift"))
    assert "rds_backup_retention: found 1 days" in str(failed.value)
    assert "rds_backup_window: found 01:00-01:30 UTC" in str(failed.value)
    assert (
        rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0][
            "BackupRetentionPeriod"
        ]
        == 1
    )


def test_fix_drift_sets_the_policy_values_when_allowed(drifted_instance: Any) -> None:
    rds, name = drifted_instance
    result = backup.preflight(plan_for(name, True), POLICY, rds, run("manual__fix"))
    instance = rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]
    assert instance["BackupRetentionPeriod"] == POLICY.retention.minimum_days
    assert result["drift_fixed"]["PreferredBackupWindow"] == instance["PreferredBackupWindow"]
    assert all(check["passed"] for check in result["preflight"])


def test_the_manifest_checksum_notices_a_changed_row(settings: LocalSettings) -> None:
    admin = pymysql.connect(unix_socket=str(settings_socket()), user="root", autocommit=True)
    with admin.cursor() as cursor:
        cursor.execute("DROP DATABASE IF EXISTS restore_checksum")
        cursor.execute("CREATE DATABASE restore_checksum")
        cursor.execute(
            "CREATE TABLE restore_checksum.t (id INT PRIMARY KEY, note VARCHAR(20) NULL)"
        )
        cursor.execute("INSERT INTO restore_checksum.t VALUES (1, 'a'), (2, NULL), (3, '')")
    reader = pymysql.connect(**settings.mysql_arguments("mysql_default"))
    before = take_manifest(reader, "restore_checksum")["tables"]["t"]
    with admin.cursor() as cursor:
        cursor.execute("UPDATE restore_checksum.t SET note = '' WHERE id = 2")  # NULL -> empty
    after = take_manifest(reader, "restore_checksum")["tables"]["t"]
    assert before["row_count"] == after["row_count"] == 3
    assert before["checksum"] != after["checksum"]
    assert before["primary_key"] == ["id"]
    with admin.cursor() as cursor:
        cursor.execute("DROP DATABASE restore_checksum")


def settings_socket() -> Any:
    from include.dr.project import state_dir

    return state_dir() / "mariadb" / "mysqld.sock"


def test_deleting_a_backup_that_already_vanished_is_reported_not_fatal() -> None:
    from include.dr.inventory.rds_snapshots import RdsSnapshotInventory

    inventory = RdsSnapshotInventory(
        hook_clients("aws_default")("rds", "eu-west-2"), "swl-customers-prod"
    )
    assert inventory.delete(f"gone-{uuid.uuid4().hex[:8]}") is False
