"""The git restore's request checks, fed what a hand-written run configuration could hold
(the form's schema is bypassed here on purpose)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from include.dr.git.bundle import BundleRecord
from include.dr.git.bundle_store import BundleStore
from include.dr.git.remote import GitRemote
from include.dr.git.restore import plan_push, validate_request
from include.dr.restores import RestoreRefused

REMOTE = GitRemote("https://github.com")


@pytest.fixture
def store(tmp_path: Path) -> BundleStore:
    for day in ("2026-11-25", "2026-11-26"):
        folder = tmp_path / "org" / "app"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{day}.json").write_text("{}")
    return BundleStore(tmp_path)


def request(**changes: Any) -> dict[str, Any]:
    return {"repository": "app", "target_url": "https://github.com/org/app-restored.git"} | changes


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"repository": "../../etc"}, "repository"),
        ({"repository": "app; rm -rf /"}, "repository"),
        ({"repository": ""}, "repository"),
        ({"repository": "x" * 101}, "repository"),
        ({"repository": "other"}, "repository"),
        ({"repository": 42}, "repository"),
        ({"backup_date": "2026-11-24"}, "backup_date"),
        ({"backup_date": "2020-01-01"}, "backup_date"),
        ({"backup_date": "2026-13-01"}, "backup_date"),
        ({"backup_date": "'; DROP TABLE x"}, "backup_date"),
        ({"target_url": ""}, "target_url"),
        ({"target_url": "https://github.com/org/x.git\nrm -rf /"}, "target_url"),
        ({"target_url": "-oProxyCommand=touch /tmp/x"}, "target_url"),
        ({"target_url": "--upload-pack=touch /tmp/pwned"}, "target_url"),
        ({"target_url": "ftp://example.com/x.git"}, "target_url"),
        ({"target_url": "https://user:secret@github.com/org/x.git"}, "target_url"),
        ({"target_url": "file:///var/backups/store"}, "target_url"),
        ({"target_url": "http://example.com/org/x.git"}, "target_url"),
        ({"target_url": "https://me:tok@github.com/org/x.git"}, "target_url"),
        ({"target_url": "https://github.com/org/../x.git"}, "target_url"),
        ({"target_url": "https://github.com/" + "a" * 600}, "target_url"),
        ({"target_url": "https://github.com/org/app.git"}, "confirm_original"),
        (
            {"target_url": "https://GitHub.com/org/app/", "confirm_original": "app"},
            "confirm_original",
        ),
    ],
)
def test_hostile_and_wrong_values_are_refused_by_field(
    store: BundleStore, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(RestoreRefused) as refused:
        validate_request(request(**changes), "org", store, REMOTE)
    assert refused.value.field == field
    assert str(refused.value).startswith(f"{field}: ") and "Nothing was changed" in str(
        refused.value
    )


def test_a_good_request_is_normalised_with_safe_defaults(store: Path) -> None:
    checked = validate_request(request(), "org", store, REMOTE)
    assert checked["day"] == "2026-11-26"  # 'latest'
    assert (checked["dry_run"], checked["overwrite_refs"], checked["delete_other_refs"]) == (
        True,
        False,
        False,
    )
    confirmed = validate_request(
        request(target_url="https://github.com/org/app.git", confirm_original="org/app"),
        "org",
        store,
        REMOTE,
    )
    assert confirmed["is_original"] is True


def test_the_plan_names_what_the_push_would_change_and_what_it_leaves() -> None:
    record = BundleRecord(
        repository="org/app",
        day="2026-11-26",
        file="",
        size=0,
        sha256="",
        plaintext_sha256="",
        refs={"HEAD": "a", "refs/heads/main": "a", "refs/heads/dev": "b", "refs/tags/v1": "c"},
        key_fingerprint="",
        completed_at="",
        verified=True,
        seconds=0,
    )
    target = {"refs/heads/main": "z", "refs/tags/v1": "c", "refs/heads/other": "d"}
    assert plan_push(record, target) == {
        "create": ["refs/heads/dev"],
        "update": ["refs/heads/main"],
        "unchanged": ["refs/tags/v1"],
        "only_at_target": ["refs/heads/other"],
    }


def test_a_push_that_leaves_the_target_unlike_the_backup_fails_permanently() -> None:
    from include.dr.errors import Permanent
    from include.dr.git.restore import check_restored
    from include.dr.restores import RestoreIncomplete

    check_restored({"refs_equal_backup": True})
    with pytest.raises(RestoreIncomplete, match=r"\['refs/heads/main'\].*overwrite_refs") as e:
        check_restored(
            {"refs_equal_backup": False, "differing_refs": ["refs/heads/main"], "push_error": None}
        )
    assert isinstance(e.value, Permanent)


@pytest.mark.parametrize(
    "target",
    [
        "git://127.0.0.1:1/nobody/missing.git",  # nothing answers
        "MISSING",  # it answers, but the repository does not exist
    ],
)
def test_an_unreachable_target_is_refused_by_field(tmp_path: Path, target: str) -> None:
    from include.dr.git.restore import remote_refs

    url = target.replace("MISSING", str(tmp_path / "nobody" / "missing.git"))
    with pytest.raises(RestoreRefused, match="cannot reach") as refused:
        remote_refs(url, GitRemote(""))
    assert refused.value.field == "target_url" and "Nothing was changed" in str(refused.value)


def test_a_push_refused_for_the_workflow_scope_names_the_cause_read_from_porcelain_stdout() -> None:
    """``git push --porcelain`` prints GitHub's reason on stdout, not stderr."""
    from include.dr.git.remote import GitRefused
    from include.dr.git.restore import push_failure

    stdout = (
        "To https://github.com/org/app-restored.git\n"
        "=\trefs/tags/v1:refs/tags/v1\t[up to date]\n"
        "!\trefs/heads/main:refs/heads/main\t[remote rejected] (refusing to allow a Personal "
        "Access Token to create or update workflow `.github/workflows/ci.yml` without "
        "`workflow` scope)\nDone\n"
    )
    stderr = "error: failed to push some refs to 'https://github.com/org/app-restored.git'"
    error = push_failure(1, stdout, stderr)
    assert isinstance(error, GitRefused) and error.refusal.name == "workflow_scope"
    assert "refs/heads/main" in str(error) and "`workflow` scope" in str(error)
    assert "[up to date]" not in str(error)  # only the refused refs are quoted


def test_a_push_over_two_gib_is_permanent_not_a_broken_transfer() -> None:
    from include.dr.errors import Permanent
    from include.dr.git.restore import push_failure

    stderr = (
        "remote: fatal: pack exceeds maximum allowed size (2.00 GiB)\n"
        "error: remote unpack failed: index-pack abnormal exit\n"
        "fatal: the remote end hung up unexpectedly"
    )
    error = push_failure(
        1, "!\trefs/heads/main:refs/heads/main\t[remote rejected] (failed)", stderr
    )
    assert isinstance(error, Permanent) and "in parts under 2 GiB" in str(error)


def test_a_refused_push_fails_with_githubs_cause_not_the_overwrite_hint() -> None:
    from include.dr.git.restore import check_restored
    from include.dr.restores import RestoreIncomplete

    with pytest.raises(RestoreIncomplete, match="Cause: .*workflow scope") as refused:
        check_restored(
            {
                "refs_equal_backup": False,
                "differing_refs": ["refs/heads/main"],
                "push_error": "git push failed (1): ...\nCause: the token lacks the workflow "
                "scope.\nFix: give the restore token the `workflow` scope",
                "push_refusal": "workflow_scope",
            }
        )
    assert "overwrite_refs" not in str(refused.value)


def test_a_target_that_refuses_the_token_is_refused_with_the_fix(tmp_path: Path) -> None:
    import subprocess

    from include.dr.git.restore import remote_refs
    from tests.git_http import git_http

    subprocess.run(["git", "init", "-q", "--bare", str(tmp_path / "org" / "app.git")], check=True)
    with git_http(tmp_path, "the-live-token") as (base, _):
        remote = GitRemote(base, "an-expired-token")
        with pytest.raises(RestoreRefused, match="did not accept the token") as refused:
            remote_refs(remote.url("org", "app"), remote)
    assert refused.value.field == "target_url"
    assert "Create a new token" in str(refused.value) and "an-expired-token" not in str(
        refused.value
    )
