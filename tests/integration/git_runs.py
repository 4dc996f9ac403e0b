"""Shared by the git DAG tests: a fresh upstream organisation pinned in the policy, with a
fresh backup store, and a git_backup run for a chosen day."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.gitrepos import Upstream
from tests.integration.dag_runs import run_daily

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
    pin(use_policy, repos)
    monkeypatch.setenv("BACKUP_STORE_DIR", str(tmp_path / "store"))
    yield repos
    repos.remove()


def pin(use_policy: Callable[..., dict[str, Any]], repos: Upstream) -> None:
    """Put in force a policy pinning every repository of ``repos``, bundles to the DR bucket."""

    def change(policy: dict[str, Any]) -> None:
        policy["assets"]["github"] = {
            "organisation": repos.organisation,
            "repositories": list(repos.names),
            "dr_bucket": DR_BUCKET,
        }

    use_policy(change)


def run_backup(dag_bag: Any, day: datetime) -> Any:
    return run_daily(dag_bag, "git_backup", day)
