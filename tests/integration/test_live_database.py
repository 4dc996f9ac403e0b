"""A backup of a database that is being written to: the restores are exact and consistent.

A writer process (``tests/integration/live_writer.py``) commits transactions across three
tables, keeping the money in them constant, through the whole ``rds_backup`` run. The
restore test's logical path must then pass with exact equality against the dump's
manifest, ``restore_rds`` must find the loaded dump equal to it, and the restored
database must hold exactly the money the writer keeps constant.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymysql
import pytest

from include.dr.evidence import evidence_store
from include.dr.local_stack.seed_aws import ensure_dr_bucket, ensure_rds_instance
from include.dr.local_stack.settings import LocalSettings
from include.dr.policy.loader import load_policy
from include.dr.project import PROJECT_ROOT, state_dir
from tests.integration.dag_runs import a_day, run_daily
from tests.integration.live_writer import TOTAL, create, invariant

pytestmark = pytest.mark.usefixtures("local_stack")
BACKUP_GRANTS = "SELECT, SHOW VIEW, TRIGGER, LOCK TABLES, EVENT"


def admin() -> Any:
    socket = str(state_dir() / "mariadb" / "mysqld.sock")
    return pymysql.connect(unix_socket=socket, user="root", autocommit=True)


@dataclass
class LiveShop:
    instance: str
    database: str
    writer: subprocess.Popen[str]
    stop_file: Path

    def stop(self) -> dict[str, Any]:
        """Stop the writer; what it did (it must not have failed)."""
        self.stop_file.touch()
        out, _ = self.writer.communicate(timeout=60)
        assert self.writer.returncode == 0, out
        stats: dict[str, Any] = json.loads(out)
        return stats


@pytest.fixture
def live_shop(
    settings: LocalSettings, use_policy: Callable[..., dict[str, Any]], tmp_path: Path
) -> Iterator[LiveShop]:
    """A shop database of its own, backed up as the policy's RDS asset into a DR bucket of
    its own, and the writer already writing."""
    token = uuid.uuid4().hex[:8]
    # An instance, a database and a DR bucket of its own: the restore test takes the latest
    # backup of each instance, and an asset keeps its name (instance) to one bucket.
    instance, database, bucket = f"live-shop-{token}", f"live_{token}", f"live-{token}-dr"
    with admin() as db, db.cursor() as cursor:
        create(cursor, database)
        for host in ("127.0.0.1", "localhost"):
            cursor.execute(f"GRANT {BACKUP_GRANTS} ON `{database}`.* TO 'backup'@'{host}'")
    use_policy(
        lambda policy: policy["assets"]["rds"][0].update(
            instance=instance, database=database, dr_bucket=bucket
        )
    )
    ensure_dr_bucket(settings, load_policy(), bucket)
    ensure_rds_instance(settings, load_policy(), instance, database)
    stop_file = tmp_path / "stop"
    writer = subprocess.Popen(  # noqa: S603 - our own module
        [
            sys.executable,
            "-m",
            "tests.integration.live_writer",
            str(state_dir() / "mariadb" / "mysqld.sock"),
            database,
            str(stop_file),
        ],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    shop = LiveShop(instance, database, writer, stop_file)
    try:
        yield shop
    finally:
        if writer.poll() is None:
            stop_file.touch()
            writer.wait(timeout=60)
        with admin() as db, db.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{database}`")


def test_a_database_written_through_the_backup_restores_exactly_and_consistently(
    dag_bag: Any, live_shop: LiveShop, settings: LocalSettings
) -> None:
    day = a_day()
    started = time.time()
    backup = run_daily(dag_bag, "rds_backup", day)
    finished = time.time()
    writes = live_shop.stop()
    assert backup.state == "success"
    # The database was being written to all through the backup, in every kind of
    # transaction; the fence's pause is recorded.
    during = [t for t in writes["commits_at"] if started <= t <= finished]
    assert len(during) > 50 and set(writes["kinds"]) == {"transfer", "hold", "settle"}
    record = evidence_store().get(
        "rds_backup", f"rds/{live_shop.instance}", "rds_backup", backup.run_id
    )
    dump = record.details["dump"]
    assert dump["moment"]["writes_paused_seconds"] >= 0
    assert dump["moment"]["rows_written_since_snapshot_manifest"] > 0  # writes between moments
    assert dump["manifest"]["binlog"]  # the dump's moment as a binlog position, too

    # The restore test's logical path: exact equality with the dump's manifest.
    tested = dag_bag.get_dag("restore_test").test(
        run_conf={"assets": ["rds"], "keep_scratch": False}
    )
    assert tested.state == "success"
    report = evidence_store().get("restore_test", "all", "restore_test", tested.run_id)
    checks = {(c["asset"], c["check"]): c for c in report.details["checks"]}
    logical = checks[(f"rds/{live_shop.instance}", "logical")]["details"]
    assert logical["success"] is True and logical["dump_date"] == day.date().isoformat()
    assert all(
        t["rows"] == t["expected_rows"] and t["checksum_checked"] and not t["failed"]
        for t in logical["tables"].values()
    )
    assert "both at the dump's moment" in logical["compared"]

    # restore_rds's logical dump: equal to its manifest, and the money all there.
    target = f"restore_{uuid.uuid4().hex[:8]}"
    restored = dag_bag.get_dag("restore_rds").test(
        run_conf={
            "instance": live_shop.instance,
            "dry_run": False,
            "source": "logical_dump",
            "dump_date": day.date().isoformat(),
            "target_database": target,
        }
    )
    assert restored.state == "success"
    loaded = evidence_store().get(
        "restore", f"rds/{live_shop.instance}", "restore_rds", restored.run_id
    )
    assert loaded.details["load_result"]["equal_to_manifest"] is True
    with pymysql.connect(**settings.mysql_arguments("mysql_restore")) as db, db.cursor() as cursor:
        assert invariant(cursor, target) == TOTAL
        cursor.execute(f"SELECT COUNT(*) FROM `{target}`.ledger")
        ledger_restored = int(cursor.fetchone()[0])
        cursor.execute(f"DROP DATABASE `{target}`")
    with admin() as db, db.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM `{live_shop.database}`.ledger")
        assert int(cursor.fetchone()[0]) > ledger_restored  # the writer went on after the dump
