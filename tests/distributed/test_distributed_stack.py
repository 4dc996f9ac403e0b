"""The product on CeleryExecutor with two workers (PostgreSQL metadata, Redis broker), once
with the shared store on ``file://`` and once on S3 (the moto server): the daily backups,
a restore test, a git and an S3 restore and the compliance evaluation all pass; tasks of
one run land on both workers; the compliance page, served by the API server, shows every
asset; and a worker whose cache was wiped between two daily git runs changes nothing.

Each store backend gets one stack for its module-scoped cycle (see ``cycle.py``), with its
own policy file whose git DR bucket is new, so a cycle never meets another's bundles of
the same day. The tests' Airflow has its own name, port, database and Redis queue, so it
never touches ``make demo-distributed``'s.
"""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from include.dr.local_stack.distributed import (
    TEST_API_PORT,
    TEST_NAME,
    WORKERS,
    Distributed,
)
from include.dr.local_stack.postgres import POSTGRES_PORT, postgres_process, start_postgres
from include.dr.local_stack.redis_server import REDIS_PORT, redis_process, start_redis
from include.dr.local_stack.seed_aws import aws_client, ensure_dr_bucket
from include.dr.local_stack.settings import STORE_BUCKET, LocalSettings
from include.dr.policy.loader import DEFAULT_POLICY_FILE, load_policy
from tests.distributed.cycle import RESTORED_BUCKET, RESTORED_REPOSITORY, Cycle, run_cycle
from tests.gitrepos import git
from tests.include.dr.local_stack.test_loopback import LOOPBACK, listening_sockets

pytestmark = pytest.mark.timeout(1800)  # the module fixture runs a whole cycle in setup
BACKUP_LABELS = ("rds_backup", "s3_backup", "git_backup")


@pytest.fixture(scope="module")
def services(local_stack: Path) -> Iterator[Path]:
    """PostgreSQL and Redis for the module; stopped afterwards if it started them."""
    started = [start_postgres(local_stack), start_redis(local_stack)]
    yield local_stack
    for process, fresh in zip(
        (postgres_process(local_stack), redis_process(local_stack)), started, strict=True
    ):
        if fresh:
            process.stop()


def policy_with_new_git_bucket(
    settings: LocalSettings, folder: Path
) -> tuple[Path, dict[str, Any]]:
    """The shipped policy, its git bundles going to a new DR bucket of this cycle's own."""
    policy = copy.deepcopy(yaml.safe_load(DEFAULT_POLICY_FILE.read_text()))
    bucket = f"swl-git-dr-{uuid.uuid4().hex[:8]}"
    policy["assets"]["github"]["dr_bucket"] = bucket
    path = folder / "policy.yaml"
    path.write_text(yaml.safe_dump(policy))
    ensure_dr_bucket(settings, load_policy(path), bucket)
    return path, policy


def yesterday() -> datetime:
    """This time yesterday: the second daily git run's day. Not an older day: coverage
    wants every day since an asset's first backup; and not a fixed hour, which the other
    cycle (the same database) has already dated a run of the DAG at."""
    return datetime.now(UTC) - timedelta(days=1)


@pytest.fixture(scope="module", params=["file", "s3"])
def cycle(
    request: pytest.FixtureRequest,
    services: Path,
    settings: LocalSettings,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Cycle]:
    """One stack per store backend, and the cycle run on it."""
    backend = request.param
    policy_file, policy = policy_with_new_git_bucket(settings, tmp_path_factory.mktemp(backend))
    common: dict[str, Any] = {
        "name": TEST_NAME,
        "port": TEST_API_PORT,
        "redis_db": 1,
        "policy_file": policy_file,
        "extra_env": {"BACKUP_RETRY_DELAY_SECONDS": "2"},
    }
    if backend == "s3":
        airflow = Distributed.on_s3(services, prefix=f"test-{uuid.uuid4().hex[:8]}", **common)
    else:
        store = services / TEST_NAME / "store"
        shutil.rmtree(store, ignore_errors=True)
        airflow = Distributed(services, store_url=f"file://{store}", **common)
    airflow.stop()  # a stack an interrupted session left running has another store
    for number in range(1, WORKERS + 1):  # every worker starts on an empty disk
        shutil.rmtree(airflow.worker_dir(number), ignore_errors=True)
    since = datetime.now(UTC) - timedelta(seconds=5)
    airflow.start()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("BACKUP_STORE_URL", str(airflow.store_url))
            if airflow.store_conn_id:
                patch.setenv("BACKUP_STORE_CONN_ID", airflow.store_conn_id)
            patch.setenv("BACKUP_POLICY_FILE", str(policy_file))
            yield run_cycle(Cycle(airflow, policy), settings, services, yesterday(), since)
    finally:
        airflow.stop()


def test_every_run_succeeds(cycle: Cycle) -> None:
    failed = [cycle.failures(label) for label, run in cycle.runs.items() if run.state != "success"]
    assert not failed, "\n".join(failed)


def test_every_part_listens_on_loopback_only(cycle: Cycle) -> None:
    parts = [postgres_process(cycle.airflow.state_dir), redis_process(cycle.airflow.state_dir)]
    sockets = [
        found
        for part in parts + cycle.airflow.processes()
        if (pid := part.pid()) is not None
        for found in listening_sockets(pid)
    ]
    assert {port for _, _, port in sockets} >= {POSTGRES_PORT, REDIS_PORT, cycle.airflow.port}
    assert [s for s in sockets if s[1] not in LOOPBACK] == []


def test_tasks_of_one_run_land_on_both_workers(cycle: Cycle) -> None:
    workers = {cycle.airflow.worker_name(n) for n in range(1, WORKERS + 1)}
    hosts = {}
    for label in BACKUP_LABELS:
        run = cycle.runs[label]
        instances = cycle.airflow.task_instances(run.dag_id, run.run_id)
        hosts[label] = {ti["hostname"] for ti in instances if ti["state"] == "success"}
    assert all(found <= workers for found in hosts.values()), hosts  # no task ran elsewhere
    assert any(found == workers for found in hosts.values()), hosts


def status_page(cycle: Cycle) -> dict[str, Any]:
    return dict(json.loads(get(cycle, "/backup-compliance/api/status")))


def get(cycle: Cycle, path: str) -> bytes:
    request = urllib.request.Request(
        f"{cycle.airflow.url}{path}", headers={"Authorization": f"Bearer {cycle.airflow.token()}"}
    )
    with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 - loopback
        return bytes(answer.read())


def test_every_clause_passes(cycle: Cycle) -> None:
    run = cycle.runs["compliance_evaluation"]
    assert run.state == "success", cycle.failures("compliance_evaluation")
    summary = cycle.airflow.xcom(run.dag_id, run.run_id, "evaluate")
    assert summary["status"] == "pass" and summary["failing"] == [], summary
    page = status_page(cycle)  # the API server reads what the workers wrote
    assert page["evaluation_run"] == {"dag_id": run.dag_id, "run_id": run.run_id}
    verdicts = {clause["clause"]: clause["status"] for clause in page["clauses"]}
    assert verdicts and set(verdicts.values()) == {"pass"}, verdicts


def expected_assets(cycle: Cycle) -> list[str]:
    assets = cycle.policy["assets"]
    github = assets["github"]
    return (
        [f"rds/{rds['instance']}" for rds in assets["rds"]]
        + [f"s3/{s3['source']}" for s3 in assets["s3"]]
        + [f"git/{github['organisation']}/{name}" for name in github["repositories"]]
    )


def test_the_compliance_page_shows_every_asset(cycle: Cycle) -> None:
    page = status_page(cycle)
    backed_up = {a["asset"]: a["last_backup"] for a in page["assets"]}
    assert {asset: backed_up.get(asset) is not None for asset in expected_assets(cycle)} == (
        dict.fromkeys(expected_assets(cycle), True)
    ), backed_up
    html = get(cycle, "/backup-compliance/").decode()
    missing = [asset for asset in expected_assets(cycle) if asset not in html]
    assert not missing, f"the page names no {missing}"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{cycle.airflow.url}/backup-compliance/api/status")  # noqa: S310
    assert refused.value.code in {401, 403}


def test_the_records_are_in_the_shared_store(cycle: Cycle, settings: LocalSettings) -> None:
    url = str(cycle.airflow.store_url)
    if url.startswith("s3://"):
        s3 = aws_client(settings, "s3", cycle.policy["regions"]["dr"])
        prefix = url.removeprefix(f"s3://{STORE_BUCKET}/")
        listed = s3.list_objects_v2(Bucket=STORE_BUCKET, Prefix=f"{prefix}/")
        names = [item["Key"] for item in listed.get("Contents", [])]
    else:
        names = [str(path) for path in Path(url.removeprefix("file://")).rglob("*.json")]
    assert names, f"nothing was written to the shared store {url}"


def test_a_wiped_worker_cache_changes_nothing(cycle: Cycle) -> None:
    """The second daily git run, after the cache of a worker that made the first run's
    bundles was emptied, backs up the same repositories with the same refs."""
    from include.dr.evidence import evidence_store

    assert cycle.wiped_entries, (
        f"worker {cycle.wiped_worker}'s cache held nothing to wipe after the first git run: "
        f"{cycle.airflow.worker_dir(cycle.wiped_worker) / 'cache'}"
    )
    first, again = cycle.runs["git_backup"], cycle.runs["git_backup_again"]
    assert (first.state, again.state) == ("success", "success"), (
        cycle.failures("git_backup") + "\n" + cycle.failures("git_backup_again")
    )

    def summary(run_id: str) -> dict[str, Any]:
        """The run's account, less what differs by design: the day, and how many bundles
        this attempt made (a retried attempt reuses the bundles its first try made)."""
        found = dict(cycle.airflow.xcom("git_backup", run_id, "summarise"))
        found.pop("day")
        found.pop("bundles_made")
        return found

    assert summary(again.run_id) == summary(first.run_id)
    github = cycle.policy["assets"]["github"]
    store = evidence_store()
    for name in github["repositories"]:
        asset = f"git/{github['organisation']}/{name}"
        records = [store.get("git_backup", asset, "git_backup", r.run_id) for r in (first, again)]
        assert all(records), f"{asset}: no evidence for one of the runs"
        assert records[0].details["refs"] == records[1].details["refs"], asset  # type: ignore[union-attr]
        assert all(r.details.get("dr_copy") for r in records), f"{asset}: a day has no DR copy"  # type: ignore[union-attr]


def test_the_git_restore_pushes_the_backup(cycle: Cycle) -> None:
    assert cycle.runs["restore_git"].state == "success", cycle.failures("restore_git")
    upstream = cycle.git_target.with_name(f"{RESTORED_REPOSITORY}.git")
    assert refs(cycle.git_target) == refs(upstream)


def refs(bare: Path) -> dict[str, str]:
    listing = git(
        "--git-dir",
        str(bare),
        "for-each-ref",
        "--format=%(refname) %(objectname)",
        "refs/heads",
        "refs/tags",
    )
    return dict(line.split(" ", 1) for line in listing.splitlines())


def test_the_s3_restore_copies_the_backup(cycle: Cycle, settings: LocalSettings) -> None:
    assert cycle.runs["restore_s3"].state == "success", cycle.failures("restore_s3")
    [asset] = [a for a in cycle.policy["assets"]["s3"] if a["source"] == RESTORED_BUCKET]
    s3 = aws_client(settings, "s3", cycle.policy["regions"]["production"])

    def contents(bucket: str, prefix: str) -> dict[str, str]:
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
        return {
            key.removeprefix(prefix): hashlib.sha256(
                s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            ).hexdigest()
            for key in keys
        }

    source: dict[str, str] = {}
    for prefix in asset.get("prefixes") or [""]:
        source |= {f"{prefix}{k}": v for k, v in contents(RESTORED_BUCKET, prefix).items()}
    assert source and contents(cycle.s3_target, "restored/") == source
