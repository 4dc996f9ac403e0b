"""The manual RDS restore DAG on the local stack: a logical dump loaded into a scratch
MariaDB database and compared with the original; new instances from the latest snapshot,
a snapshot id and a point in time (moto), waited for in the trigger; dry run; a refusal
recorded (the refusal matrix is unit-tested in tests/include/dr/rds/)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pymysql
import pytest

from include.dr.evidence import evidence_store
from include.dr.local_stack.seed_aws import aws_client
from include.dr.local_stack.settings import LocalSettings
from include.dr.rds.manifest import take_manifest
from include.dr.tags import OWNER_KEY, as_mapping
from tests.conftest import deferred_tasks
from tests.integration.dag_runs import a_day, run_daily

pytestmark = pytest.mark.usefixtures("local_stack")
INSTANCE = "swl-customers-prod"


def connect(settings: LocalSettings, database: str | None = None) -> Any:
    return pymysql.connect(
        **settings.mysql_arguments("mysql_restore", database=database, autocommit=True)
    )


@pytest.fixture(scope="module")
def backup_day(dag_bag: Any) -> str:
    """One rds_backup run (snapshot, DR copy, dump and manifest) for a fresh past day."""
    day = a_day()
    assert run_daily(dag_bag, "rds_backup", day).state == "success"
    return day.date().isoformat()


def restore(dag_bag: Any, **conf: Any) -> Any:
    return dag_bag.get_dag("restore_rds").test(
        run_conf={"instance": INSTANCE, "dry_run": False, **conf}
    )


def evidence(run: Any) -> Any:
    return evidence_store().get("restore", f"rds/{INSTANCE}", "restore_rds", run.run_id)


def test_a_logical_dump_restored_into_a_scratch_database_equals_the_original(
    dag_bag: Any, backup_day: str, settings: LocalSettings
) -> None:
    database = f"restore_{uuid.uuid4().hex[:8]}"
    run = restore(dag_bag, source="logical_dump", dump_date=backup_day, target_database=database)
    assert run.state == "success"
    result = evidence(run).details["load_result"]
    assert result["equal_to_manifest"] is True
    assert all(t["rows"] == t["expected_rows"] > 0 for t in result["tables"].values())
    # And against the production database itself (unchanged since the backup).
    restored, original = connect(settings, database), connect(settings, "customers")
    assert (
        take_manifest(restored, database)["tables"]
        == take_manifest(original, "customers")["tables"]
    )


def test_a_new_instance_from_the_latest_dr_snapshot_is_private_encrypted_and_ours(
    dag_bag: Any, backup_day: str, settings: LocalSettings
) -> None:
    target = f"restored-{uuid.uuid4().hex[:8]}"
    run = restore(dag_bag, source="latest", target_instance=target)
    assert run.state == "success"
    assert "restore_instance" in deferred_tasks("restore_rds", run.run_id)  # waited in a trigger
    rds = aws_client(settings, "rds", "eu-west-1")
    [instance] = rds.describe_db_instances(DBInstanceIdentifier=target)["DBInstances"]
    assert instance["PubliclyAccessible"] is False and instance["StorageEncrypted"] is True
    assert OWNER_KEY in as_mapping(instance["TagList"])
    result = evidence(run).details["instance_result"]
    assert result["endpoint"].startswith(instance["Endpoint"]["Address"])


def test_a_snapshot_by_id_and_a_point_in_time_restore(
    dag_bag: Any, backup_day: str, settings: LocalSettings
) -> None:
    snapshot = f"{INSTANCE}-{backup_day}"
    by_id = f"restored-{uuid.uuid4().hex[:8]}"
    assert (
        restore(dag_bag, source="snapshot", snapshot_id=snapshot, target_instance=by_id).state
        == "success"
    )
    production = aws_client(settings, "rds", "eu-west-2")
    created = production.describe_db_instances(DBInstanceIdentifier=INSTANCE)["DBInstances"][0][
        "InstanceCreateTime"
    ]
    at = (created + (datetime.now(UTC) - created) / 2).isoformat()  # inside the restorable window
    in_time = f"restored-{uuid.uuid4().hex[:8]}"
    run = restore(dag_bag, source="point_in_time", restore_time=at, target_instance=in_time)
    assert run.state == "success"
    assert production.describe_db_instances(DBInstanceIdentifier=in_time)["DBInstances"]


def test_dry_run_names_the_backup_and_creates_nothing(
    dag_bag: Any, backup_day: str, settings: LocalSettings
) -> None:
    target = f"restored-{uuid.uuid4().hex[:8]}"
    run = restore(dag_bag, source="latest", target_instance=target, dry_run=True)
    assert run.state == "success"
    details = evidence(run).details
    assert details["step"] == "dry run" and details["snapshot_id"].startswith(INSTANCE)
    rds = aws_client(settings, "rds", "eu-west-1")
    assert not [
        i for i in rds.describe_db_instances()["DBInstances"] if i["DBInstanceIdentifier"] == target
    ]


def test_a_refused_request_is_recorded_fails_at_once_and_creates_nothing(
    dag_bag: Any, settings: LocalSettings
) -> None:
    """One refusal end to end (the matrix is in tests/include/dr/rds/test_restore_request.py
    and test_restore.py): the run fails without retrying and the evidence names the field."""
    rds = aws_client(settings, "rds", "eu-west-1")
    before = {i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]}
    run = restore(dag_bag, source="latest", target_instance=INSTANCE)
    assert run.state == "failed"
    [task] = [ti for ti in run.get_task_instances() if ti.task_id == "validate_request"]
    assert (task.state, task.try_number) == ("failed", 1)  # refused, not retried
    record = evidence(run)
    assert record.outcome == "fail" and record.details["refused"] == "target_instance"
    assert "Nothing was changed" in record.details["reason"]
    after = {i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]}
    assert after == before
