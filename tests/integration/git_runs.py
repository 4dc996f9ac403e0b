"""Shared by the git DAG tests: a fresh upstream organisation pinned in the policy, with a
fresh backup store, and a git_backup run for a chosen day."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.gitrepos import Upstream

DR_BUCKET = "swl-source-code-dr"


@pytest.fixture
def upstream(
    local_stack: Path,
    use_policy: Callable[..., dict[str, Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Upstream]:
    """A fresh organisation of two repositories, pinned in the policy; a fresh backup store."""
    repos = Upstream(local_stack, ("alpha", "beta"))

    def change(policy: dict[str, Any]) -> None:
        policy["assets"]["github"] = {
            "organisation": repos.organisation,
            "repositories": list(repos.names),
            "dr_bucket": DR_BUCKET,
        }

    use_policy(change)
    monkeypatch.setenv("BACKUP_STORE_DIR", str(tmp_path / "store"))
    yield repos
    repos.remove()


def run_backup(dag_bag: Any, day: datetime) -> Any:
    dag = dag_bag.get_dag("git_backup")
    dag.deadline = None  # see test_rds_backup_dag.run_backup
    return dag.test(logical_date=day, run_conf={"override_window": True})


def a_day() -> datetime:
    first = datetime(2026, 1, 2, 12, tzinfo=UTC)
    return first + timedelta(days=random.randrange((datetime.now(UTC) - first).days - 3))
