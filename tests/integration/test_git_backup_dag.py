"""The daily git backup DAG, run for real with dag.test() against repositories served by
git daemon, with bundles uploaded to the DR bucket on the moto server."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from include.dr.evidence import evidence_store
from include.dr.git import crypto
from include.dr.git.bundle import bundle_path, bundles_dir
from include.dr.git.connections import bundles_of_record
from include.dr.git.mirror import mirrors_dir
from include.dr.local_stack.seed_aws import aws_client
from include.dr.local_stack.settings import LocalSettings, load_settings
from include.dr.policy.loader import load_policy
from tests.alerts_queue import AlertsQueue
from tests.git_http import git_http
from tests.gitrepos import Upstream, git
from tests.integration.dag_runs import a_day
from tests.integration.git_runs import DR_BUCKET, pin, run_backup

pytestmark = pytest.mark.usefixtures("local_stack")


def evidence(run: Any, organisation: str, name: str) -> dict[str, Any]:
    record = evidence_store().get(
        "git_backup", f"git/{organisation}/{name}", "git_backup", run.run_id
    )
    return record.details


def clone_bundle(path: Path, work: Path) -> dict[str, str]:
    """Decrypt a stored bundle with the connection's key, clone from it, fsck it; its refs."""
    key = crypto.load_key(load_settings().connection("git_bundle_key")["password"], "key")
    with path.open("rb") as sealed:
        _, chunks = crypto.decrypt(sealed, key)
        plain = work / f"{path.name}.bundle"
        plain.write_bytes(b"".join(chunks))
    clone = work / f"{path.name}.git"
    git("clone", "-q", "--mirror", str(plain), str(clone))
    git("--git-dir", str(clone), "fsck", "--no-progress")
    listing = git("--git-dir", str(clone), "for-each-ref", "--format=%(objectname) %(refname)")
    return {ref: sha for sha, ref in (line.split(" ", 1) for line in listing.splitlines())}


def test_first_mirror_then_incremental_run_with_dated_encrypted_bundles(
    dag_bag: Any, upstream: Upstream, settings: LocalSettings, tmp_path: Path
) -> None:
    org, day = upstream.organisation, a_day()
    first = run_backup(dag_bag, day)
    assert first.state == "success"
    alpha = evidence(first, org, "alpha")
    assert alpha["mirror"] == "cloned"
    assert alpha["fsck"] == "clean"
    assert {k: v for k, v in alpha["refs"].items() if k != "HEAD"} == upstream.refs("alpha")
    stored = bundle_path(bundles_dir(), org, "alpha", alpha["day"])
    assert not stored.read_bytes().startswith(b"# v2 git bundle")  # encrypted at rest
    assert stored.read_bytes()[:8] == crypto.MAGIC
    assert alpha["bundle"]["sha256"] and alpha["bundle"]["size"] == stored.stat().st_size
    assert clone_bundle(stored, tmp_path) == upstream.refs("alpha")

    dr = aws_client(settings, "s3", "eu-west-1")
    head = dr.head_object(Bucket=DR_BUCKET, Key=alpha["dr_copy"]["key"])
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["ContentLength"] == stored.stat().st_size

    # A re-run of the same day makes no second bundle and uploads nothing again.
    again = run_backup(dag_bag, day + timedelta(minutes=5))
    assert again.state == "success"
    repeat = evidence(again, org, "alpha")
    assert (repeat["bundle_made"], repeat["bundle"]["sha256"]) == (False, alpha["bundle"]["sha256"])
    assert repeat["dr_copy"]["uploaded"] is False

    # Next day, after a commit upstream: an incremental fetch, and a new bundle with it.
    new_head = upstream.commit("alpha", "main", "src/new.py", "NEW = 1\n", tmp_path)
    second = run_backup(dag_bag, day + timedelta(days=1))
    assert second.state == "success"
    later = evidence(second, org, "alpha")
    assert later["mirror"] == "fetched"
    assert later["refs"]["refs/heads/main"] == new_head
    assert later["bundle_made"] is True
    assert evidence(second, org, "beta")["refs"] == evidence(first, org, "beta")["refs"]


def test_force_push_and_deleted_branch_stay_recoverable_from_the_earlier_bundle(
    dag_bag: Any, upstream: Upstream, tmp_path: Path
) -> None:
    org, day = upstream.organisation, a_day()
    before = upstream.refs("alpha")
    assert run_backup(dag_bag, day).state == "success"

    main_log = git("--git-dir", str(upstream.bare("alpha")), "rev-list", "main").split()
    upstream.force_push("alpha", "main", main_log[5], tmp_path)
    upstream.delete_branch("alpha", "develop")
    after = run_backup(dag_bag, day + timedelta(days=1))
    assert after.state == "success"
    today = evidence(after, org, "alpha")
    assert today["refs"]["refs/heads/main"] == main_log[5]
    assert "refs/heads/develop" not in today["refs"]  # the mirror follows upstream...

    # ...the dated bundle of record does not (this worker's cache now holds only today's)
    assert not bundle_path(bundles_dir(), org, "alpha", day.date().isoformat()).exists()
    yesterday = bundles_of_record(load_policy()).path(org, "alpha", day.date().isoformat())
    assert clone_bundle(yesterday, tmp_path) == before


def test_repository_deleted_upstream_fails_the_run_by_name_and_keeps_its_backups(
    dag_bag: Any, upstream: Upstream
) -> None:
    org, day = upstream.organisation, a_day()
    assert run_backup(dag_bag, day).state == "success"
    upstream.delete_repository("beta")

    after = run_backup(dag_bag, day + timedelta(days=1))
    assert after.state == "failed"
    tries = [ti.try_number for ti in after.get_task_instances() if ti.task_id == "back_up_batch"]
    assert tries and all(n == 1 for n in tries)  # missing upstream is permanent: no retry
    beta = evidence(after, org, "beta")
    assert "beta" in beta["error"] and beta["transient"] is False
    assert beta["kept"] == {"mirror": True, "bundles": [day.date().isoformat()]}
    assert (mirrors_dir() / org / "beta.git" / "HEAD").exists()
    assert evidence(after, org, "alpha")["bundle_made"] is True  # the others carried on
    run = evidence_store().get("git_backup_run", f"git/{org}", "git_backup", after.run_id)
    assert [f["name"] for f in run.details["failed"]] == ["beta"]
    assert run.outcome == "fail"


def test_an_empty_repository_passes_and_one_emptied_upstream_keeps_its_backups_and_warns(
    dag_bag: Any,
    upstream: Upstream,
    use_policy: Callable[..., dict[str, Any]],
    settings: LocalSettings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A new repository with no commits has nothing to bundle; every branch and tag of beta
    deleted upstream leaves its mirror, local bundles and DR copy as they were."""
    org, day = upstream.organisation, a_day()
    upstream.add_empty("gamma")
    pin(use_policy, upstream)
    first = run_backup(dag_bag, day)
    assert first.state == "success"
    tries = {(ti.task_id, ti.map_index): ti.try_number for ti in first.get_task_instances()}
    assert all(n == 1 for (task, _), n in tries.items() if task == "back_up_batch")  # no retry
    gamma = evidence_store().get("git_backup", f"git/{org}/gamma", "git_backup", first.run_id)
    assert (gamma.outcome, gamma.details["verdict"], gamma.details["refs"]) == ("pass", "empty", {})
    assert not (bundles_dir() / org / "gamma").exists()

    beta_refs = evidence(first, org, "beta")["refs"]
    beta_bundles = {p.name: p.read_bytes() for p in (bundles_dir() / org / "beta").iterdir()}
    queue = AlertsQueue(settings)
    caplog.clear()
    upstream.empty("beta")
    second = run_backup(dag_bag, day + timedelta(days=1))
    assert second.state == "success"
    beta = evidence_store().get("git_backup", f"git/{org}/beta", "git_backup", second.run_id)
    assert (beta.outcome, beta.details["verdict"]) == ("warn", "emptied upstream")
    assert beta.details["refs"] == {k: v for k, v in beta_refs.items() if k != "HEAD"}
    assert beta.details["kept"] == {"mirror": True, "bundles": [day.date().isoformat()]}
    assert {p.name: p.read_bytes() for p in (bundles_dir() / org / "beta").iterdir()} == (
        beta_bundles
    )
    assert (
        git("--git-dir", str(mirrors_dir() / org / "beta.git"), "rev-parse", "main").strip()
        == (beta_refs["refs/heads/main"])
    )
    run = evidence_store().get("git_backup_run", f"git/{org}", "git_backup", second.run_id)
    assert run.outcome == "warn" and run.details["emptied_upstream"] == ["beta"]
    assert run.details["empty"] == ["gamma"]
    retained = {
        r.asset
        for r in evidence_store().read("retention")
        if r.run_id == second.run_id and r.asset.startswith(f"git/{org}/")
    }
    assert retained == {f"git/{org}/alpha/dr"}  # never beta or gamma
    alerts = [a for a in queue.received() if org in a["Subject"]]
    assert len(alerts) == 1 and "beta" in alerts[0]["Message"]
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(f"{org}/beta lists no branch or tag upstream" in w for w in warned)  # task log


def test_a_retry_of_the_batch_redoes_only_the_repositories_that_failed(
    upstream: Upstream,
) -> None:
    """A repository the server cannot give on the first try (a passing outage: nothing
    answers at its address) is retried by Airflow; the retry leaves what the first try
    backed up as it is."""
    from include.dr.git import backup
    from include.dr.git.connections import bundle_key, git_remote
    from include.dr.git.planning import plan_repositories
    from include.dr.policy.loader import load_policy
    from include.dr.run_info import RunInfo

    plan = plan_repositories(load_policy(), a_day(), git_remote(), None, None, [])
    batch = {
        **plan["batches"][0],
        "repositories": [r for b in plan["batches"] for r in b["repositories"]],
    }
    outage = {
        **batch,
        "repositories": [
            {**r, "url": "git://127.0.0.1:1/down/beta.git"} if r["name"] == "beta" else r
            for r in batch["repositories"]
        ],
    }
    run_id, org = f"retry-{uuid.uuid4().hex[:8]}", upstream.organisation

    def run(try_number: int) -> RunInfo:
        return RunInfo("git_backup", run_id, a_day(), try_number=try_number, max_tries=1)

    with pytest.raises(backup.RepositoriesToRetry, match="try 1 of 2: beta;"):
        backup.back_up_batch(outage, git_remote(), bundle_key(), None, run(1))  # type: ignore[arg-type]
    first = evidence_store().get("git_backup", f"git/{org}/alpha", "git_backup", run_id)
    result = backup.back_up_batch(batch, git_remote(), bundle_key(), None, run(2))  # type: ignore[arg-type]
    assert result["backed_up"] == ["alpha", "beta"] and result["failed"] == []
    again = evidence_store().get("git_backup", f"git/{org}/alpha", "git_backup", run_id)
    assert again.recorded_at == first.recorded_at  # alpha was not done twice
    beta = evidence_store().get("git_backup", f"git/{org}/beta", "git_backup", run_id)
    assert beta.outcome == "pass" and beta.details["bundle_made"] is True


def test_the_token_reaches_the_git_server_but_never_logs_evidence_or_the_mirror(
    dag_bag: Any,
    upstream: Upstream,
    local_stack: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    token = "ghp_" + "Zq9" * 12  # noqa: S105 - a test token for a loopback server
    with git_http(upstream.root.parent, token) as (base, seen):
        connection = {
            "conn_type": "github",
            "password": token,
            "extra": {"git_url": base},
        }
        monkeypatch.setenv("AIRFLOW_CONN_GITHUB_DEFAULT", json.dumps(connection))
        run = run_backup(dag_bag, a_day())
    assert run.state == "success"
    assert len([header for header in seen if header.startswith("Basic ")]) >= 2  # it was used
    leaks = [token, base64.b64encode(f"x-access-token:{token}".encode()).decode()]
    output = capfd.readouterr()
    logs = output.out + output.err
    assert "alpha" in logs  # the run's logs were captured
    evidence_text = "".join(path.read_text() for path in evidence_store().root.rglob("*.json"))
    mirror_config = (mirrors_dir() / upstream.organisation / "alpha.git" / "config").read_text()
    for secret in leaks:
        assert secret not in logs
        assert secret not in evidence_text
        assert secret not in mirror_config
