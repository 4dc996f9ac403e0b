"""The git backup's per-repository verdicts with real git: empty and emptied repositories."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from include.dr.asset_names import git_asset
from include.dr.errors import Permanent, Transient
from include.dr.evidence import evidence_store
from include.dr.git import backup
from include.dr.git.bundle import bundles_dir
from include.dr.git.bundle_store import BundleStore
from include.dr.git.crypto import BundleKeyError
from include.dr.git.mirror import inspect_mirror, mirror_path, mirrors_dir
from include.dr.git.planning import retention_targets
from include.dr.git.plans import BackupPlan, Batch, BatchResult, Failure
from include.dr.git.remote import GitFailed, GitRemote, GitUnreachable
from include.dr.run_info import RunInfo
from tests.gitrepos import Upstream, git

LOCAL = GitRemote("")
KEY = bytes(range(32))
RUN = ("git_backup", "unit-run")


def run_info(run_id: str = RUN[1], try_number: int = 1, max_tries: int = 0) -> RunInfo:
    moment = datetime(2026, 11, 1, 12, tzinfo=UTC)
    return RunInfo(RUN[0], run_id, moment, try_number=try_number, max_tries=max_tries)


@pytest.fixture
def upstream(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Upstream:
    monkeypatch.setenv("BACKUP_CACHE_DIR", str(tmp_path / "store"))
    monkeypatch.setenv("BACKUP_STORE_URL", f"file://{tmp_path / 'evidence'}")
    return Upstream(tmp_path / "server", ("app", "lib"))


def batch(upstream: Upstream, day: str) -> Batch:
    return {
        "organisation": upstream.organisation,
        "day": day,
        "dr_bucket": None,
        "dr_region": "eu-west-1",
        "kms_key_arn": None,
        "repositories": [
            {"name": name, "url": str(upstream.bare(name)), "optional": False}
            for name in upstream.names
        ],
    }


def run(upstream: Upstream, day: str, try_number: int = 1, max_tries: int = 3) -> BatchResult:
    info = run_info(f"{RUN[1]}-{day}", try_number, max_tries)
    return backup.back_up_batch(batch(upstream, day), LOCAL, KEY, None, info)


def evidence(upstream: Upstream, name: str, day: str) -> Any:
    asset = git_asset(upstream.organisation, name)
    return evidence_store().get(backup.EVIDENCE_KIND, asset, RUN[0], f"{RUN[1]}-{day}")


def bundles(upstream: Upstream, name: str) -> dict[str, bytes]:
    folder = bundles_dir() / upstream.organisation / name
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*"))} if folder.exists() else {}


def test_a_repository_with_no_commits_is_recorded_as_empty_and_neither_fails_nor_retries(
    upstream: Upstream,
) -> None:
    upstream.add_empty("new")
    result = run(upstream, "2026-11-01")  # try 1 of 4: a failure would raise to retry
    assert (result["failed"], result["empty"], result["backed_up"]) == ([], ["new"], ["app", "lib"])
    record = evidence(upstream, "new", "2026-11-01")
    assert record.outcome == "pass"
    assert record.details["verdict"] == backup.EMPTY
    assert record.details["refs"] == {} and "bundle" not in record.details
    assert bundles(upstream, "new") == {}
    assert evidence(upstream, "app", "2026-11-01").details["verdict"] == backup.BUNDLED


def test_a_repository_emptied_upstream_keeps_its_mirror_and_bundles_and_warns(
    upstream: Upstream, caplog: pytest.LogCaptureFixture
) -> None:
    run(upstream, "2026-11-01")
    mirror = mirror_path(mirrors_dir(), upstream.organisation, "lib")
    refs_before, bundles_before = inspect_mirror(mirror, LOCAL).refs, bundles(upstream, "lib")
    upstream.empty("lib")

    result = run(upstream, "2026-11-02")
    assert (result["failed"], result["emptied"], result["backed_up"]) == ([], ["lib"], ["app"])
    assert inspect_mirror(mirror, LOCAL).refs == refs_before
    assert bundles(upstream, "lib") == bundles_before  # no new bundle, none changed
    record = evidence(upstream, "lib", "2026-11-02")
    assert record.outcome == "warn"
    assert record.details["verdict"] == backup.EMPTIED
    assert record.details["mirror"] == "kept"
    assert record.details["kept"] == {"mirror": True, "bundles": ["2026-11-01"]}
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(f"{upstream.organisation}/lib" in w and "no branch or tag" in w for w in warnings)


def test_retention_never_reaches_the_bundles_of_an_empty_or_emptied_repository(
    upstream: Upstream,
) -> None:
    upstream.add_empty("new")
    run(upstream, "2026-11-01")
    upstream.empty("lib")
    result = run(upstream, "2026-11-02")
    plan: Batch = {**batch(upstream, "2026-11-02"), "dr_bucket": "dr"}
    targets = retention_targets(plan, result["backed_up"], "aws_dr")
    assert {t["inventory_args"]["repository"] for t in targets} == {"app"}


def test_the_run_summary_warns_and_alerts_once_for_an_emptied_repository(
    upstream: Upstream,
) -> None:
    run(upstream, "2026-11-01")
    upstream.add_empty("blank")
    upstream.empty("lib")
    result = run(upstream, "2026-11-02")
    sent: list[tuple[str, str]] = []
    plan: BackupPlan = {
        **batch(upstream, "2026-11-02"),
        "source": "pinned",
        "listed": list(upstream.names),
        "vanished": [],
        "batches": [],
    }
    summary = backup.summarise(plan, [result], run_info(), alert=lambda s, m: sent.append((s, m)))
    assert (summary["empty"], summary["emptied_upstream"]) == (["blank"], ["lib"])
    record = evidence_store().get(
        f"{backup.EVIDENCE_KIND}_run", f"git/{upstream.organisation}", *RUN
    )
    assert record.outcome == "warn"
    assert len(sent) == 1 and "lib" in sent[0][1] and "blank" not in sent[0][1]


def test_a_repository_missing_upstream_is_not_retried_and_is_named(upstream: Upstream) -> None:
    """Refused or missing upstream is permanent: the batch returns it for the summary,
    even with tries left, rather than have Airflow retry it."""
    spec = batch(upstream, "2026-11-03")
    spec["repositories"].append(
        {"name": "gone", "url": str(upstream.bare("gone")), "optional": False}
    )
    result = backup.back_up_batch(spec, LOCAL, KEY, None, run_info("gone-run", 1, 3))
    [failure] = result["failed"]
    assert (failure["name"], failure["transient"]) == ("gone", False)
    assert result["backed_up"] == ["app", "lib"]
    record = evidence_store().get(
        backup.EVIDENCE_KIND, git_asset(upstream.organisation, "gone"), RUN[0], "gone-run"
    )
    assert record.outcome == "fail" and record.details["transient"] is False


def test_a_repository_the_network_failed_is_retried_while_tries_remain(upstream: Upstream) -> None:
    spec = batch(upstream, "2026-11-04")
    spec["repositories"][0]["url"] = "git://127.0.0.1:1/nobody/app.git"  # nothing listens
    with pytest.raises(backup.RepositoriesToRetry, match="try 1 of 3: app;") as retry:
        backup.back_up_batch(spec, LOCAL, KEY, None, run_info("net-run", 1, 2))
    assert isinstance(retry.value, Transient)
    last = backup.back_up_batch(spec, LOCAL, KEY, None, run_info("net-run", 3, 2))
    assert [(f["name"], f["transient"]) for f in last["failed"]] == [("app", True)]
    assert last["backed_up"] == ["lib"]  # taken from the earlier try's evidence


@pytest.mark.parametrize(
    ("failed", "try_number", "retried"),
    [
        ([], 1, False),
        ([("a", True)], 1, True),
        ([("a", True)], 2, True),
        ([("a", True)], 3, False),  # the last try: summarised, failing the run by name
        ([("a", False)], 1, False),  # permanent: no retry can mend it
        ([("a", False), ("b", True)], 1, True),
    ],
)
def test_the_retry_decision_follows_the_failures_class_and_the_tries_left(
    failed: list[tuple[str, bool]], try_number: int, retried: bool
) -> None:
    failures: list[Failure] = [{"name": n, "error": "x", "transient": t} for n, t in failed]
    run = run_info(try_number=try_number, max_tries=2)
    if retried:
        with pytest.raises(backup.RepositoriesToRetry, match=f"try {try_number} of 3"):
            backup.retry_decision(failures, run)
    else:
        backup.retry_decision(failures, run)


def test_what_may_mend() -> None:
    def client_error(code: str, status: int) -> ClientError:
        answer: Any = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
        return ClientError(answer, "PutObject")

    assert backup.may_mend(GitUnreachable("connection refused"))
    assert not backup.may_mend(GitFailed("repository not found"))
    assert not backup.may_mend(BundleKeyError("no key"))
    assert backup.may_mend(client_error("SlowDown", 503))
    assert not backup.may_mend(client_error("AccessDenied", 403))
    assert backup.may_mend(OSError("No space left on device"))


def test_the_summary_fails_the_run_permanently_naming_the_repositories(
    upstream: Upstream,
) -> None:
    plan: BackupPlan = {
        **batch(upstream, "2026-11-05"),
        "source": "pinned",
        "listed": ["app"],
        "vanished": [],
        "batches": [],
    }
    result: BatchResult = {
        "repositories": 1,
        "backed_up": [],
        "skipped": [],
        "empty": [],
        "emptied": [],
        "failed": [{"name": "app", "error": "GitFailed: not found", "transient": False}],
        "bundles_made": 0,
    }
    with pytest.raises(
        backup.GitBackupFailed, match="1 repositories were not backed up: app:"
    ) as e:
        backup.summarise(plan, [result], run_info("summary-run"))
    assert isinstance(e.value, Permanent)


def test_old_history_git_fsck_warns_about_is_backed_up_and_the_warnings_recorded(
    upstream: Upstream,
) -> None:
    """A zero-padded mode and a bad time zone failed ``git fsck --strict`` every day."""
    upstream.commit_malformed("app", "main", zero_padded=True, zone="+05-30")
    result = run(upstream, "2026-11-06", try_number=1, max_tries=3)
    assert (result["failed"], result["backed_up"]) == ([], ["app", "lib"])
    record = evidence(upstream, "app", "2026-11-06")
    assert (record.outcome, record.details["verdict"]) == ("pass", backup.BUNDLED)
    assert record.details["bundle_made"] is True
    assert record.details["fsck"] == "warnings"
    assert [w.split(": ")[1] for w in record.details["fsck_warnings"]] == [
        "badTimezone",
        "zeroPaddedFilemode",
    ]
    clean = evidence(upstream, "lib", "2026-11-06").details
    assert (clean["fsck"], clean["fsck_warnings"]) == ("clean", [])


def test_a_cached_mirror_with_a_missing_object_is_rebuilt_from_upstream_and_bundled(
    upstream: Upstream, tmp_path: Path
) -> None:
    """The mirror is a cache: a damaged one is never trusted, and never fails the day."""
    run(upstream, "2026-11-07")
    commit = upstream.commit("app", "main", "data.txt", "precious\n", tmp_path)
    run(upstream, "2026-11-08")
    mirror = mirror_path(mirrors_dir(), upstream.organisation, "app")
    blob = git("--git-dir", str(mirror), "rev-parse", f"{commit}:data.txt").strip()
    (mirror / "objects" / blob[:2] / blob[2:]).unlink()
    result = run(upstream, "2026-11-09", try_number=1, max_tries=3)
    assert result["failed"] == [] and "app" in result["backed_up"]
    record = evidence(upstream, "app", "2026-11-09")
    assert (record.outcome, record.details["verdict"]) == ("pass", backup.BUNDLED)
    assert record.details["mirror"] == "rebuilt"
    assert "rebuilt from upstream" in record.details["mirror_note"]
    assert record.details["refs"]["refs/heads/main"] == commit
    assert git("--git-dir", str(mirror), "cat-file", "-t", blob).strip() == "blob"


def test_a_bundle_of_history_fsck_only_warns_about_passes_the_restore_tests_check(
    upstream: Upstream,
) -> None:
    """The restore test checks a bundle's clone with the backup's own fsck rule, so a
    backup that passed is never called damaged a year later."""
    from include.dr.restore_test.git_check import check_repository

    upstream.commit_malformed("app", "main", zero_padded=True, zone="+05-30")
    run(upstream, "2026-11-10")
    refs = evidence(upstream, "app", "2026-11-10").details["refs"]
    repo = {"organisation": upstream.organisation, "repository": "app", "day": "2026-11-10"}
    checked = check_repository(BundleStore(bundles_dir()), repo, KEY, refs)
    assert checked["success"] is True, checked
