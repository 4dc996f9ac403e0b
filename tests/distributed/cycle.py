"""One day of the product on the distributed stack, driven through its REST API.

Three waves, each run side by side where nothing orders them:

1. the daily backups (``rds_backup``, ``s3_backup``, ``git_backup``, window override);
2. after one worker's cache is wiped: a second daily ``git_backup`` (for the day
   before, since a day's bundle is made once), the annual ``restore_test``, and a
   ``restore_git`` and a ``restore_s3`` into new targets of their own;
3. ``compliance_evaluation``.

Every run is recorded with its state, so each test reports on one aspect and a failure
names the failed tasks with their log files.
"""

from __future__ import annotations

import shutil
import time
import urllib.error
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from include.dr.local_stack.airflow_api import FINISHED, AirflowRestApi
from include.dr.local_stack.distributed import WORKERS, Distributed
from include.dr.local_stack.git_daemon import repos_root
from include.dr.local_stack.processes import StackError
from include.dr.local_stack.seed_aws import aws_client, open_to_dr
from include.dr.local_stack.settings import LocalSettings
from tests.gitrepos import git

OVERRIDE = {"override_window": True}
DAG_IDS = (
    "rds_backup",
    "s3_backup",
    "git_backup",
    "restore_test",
    "restore_git",
    "restore_s3",
    "compliance_evaluation",
)
WAVE_TIMEOUT = 600.0  # seconds; a wave on a 2-core machine takes one to three minutes
RESTORED_REPOSITORY = "webapp"
RESTORED_BUCKET = "swl-system-data"  # 30 objects under two prefixes: a quick restore


@dataclass(frozen=True)
class Run:
    dag_id: str
    run_id: str
    state: str


@dataclass
class Cycle:
    """What one cycle ran and where it restored to, for the tests to check."""

    airflow: Distributed
    policy: dict[str, Any]
    runs: dict[str, Run] = field(default_factory=dict)
    wiped_worker: int = 0
    wiped_entries: list[str] = field(default_factory=list)
    git_target: Path = Path()
    s3_target: str = ""

    def failures(self, label: str) -> str:
        """The run's state and, if it failed, each failed task with its log's path."""
        run = self.runs[label]
        if run.state == "success":
            return f"{label}: success"
        lines = self.airflow.failures(run.dag_id, run.run_id)
        return f"{label} ({run.dag_id} {run.run_id}): {run.state}\n  " + "\n  ".join(lines)


def fail_leftovers(api: AirflowRestApi) -> None:
    """Mark failed any run an interrupted earlier session left unfinished: with one
    active run per DAG, it would hold this session's runs back."""
    for dag_id in DAG_IDS:
        try:
            page = api.get(f"/api/v2/dags/{dag_id}/dagRuns", state="running", limit=100)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                continue  # not parsed yet: it has no runs in this database
            raise
        queued = api.get(f"/api/v2/dags/{dag_id}/dagRuns", state="queued", limit=100)
        for run in page["dag_runs"] + queued["dag_runs"]:
            path = f"/api/v2/dags/{dag_id}/dagRuns/{run['dag_run_id']}"
            api.call("PATCH", path, api.token(), {"state": "failed"})


def wait_parsed(api: AirflowRestApi, since: datetime, timeout: float = 300) -> None:
    """Wait until this Airflow's DAG processor has parsed every DAG since ``since``, so no
    run is made from a DAG version parsed under another cycle's policy file."""
    deadline = time.monotonic() + timeout
    stale = list(DAG_IDS)
    while stale:
        for dag_id in list(stale):
            try:
                parsed = api.get(f"/api/v2/dags/{dag_id}").get("last_parsed_time")
            except urllib.error.HTTPError as exc:
                if exc.code != 404:
                    raise
                parsed = None
            if parsed and datetime.fromisoformat(parsed) >= since:
                stale.remove(dag_id)
        if stale and time.monotonic() > deadline:
            raise StackError(f"DAGs not parsed {timeout:.0f}s after the start: {stale}")
        time.sleep(1)


def wave(cycle: Cycle, requests: dict[str, tuple[str, dict[str, Any], datetime | None]]) -> None:
    """Trigger every ``label: (dag_id, conf, logical_date)`` and wait for all of them."""
    api = cycle.airflow
    started = {
        label: (dag_id, api.trigger(dag_id, conf, logical_date=date))
        for label, (dag_id, conf, date) in requests.items()
    }
    deadline = time.monotonic() + WAVE_TIMEOUT
    waiting = dict(started)
    while waiting:
        for label, (dag_id, run_id) in list(waiting.items()):
            state = api.run_state(dag_id, run_id)
            if state in FINISHED:
                cycle.runs[label] = Run(dag_id, run_id, state)
                del waiting[label]
        if waiting and time.monotonic() > deadline:
            raise StackError(f"unfinished after {WAVE_TIMEOUT:.0f}s:\n" + unfinished(api, waiting))
        time.sleep(2)


def unfinished(api: AirflowRestApi, waiting: dict[str, tuple[str, str]]) -> str:
    """Each task instance of the waiting runs that has not finished, with its log."""
    lines = []
    for label, (dag_id, run_id) in waiting.items():
        for ti in api.task_instances(dag_id, run_id):
            if ti["state"] not in {"success", "skipped", "failed", "upstream_failed"}:
                lines.append(
                    f"{label}: {ti['task_id']}[{ti['map_index']}] {ti['state']} on "
                    f"{ti.get('hostname') or 'no worker'}: {api.log_path(ti)}"
                )
    return "\n".join(lines) or "(no task instance started)"


def worker_of(cycle: Cycle, label: str, task_id: str) -> int:
    """The first worker (by number) that ran ``task_id`` in the run; 1 if none did."""
    run = cycle.runs[label]
    hosts = {
        ti.get("hostname")
        for ti in cycle.airflow.task_instances(run.dag_id, run.run_id)
        if ti["task_id"] == task_id
    }
    numbers = [n for n in range(1, WORKERS + 1) if cycle.airflow.worker_name(n) in hosts]
    return numbers[0] if numbers else 1


def wipe_cache(cycle: Cycle, number: int) -> None:
    """Empty one worker's cache folder, as a new pod would find it."""
    cache = cycle.airflow.worker_dir(number) / "cache"
    cycle.wiped_worker = number
    cycle.wiped_entries = sorted(str(p.relative_to(cache)) for p in cache.rglob("*"))[:50]
    for entry in cache.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def new_git_target(state: Path, organisation: str) -> Path:
    """An empty bare repository the git daemon serves, for the git restore to push to."""
    target = (
        repos_root(state)
        / organisation
        / f"{RESTORED_REPOSITORY}-restored-{uuid.uuid4().hex[:6]}.git"
    )
    git("init", "-q", "--bare", str(target))
    return target


def new_s3_target(settings: LocalSettings, region: str) -> str:
    """An empty versioned bucket in the production region for the S3 restore."""
    name = f"restore-dist-{uuid.uuid4().hex[:8]}"
    s3 = aws_client(settings, "s3", region)
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    open_to_dr(settings, name)  # the restore operator writes it from the DR account
    return name


def run_cycle(
    cycle: Cycle, settings: LocalSettings, state: Path, earlier_day: datetime, since: datetime
) -> Cycle:
    """The three waves (see the module docstring)."""
    fail_leftovers(cycle.airflow)
    wait_parsed(cycle.airflow, since)
    wave(
        cycle,
        {
            "rds_backup": ("rds_backup", OVERRIDE, None),
            "s3_backup": ("s3_backup", OVERRIDE, None),
            "git_backup": ("git_backup", OVERRIDE, None),
        },
    )
    wipe_cache(cycle, worker_of(cycle, "git_backup", "back_up_batch"))
    github = cycle.policy["assets"]["github"]
    cycle.git_target = new_git_target(state, github["organisation"])
    cycle.s3_target = new_s3_target(settings, cycle.policy["regions"]["production"])
    port = settings.git_daemon_port
    today = cycle.airflow.xcom("git_backup", cycle.runs["git_backup"].run_id, "summarise")["day"]
    wave(
        cycle,
        {
            "git_backup_again": ("git_backup", OVERRIDE, earlier_day),
            "restore_test": ("restore_test", {}, None),
            "restore_git": (
                "restore_git",
                {
                    "repository": RESTORED_REPOSITORY,
                    "backup_date": today,
                    "target_url": f"git://127.0.0.1:{port}/{github['organisation']}/"
                    f"{cycle.git_target.name}",
                    "dry_run": False,
                },
                None,
            ),
            "restore_s3": (
                "restore_s3",
                {
                    "source_bucket": RESTORED_BUCKET,
                    "target_bucket": cycle.s3_target,
                    "target_prefix": "restored/",
                    "dry_run": False,
                },
                None,
            ),
        },
    )
    wave(cycle, {"compliance_evaluation": ("compliance_evaluation", {}, None)})
    return cycle
