"""The manual git restore DAG, run with dag.test() against git daemon: a dry run, a push to a
new remote, every refusal (with nothing pushed), and undoing a force-push in place."""

from __future__ import annotations

from typing import Any

import pytest

from include.dr.evidence import evidence_store
from include.dr.local_stack.settings import LocalSettings
from tests.alerts_queue import AlertsQueue
from tests.gitrepos import Upstream, git
from tests.integration.dag_runs import a_day
from tests.integration.git_runs import run_backup

pytestmark = pytest.mark.usefixtures("local_stack")
DAEMON = "git://127.0.0.1:9418"


def restore(dag_bag: Any, **conf: Any) -> Any:
    return dag_bag.get_dag("restore_git").test(run_conf={"dry_run": False, **conf})


def evidence(run: Any, upstream: Upstream, name: str = "alpha") -> Any:
    return evidence_store().get(
        "restore", f"git/{upstream.organisation}/{name}", "restore_git", run.run_id
    )


def new_remote(upstream: Upstream, name: str) -> str:
    git("init", "-q", "--bare", str(upstream.root / f"{name}.git"))
    return f"{DAEMON}/{upstream.organisation}/{name}.git"


def heads_and_tags(refs: dict[str, str]) -> dict[str, str]:
    return {ref: sha for ref, sha in refs.items() if ref.startswith(("refs/heads/", "refs/tags/"))}


@pytest.fixture
def backed_up(dag_bag: Any, upstream: Upstream) -> Upstream:
    assert run_backup(dag_bag, a_day()).state == "success"
    return upstream


def test_dry_run_lists_the_push_and_changes_nothing(dag_bag: Any, backed_up: Upstream) -> None:
    target = new_remote(backed_up, "alpha-restored")
    run = restore(dag_bag, repository="alpha", target_url=target, dry_run=True)
    assert run.state == "success"
    details = evidence(run, backed_up).details
    assert details["step"] == "dry run"
    assert details["changes"]["create"] == sorted(heads_and_tags(backed_up.refs("alpha")))
    assert backed_up.refs("alpha-restored") == {}


def test_a_backup_pushed_to_a_new_remote_equals_the_original(
    dag_bag: Any, backed_up: Upstream, settings: LocalSettings
) -> None:
    target = new_remote(backed_up, "alpha-restored")
    alerts = AlertsQueue(settings)
    run = restore(dag_bag, repository="alpha", target_url=target)
    assert run.state == "success"
    [sent] = alerts.received()
    assert sent["Subject"] == "Restore finished: restore_git" and run.run_id in sent["Message"]
    assert backed_up.refs("alpha-restored") == heads_and_tags(backed_up.refs("alpha"))
    record = evidence(run, backed_up)
    assert (record.outcome, record.details["refs_equal_backup"]) == ("pass", True)
    assert record.details["target_url"] == target and "triggered_by" in record.details


@pytest.mark.parametrize(
    ("conf", "field"),
    [
        ({"backup_date": "2020-01-01"}, "backup_date"),
        ({"target_url": "ftp://example.com/x.git"}, "target_url"),
        ({"target_url": "https://user:secret@github.com/org/x.git"}, "target_url"),
        ({"target_url": "--upload-pack=touch /tmp/pwned"}, "target_url"),
        ({"target_url": f"{DAEMON}/nobody/missing.git"}, "target_url"),
        ({"target_url": "ORIGINAL"}, "confirm_original"),
        ({"target_url": "ORIGINAL", "confirm_original": "alpha"}, "confirm_original"),
    ],
)
def test_a_bad_request_is_refused_by_field_and_nothing_is_pushed(
    dag_bag: Any, backed_up: Upstream, conf: dict[str, Any], field: str
) -> None:
    target = new_remote(backed_up, "alpha-restored")
    original = f"{DAEMON}/{backed_up.organisation}/alpha.git"
    request = {"repository": "alpha", "target_url": target, **conf}
    request["target_url"] = request["target_url"].replace("ORIGINAL", original)
    before = backed_up.refs("alpha")
    run = dag_bag.get_dag("restore_git").test(run_conf={"dry_run": False, **request})
    assert run.state == "failed"
    record = evidence(run, backed_up)
    assert record.details["refused"] == field
    assert "Nothing was changed" in record.details["reason"]
    assert backed_up.refs("alpha-restored") == {}
    assert backed_up.refs("alpha") == before


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

    request = {"repository": "alpha", "target_url": new_remote(backed_up, "x"), **conf}
    with pytest.raises(ParamValidationError, match=next(iter(conf))):
        dag_bag.get_dag("restore_git").test(run_conf=request)
    assert backed_up.refs("x") == {}


def test_a_force_push_is_undone_in_the_original_with_confirmation(
    dag_bag: Any, backed_up: Upstream, tmp_path: Any
) -> None:
    before = heads_and_tags(backed_up.refs("alpha"))
    main = git("--git-dir", str(backed_up.bare("alpha")), "rev-list", "main").split()
    backed_up.force_push("alpha", "main", main[5], tmp_path)  # history rewritten...
    backed_up.commit("alpha", "main", "src/rewritten.py", "X = 1\n", tmp_path)  # ...and built on
    original = f"{DAEMON}/{backed_up.organisation}/alpha.git"
    conf = {
        "repository": "alpha",
        "target_url": original,
        "confirm_original": f"{backed_up.organisation}/alpha",
    }

    refused = restore(dag_bag, **conf)  # without overwrite_refs the diverged main is kept
    assert refused.state == "failed"
    assert evidence(refused, backed_up).details["differing_refs"] == ["refs/heads/main"]

    run = restore(dag_bag, **conf, overwrite_refs=True)
    assert run.state == "success"
    assert heads_and_tags(backed_up.refs("alpha")) == before
