"""The RDS restore's checks against the local stack (the refusals that need AWS or MySQL,
moved from the DAG test's matrix), and the restore's verdict."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pymysql
import pytest

from include.dr.aws_clients import hook_clients
from include.dr.local_stack.settings import LocalSettings
from include.dr.policy.loader import load_policy
from include.dr.rds import restore
from include.dr.rds.naming import dump_key
from include.dr.rds.restore_request import validate_request
from include.dr.restores import RestoreRefused

POLICY = load_policy()
ASSET = POLICY.assets.rds[0]
DR = POLICY.regions.dr


def request(**params: Any) -> Any:
    from datetime import UTC, datetime

    return validate_request(
        {"instance": ASSET.instance, "dry_run": False, **params}, POLICY, datetime.now(UTC)
    )


def instances(rds: Any) -> set[str]:
    return {i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]}


@pytest.fixture
def rds_dr(local_stack: Any) -> Any:
    return hook_clients("aws_dr")("rds", DR)


@pytest.fixture
def cursor(local_stack: Any, settings: LocalSettings) -> Any:
    db = pymysql.connect(**settings.mysql_arguments("mysql_restore", autocommit=True))
    yield db.cursor()
    db.close()


def refused_field(check: Any) -> str:
    with pytest.raises(RestoreRefused) as refused:
        check()
    assert "Nothing was changed" in str(refused.value)
    return refused.value.field


def test_an_existing_target_instance_or_a_missing_snapshot_is_refused(rds_dr: Any) -> None:
    existing = f"restored-{uuid.uuid4().hex[:8]}"
    rds_dr.create_db_instance(
        DBInstanceIdentifier=existing, Engine="mysql", DBInstanceClass="db.t3.micro",
        AllocatedStorage=20, MasterUsername="probe", MasterUserPassword="not-a-secret-moto",
    )  # fmt: skip
    try:
        before = instances(rds_dr)
        taken = request(source="latest", target_instance=existing)
        assert refused_field(lambda: restore.check_native(taken, rds_dr)) == "target_instance"
        missing = request(
            source="snapshot", snapshot_id="no-such-snapshot", target_instance="restored-x1"
        )
        assert refused_field(lambda: restore.check_native(missing, rds_dr)) == "snapshot_id"
        assert instances(rds_dr) == before  # nothing was created
    finally:
        rds_dr.delete_db_instance(DBInstanceIdentifier=existing, SkipFinalSnapshot=True)


def test_a_day_without_a_dump_or_a_database_holding_tables_is_refused(cursor: Any) -> None:
    dr_s3 = hook_clients("aws_dr")("s3", DR)
    busy = f"restore_{uuid.uuid4().hex[:8]}"
    cursor.execute(f"CREATE DATABASE {busy}")
    cursor.execute(f"CREATE TABLE {busy}.keep (id INT PRIMARY KEY)")
    day = date(1990, 1, 1 + uuid.uuid4().int % 28)  # a dump of a day no backup run uses
    key = dump_key(ASSET.instance, day, ASSET.database)
    dr_s3.put_object(Bucket=ASSET.dr_bucket, Key=key, Body=b"stand-in")
    try:
        logical = {"source": "logical_dump", "target_database": busy}
        none = request(**logical, dump_date="1989-12-31")
        assert refused_field(lambda: restore.check_logical(none, dr_s3, cursor)) == "dump_date"
        full = request(**logical, dump_date=day.isoformat())
        assert (
            refused_field(lambda: restore.check_logical(full, dr_s3, cursor)) == "target_database"
        )
        cursor.execute(f"SHOW TABLES FROM {busy}")
        assert cursor.fetchall() == (("keep",),)  # untouched
    finally:
        dr_s3.delete_object(Bucket=ASSET.dr_bucket, Key=key)
        cursor.execute(f"DROP DATABASE {busy}")


def test_a_restore_passes_unless_a_loaded_dump_differs_from_its_manifest() -> None:
    plan = request(source="logical_dump", dump_date="2026-11-25", target_database="restore_c")
    same = {"equal_to_manifest": True, "tables": {}}
    differs = {"equal_to_manifest": False, "tables": {}}
    assert restore.restore_outcome(plan, None, same).outcome == "pass"
    verdict = restore.restore_outcome(plan, None, differs)
    assert verdict.outcome == "fail" and verdict.summary["equal_to_manifest"] is False
    assert verdict.details["step"] == "restored" and verdict.details["load_result"] == differs
    dry = restore.restore_outcome({**plan, "dry_run": True}, None, None)
    assert dry.outcome == "pass" and dry.summary == {
        "step": "dry run", "instance": None, "equal_to_manifest": True,
    }  # fmt: skip


def test_loading_a_dump_logs_tables_of_the_manifest_s_and_bytes_of_the_dump(
    cursor: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dump's load (the real mysql client into the restore server) reports progress."""
    import gzip
    import json

    from include.dr.connections import MYSQL_RESTORE
    from include.dr.progress import human_bytes
    from include.dr.rds.mysql_client import connection_settings
    from tests.progress_lines import done_of, progress_lines

    dump = b"".join(
        f"--\n-- Table structure for table `t{n}`\n--\n"
        f"CREATE TABLE t{n} (id INT PRIMARY KEY, v VARCHAR(20));\n"
        f"INSERT INTO t{n} VALUES (1, 'one'), (2, 'two');\n".encode()
        for n in range(3)
    )
    body = gzip.compress(dump + b"-- Dump completed on 2026-11-29\n")
    columns = [{"name": "id"}, {"name": "v"}]
    manifest = {
        "tables": {f"t{n}": {"columns": columns, "row_count": 2, "checksum": ""} for n in range(3)}
    }
    s3, bucket, stem = hook_clients("aws_dr")("s3", DR), ASSET.dr_bucket, uuid.uuid4().hex[:8]
    s3.put_object(Bucket=bucket, Key=f"tests/{stem}.sql.gz", Body=body)
    s3.put_object(Bucket=bucket, Key=f"tests/{stem}.json", Body=json.dumps(manifest).encode())
    plan = {
        "dr_bucket": bucket,
        "dump_key": f"tests/{stem}.sql.gz",
        "manifest_key": f"tests/{stem}.json",
        "target_database": f"restore_progress_{stem}",
        "dump_bytes": len(body),
    }
    try:
        with progress_lines(caplog, monkeypatch) as lines:
            loaded = restore.load_dump(plan, s3, connection_settings(MYSQL_RESTORE), cursor)
    finally:
        cursor.execute(f"DROP DATABASE IF EXISTS restore_progress_{stem}")
    assert {t["rows"] for t in loaded["tables"].values()} == {2}
    assert done_of(lines[-1]) == (3, 3, "tables") and " done: " in lines[-1]
    assert f"{human_bytes(len(body))} of {human_bytes(len(body))}" in lines[-1]
