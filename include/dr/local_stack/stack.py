"""Bring the whole local stack up or down: moto, MariaDB, git daemon, and Airflow
(standalone, or distributed with PostgreSQL and Redis).

``up`` and ``down`` are idempotent. ``up`` waits until each service answers and
seeds what is missing; ``down`` stops only processes whose pid files it wrote.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from include.dr.local_stack.accounts import key_accounts
from include.dr.local_stack.airflow_standalone import TEST_AIRFLOW, Standalone
from include.dr.local_stack.distributed import TEST_NAME, Distributed
from include.dr.local_stack.enforcement import forget_keys, lift
from include.dr.local_stack.git_daemon import (
    git_daemon_process,
    seed_repositories,
    start_git_daemon,
)
from include.dr.local_stack.mariadb import mariadb_process, seed_customers, start_mariadb
from include.dr.local_stack.moto_server import moto_process, start_moto
from include.dr.local_stack.postgres import postgres_process
from include.dr.local_stack.processes import ManagedProcess, StackError
from include.dr.local_stack.redis_server import redis_process
from include.dr.local_stack.seed_aws import seed_aws
from include.dr.local_stack.settings import load_settings
from include.dr.policy.loader import load_policy


@dataclass
class StackReport:
    """What ``up`` found or started, printed for the person running it."""

    started: list[str] = field(default_factory=list)
    already_running: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def note(self, name: str, started: bool) -> None:
        (self.started if started else self.already_running).append(name)


def up(state_dir: Path) -> StackReport:
    """Start and seed every service the DAGs talk to on the local stack."""
    settings = load_settings()
    policy = load_policy()
    github = policy.assets.github
    if github is None or not github.repositories:
        raise StackError(
            "the local stack serves a pinned list of repositories; set "
            "assets.github.repositories in the policy file"
        )
    report = StackReport()
    report.note("moto", start_moto(state_dir, settings.moto_port, key_accounts(settings)))
    if "moto" in report.started:
        forget_keys(state_dir)
        if moved := archive_stale_evidence():
            report.details["evidence_archived_to"] = str(moved)
    lift(settings.connection("aws_default")["extra"]["endpoint_url"])
    report.details["aws"] = seed_aws(settings, policy)
    report.note("mariadb", start_mariadb(state_dir, settings.mysql_port, settings.mysql_ca))
    report.details["mysql_rows"] = seed_customers(state_dir, settings.connection("mysql_default"))
    seed_repositories(state_dir, github.organisation, github.repositories)
    probe = f"{github.organisation}/{github.repositories[0]}"
    report.note("git-daemon", start_git_daemon(state_dir, settings.git_daemon_port, probe))
    report.details["repositories"] = [
        f"{github.organisation}/{name}" for name in github.repositories
    ]
    return report


def archive_stale_evidence() -> Path | None:
    """Move the evidence of an earlier moto aside (never delete it).

    moto keeps "AWS" in memory, so a freshly started one holds none of the snapshots and
    objects that earlier evidence records; the compliance view would rightly report them
    as vanished. Real AWS never forgets, so this exists on the local stack only.
    """
    from datetime import UTC, datetime

    from include.dr.store import store_root

    store = store_root()
    if store.protocol != "file":
        return None  # a store on moto went with it
    root = Path(store.path) / "evidence"
    if not root.is_dir() or not any(root.rglob("*.json")):
        return None
    archive = root.with_name(f"{root.name}-archive") / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    archive.parent.mkdir(parents=True, exist_ok=True)
    root.rename(archive)
    return archive


def processes(state_dir: Path) -> list[ManagedProcess]:
    """Every server of the stack, in start order."""
    settings = load_settings()
    return [
        moto_process(state_dir, settings.moto_port),
        mariadb_process(state_dir, settings.mysql_port),
        git_daemon_process(state_dir, settings.git_daemon_port),
        postgres_process(state_dir),
        redis_process(state_dir),
        Standalone(state_dir).process,
        Standalone(state_dir, name=TEST_AIRFLOW).process,
        *Distributed(state_dir).processes(),
        *Distributed(state_dir, name=TEST_NAME).processes(),
    ]


def down(state_dir: Path) -> list[str]:
    """Stop our servers, last started first; return the names of those stopped."""
    stopped = [
        name
        for airflow in (Distributed(state_dir), Distributed(state_dir, name=TEST_NAME))
        for name in airflow.stop()  # each Airflow's parts at once, not one by one
    ]
    return stopped + [p.name for p in reversed(processes(state_dir)) if p.stop()]


def status(state_dir: Path) -> dict[str, int | None]:
    """Pid of each of our servers, or None when it is not running."""
    return {process.name: process.pid() for process in processes(state_dir)}
