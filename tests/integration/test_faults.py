"""Faults on the local stack (#10): the run fails clearly, nothing half-made is taken for a
backup, the evidence says what happened, and the re-run finishes the job."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from include.dr.evidence import evidence_store
from include.dr.local_stack.git_daemon import start_git_daemon
from include.dr.local_stack.seed_aws import aws_client
from include.dr.local_stack.settings import LocalSettings
from include.dr.policy.loader import load_policy
from tests.gitrepos import Upstream
from tests.integration.dag_runs import a_day
from tests.integration.git_runs import run_backup as run_git_backup
from tests.integration.s3_runs import run_backup as run_s3_backup

pytestmark = pytest.mark.usefixtures("local_stack")


def test_a_disabled_dr_key_stops_the_s3_backup_before_any_copy_and_the_rerun_completes(
    dag_bag: Any, fresh_buckets: dict[str, Any], settings: LocalSettings
) -> None:
    day = a_day()
    kms = aws_client(settings, "kms", "eu-west-1")
    key = kms.describe_key(KeyId=load_policy().kms_key("eu-west-1"))["KeyMetadata"]["KeyId"]
    kms.disable_key(KeyId=key)
    try:
        failed = run_s3_backup(dag_bag, day)
    finally:
        kms.enable_key(KeyId=key)
    assert failed.state == "failed"
    record = evidence_store().get(
        "s3_backup", f"s3/{fresh_buckets['source']}", "s3_backup", failed.run_id
    )
    assert record.outcome == "fail" and "Disabled" in record.details["reason"]
    checks = [ti for ti in failed.get_task_instances() if ti.task_id == "check_buckets"]
    assert [(ti.state, ti.try_number) for ti in checks] == [("failed", 1)]  # Permanent: no retry
    dr = fresh_buckets["dst"].list_objects_v2(Bucket=fresh_buckets["dr"]).get("KeyCount", 0)
    assert dr == 0  # nothing was copied under a key that could not be used
    again = run_s3_backup(dag_bag, day)
    assert again.state == "success"


def test_git_daemon_down_fails_the_run_by_name_and_the_rerun_recovers(
    dag_bag: Any, upstream: Upstream, local_stack: Path, settings: LocalSettings
) -> None:
    from include.dr.local_stack.git_daemon import git_daemon_process

    port = int(settings.connection("github_default")["extra"]["git_url"].rsplit(":", 1)[1])
    day = a_day()
    daemon = git_daemon_process(local_stack, port)
    daemon.stop()
    try:
        down = run_git_backup(dag_bag, day)
    finally:
        start_git_daemon(local_stack, port, f"{upstream.organisation}/alpha")
    assert down.state == "failed"
    run = evidence_store().get(
        "git_backup_run", f"git/{upstream.organisation}", "git_backup", down.run_id
    )
    assert sorted(f["name"] for f in run.details["failed"]) == ["alpha", "beta"]
    back = run_git_backup(dag_bag, day)
    assert back.state == "success"
    alpha = evidence_store().get(
        "git_backup", f"git/{upstream.organisation}/alpha", "git_backup", back.run_id
    )
    assert alpha.details["fsck"] == "clean" and alpha.details["bundle_made"] is True


FULL_DISK = """
import resource, signal, sys
from pathlib import Path
from include.dr.git.bundle import write_bundle
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails like ENOSPC
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
mirror, target = Path(sys.argv[1]), Path(sys.argv[2])
try:
    write_bundle(mirror, target, bytes(range(32)), "org/app", "2026-11-27")
except OSError as exc:
    print(f"refused: {exc}")
    sys.exit(3)
"""


def test_a_full_disk_during_a_bundle_write_leaves_no_half_bundle(tmp_path: Path) -> None:
    from include.dr.git.bundle import bundle_path, sidecar_path, write_bundle
    from include.dr.git.mirror import mirror_path, update_mirror
    from include.dr.git.remote import GitRemote

    upstream = Upstream(tmp_path / "server", ("app",))
    big = tmp_path / "work"
    upstream.commit("app", "main", "data.txt", "x" * 200_000, big)  # a bundle well over 4 KiB
    mirror = mirror_path(tmp_path / "cache", "org", "app")
    update_mirror(mirror, str(upstream.bare("app")), GitRemote(""))
    target = bundle_path(tmp_path / "bundles", "org", "app", "2026-11-27")
    done = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(mirror), str(target)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 3 and "refused" in done.stdout, done.stderr[-500:]
    assert not target.exists() and not sidecar_path(target).exists()
    assert [p.name for p in target.parent.iterdir()] == []  # no partial file either
    record, made = write_bundle(mirror, target, bytes(range(32)), "org/app", "2026-11-27")
    assert made and record.verified


def test_mariadb_down_fails_the_rds_backup_before_a_snapshot_and_the_rerun_completes(
    dag_bag: Any, local_stack: Path, settings: LocalSettings
) -> None:
    from include.dr.local_stack.mariadb import mariadb_process, start_mariadb
    from tests.integration.dag_runs import run_daily

    instance = load_policy().assets.rds[0].instance
    day = a_day()
    server = mariadb_process(local_stack, settings.mysql_port)
    server.stop()
    try:
        down = run_daily(dag_bag, "rds_backup", day)
    finally:
        start_mariadb(local_stack, settings.mysql_port, settings.mysql_ca)
    assert down.state == "failed"
    snapshot = f"{instance}-{day.date().isoformat()}"
    rds = aws_client(settings, "rds", "eu-west-2")
    made = [
        s["DBSnapshotIdentifier"]
        for s in rds.describe_db_snapshots(DBInstanceIdentifier=instance)["DBSnapshots"]
    ]
    assert snapshot not in made  # the manifest comes first: no snapshot without one
    again = run_daily(dag_bag, "rds_backup", day)
    assert again.state == "success"
    record = evidence_store().get("rds_backup", f"rds/{instance}", "rds_backup", again.run_id)
    assert record.outcome == "pass" and record.details["dump"]["manifest"]["tables"]
