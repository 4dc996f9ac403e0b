"""The manual git restore DAG, run with dag.test() against git daemon: a dry run, a push to a
new remote, one refusal end to end (recorded, nothing pushed; the refusal matrix is in
tests/include/dr/git/test_restore.py), a missing restore credential, and undoing a
force-push in place. One backup serves
the module; each test pushes to a target of its own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from include.dr.evidence import evidence_store
from include.dr.local_stack.settings import LocalSettings
from tests.alerts_queue import AlertsQueue
from tests.gitrepos import Upstream, git
from tests.integration.git_runs import backed_up_once

pytestmark = pytest.mark.usefixtures("local_stack")
DAEMON = "git://127.0.0.1:9418"


@pytest.fixture(scope="module")
def backed_up(
    local_stack: Path, dag_bag: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Upstream]:
    with backed_up_once(local_stack, dag_bag, tmp_path_factory.mktemp("restore-git")) as repos:
        yield repos


def restore(dag_bag: Any, **conf: Any) -> Any:
    return dag_bag.get_dag("restore_git").test(run_conf={"dry_run": False, **conf})


def evidence(run: Any, upstream: Upstream, name: str = "alpha") -> Any:
    return evidence_store().get(
        "restore", f"git/{upstream.organisation}/{name}", "restore_git", run.run_id
    )


def new_remote(upstream: Upstream, name: str) -> tuple[str, str]:
    """An empty repository of this test's own: its name and URL."""
    unique = f"{name}-{uuid.uuid4().hex[:6]}"
    git("init", "-q", "--bare", str(upstream.root / f"{unique}.git"))
    return unique, f"{DAEMON}/{upstream.organisation}/{unique}.git"


def heads_and_tags(refs: dict[str, str]) -> dict[str, str]:
    return {ref: sha for ref, sha in refs.items() if ref.startswith(("refs/heads/", "refs/tags/"))}


def test_dry_run_lists_the_push_and_changes_nothing(dag_bag: Any, backed_up: Upstream) -> None:
    name, target = new_remote(backed_up, "alpha-restored")
    run = restore(dag_bag, repository="alpha", target_url=target, dry_run=True)
    assert run.state == "success"
    details = evidence(run, backed_up).details
    assert details["step"] == "dry run"
    assert details["changes"]["create"] == sorted(heads_and_tags(backed_up.refs("alpha")))
    assert backed_up.refs(name) == {}


def test_a_backup_pushed_to_a_new_remote_equals_the_original(
    dag_bag: Any, backed_up: Upstream, settings: LocalSettings
) -> None:
    name, target = new_remote(backed_up, "alpha-restored")
    alerts = AlertsQueue(settings)
    run = restore(dag_bag, repository="alpha", target_url=target)
    assert run.state == "success"
    [sent] = alerts.received()
    assert sent["Subject"] == "Restore finished: restore_git" and run.run_id in sent["Message"]
    assert backed_up.refs(name) == heads_and_tags(backed_up.refs("alpha"))
    record = evidence(run, backed_up)
    assert (record.outcome, record.details["refs_equal_backup"]) == ("pass", True)
    assert record.details["target_url"] == target and "triggered_by" in record.details


def test_a_bad_request_is_refused_by_field_recorded_and_nothing_is_pushed(
    dag_bag: Any, backed_up: Upstream
) -> None:
    """The original repository as target without its name confirmed."""
    name, _ = new_remote(backed_up, "alpha-restored")
    original = f"{DAEMON}/{backed_up.organisation}/alpha.git"
    before = backed_up.refs("alpha")
    run = restore(dag_bag, repository="alpha", target_url=original)
    assert run.state == "failed"
    [validation] = [ti for ti in run.get_task_instances() if ti.task_id == "validate_request"]
    assert (validation.state, validation.try_number) == ("failed", 1)  # refused, not retried
    record = evidence(run, backed_up)
    assert record.outcome == "fail" and record.details["refused"] == "confirm_original"
    assert "Nothing was changed" in record.details["reason"]
    assert backed_up.refs(name) == {}
    assert backed_up.refs("alpha") == before


def test_without_the_restore_connection_nothing_is_pushed_and_the_error_names_it(
    dag_bag: Any, backed_up: Upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The daily backup's read-only github_default is never used to push instead."""
    monkeypatch.delenv("AIRFLOW_CONN_GITHUB_RESTORE")
    name, target = new_remote(backed_up, "alpha-restored")
    run = restore(dag_bag, repository="alpha", target_url=target)
    assert run.state == "failed"
    [validation] = [ti for ti in run.get_task_instances() if ti.task_id == "validate_request"]
    assert (validation.state, validation.try_number) == ("failed", 1)  # permanent
    record = evidence(run, backed_up)
    assert record.outcome == "fail" and record.details["refused"] == "github_restore"
    reason = record.details["reason"]
    assert "github_restore connection is not defined" in reason and "workflow" in reason
    assert "Nothing was pushed" in reason
    assert backed_up.refs(name) == {}


@pytest.mark.parametrize(
    "conf",
    [
        {"repository": "no-such-repo"},
        {"repository": "alpha;rm -rf /"},
        {"backup_date": "yesterday"},
    ],
)
def test_the_form_schema_refuses_values_outside_it_before_a_run_exists(
    dag_bag: Any, backed_up: Upstream, conf: dict[str, Any]
) -> None:
    from airflow.sdk.exceptions import ParamValidationError

    name, target = new_remote(backed_up, "x")
    request = {"repository": "alpha", "target_url": target, **conf}
    with pytest.raises(ParamValidationError, match=next(iter(conf))):
        dag_bag.get_dag("restore_git").test(run_conf=request)
    assert backed_up.refs(name) == {}


def test_a_force_push_is_undone_in_the_original_with_confirmation(
    dag_bag: Any, backed_up: Upstream, tmp_path: Any
) -> None:
    """beta is this test's own: no other test of the module reads or pushes it."""
    before = heads_and_tags(backed_up.refs("beta"))
    main = git("--git-dir", str(backed_up.bare("beta")), "rev-list", "main").split()
    backed_up.force_push("beta", "main", main[5], tmp_path)  # history rewritten...
    backed_up.commit("beta", "main", "src/rewritten.py", "X = 1\n", tmp_path)  # ...and built on
    original = f"{DAEMON}/{backed_up.organisation}/beta.git"
    conf = {
        "repository": "beta",
        "target_url": original,
        "confirm_original": f"{backed_up.organisation}/beta",
    }

    refused = restore(dag_bag, **conf)  # without overwrite_refs the diverged main is kept
    assert refused.state == "failed"
    assert evidence(refused, backed_up, "beta").details["differing_refs"] == ["refs/heads/main"]

    run = restore(dag_bag, **conf, overwrite_refs=True)
    assert run.state == "success"
    assert heads_and_tags(backed_up.refs("beta")) == before
