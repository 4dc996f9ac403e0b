"""Shared by the git DAG tests: a fresh upstream organisation pinned in the policy, with a
fresh backup store, and a git_backup run for a chosen day; or, for a module of tests that
only read backups, one such organisation backed up once for the whole module."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from include.dr.policy.loader import DEFAULT_POLICY_FILE, POLICY_FILE_ENV
from include.dr.store import CACHE_DIR_ENV
from tests.gitrepos import Upstream
from tests.integration.dag_runs import a_day, run_daily

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
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "store"))
    yield repos
    repos.remove()


@contextmanager
def backed_up_once(local_stack: Path, dag_bag: Any, folder: Path) -> Iterator[Upstream]:
    """An organisation of two repositories, pinned in a policy of its own and backed up
    once into a store of its own under ``folder``, in force while the block runs: for a
    module-scoped fixture. Tests sharing it must not change its backups; each pushes to a
    target of its own."""
    repos = Upstream(local_stack, ("alpha", "beta"))
    policy = copy.deepcopy(yaml.safe_load(DEFAULT_POLICY_FILE.read_text()))
    policy["assets"]["github"] = {
        "organisation": repos.organisation,
        "repositories": list(repos.names),
        "dr_bucket": DR_BUCKET,
    }
    (folder / "policy.yaml").write_text(yaml.safe_dump(policy))
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv(POLICY_FILE_ENV, str(folder / "policy.yaml"))
            patch.setenv(CACHE_DIR_ENV, str(folder / "store"))
            assert run_backup(dag_bag, a_day()).state == "success"
            yield repos
    finally:
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
