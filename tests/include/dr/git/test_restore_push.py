"""A large backup is pushed in increments, each under the limit (lowered here from 1 GiB
to 100 kB), to git's smart-HTTP server on loopback: the target ends with exactly the
backup's branches and tags, nothing the request did not ask to delete is deleted, and a
branch whose history differs is overwritten only when asked."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from include.dr.git.bundle import bundle_path, write_bundle
from include.dr.git.bundle_store import BundleStore
from include.dr.git.plans import RestoreRequest
from include.dr.git.remote import GitRemote
from include.dr.git.restore import PUSH_LIMIT_ENV, new_bytes, plan_increments, push_and_check
from tests.git_http import git_http

LIMIT = 100_000
BLOB = 40_000  # random bytes: a pack cannot compress them
TOKEN = "ghs_restoreToken"
DAY = "2026-11-26"


def git(*args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@e", *args],
        cwd=cwd,
        capture_output=True,
        check=True,
        text=True,
    )
    return done.stdout.strip()


def commit_blobs(work: Path, branch: str, count: int) -> None:
    git("checkout", "-q", "-B", branch, cwd=work)
    for number in range(count):
        (work / f"{branch}-{number}.bin").write_bytes(os.urandom(BLOB))
        git("add", ".", cwd=work)
        git("commit", "-qm", f"{branch} {number}", cwd=work)


def refs(bare: Path) -> dict[str, str]:
    listing = git("--git-dir", str(bare), "for-each-ref", "--format=%(refname) %(objectname)")
    return dict(line.split(" ") for line in listing.splitlines())


@dataclass
class Restore:
    upstream: Path  # the backed-up repository, as it was
    store: BundleStore
    key: bytes
    served: Path
    base: str
    requests: list[str]

    def target(self, name: str) -> Path:
        bare = self.served / "org" / f"{name}.git"
        git("init", "-q", "--bare", str(bare))
        return bare

    def push(self, name: str, **options: bool) -> dict[str, Any]:
        request: RestoreRequest = {
            "organisation": "org",
            "repository": "big",
            "day": DAY,
            "target_url": f"{self.base}/org/{name}.git",
            "is_original": False,
            "overwrite_refs": options.get("overwrite_refs", False),
            "delete_other_refs": options.get("delete_other_refs", False),
            "dry_run": False,
        }
        self.requests.clear()
        return push_and_check(self.store, request, self.key, GitRemote(self.base, TOKEN))

    def receive_packs(self) -> list[int]:
        """The body size of every push the server received."""
        return [
            int(line.rsplit(" ", 1)[1])
            for line in self.requests
            if line.startswith("POST ") and "git-receive-pack" in line
        ]


@pytest.fixture(scope="module")
def backup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, BundleStore, bytes]]:
    """A repository of about 700 kB (main: 12 commits, dev: 4 more off main, tags), and
    its encrypted bundle of the day."""
    folder = tmp_path_factory.mktemp("big")
    work = folder / "work"
    git("init", "-q", "-b", "main", str(work))
    commit_blobs(work, "main", 12)
    git("tag", "v1", "main~6", cwd=work)
    git("tag", "-a", "-m", "release", "v2", "main", cwd=work)
    git("checkout", "-q", "-b", "dev", "main~4", cwd=work)
    commit_blobs(work, "dev", 4)
    git("checkout", "-q", "main", cwd=work)  # the default branch (the mirror's HEAD)
    upstream = folder / "big.git"
    git("clone", "-q", "--mirror", str(work), str(upstream))
    key = os.urandom(32)
    store = BundleStore(folder / "bundles")
    write_bundle(upstream, bundle_path(folder / "bundles", "org", "big", DAY), key, "org/big", DAY)
    yield upstream, store, key


@pytest.fixture
def restore(
    backup: tuple[Path, BundleStore, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Restore]:
    monkeypatch.setenv(PUSH_LIMIT_ENV, str(LIMIT))
    upstream, store, key = backup
    requests: list[str] = []
    with git_http(tmp_path, TOKEN, requests) as (base, _):
        yield Restore(upstream, store, key, tmp_path, base, requests)


def test_a_large_backup_is_pushed_in_increments_each_under_the_limit(restore: Restore) -> None:
    bare = restore.target("fresh")
    result = restore.push("fresh")
    assert result["refs_equal_backup"] and result["push_error"] is None
    assert refs(bare) == refs(restore.upstream)  # every branch and tag, nothing else
    assert result["pack_bytes"] > 6 * LIMIT and result["push_limit_bytes"] == LIMIT
    packs = restore.receive_packs()
    assert result["pushes"] == len(packs) >= 8  # the branches two commits a step, then the tags
    # The default branch first (GitHub makes an empty repository's first branch default).
    assert list(result["increments"]) == ["refs/heads/main", "refs/heads/dev"]
    assert max(packs) < LIMIT + 5_000  # each push carried one increment, not the history
    subprocess.run(["git", "--git-dir", str(bare), "fsck", "--no-progress"], check=True)


def test_a_small_backup_is_one_push(restore: Restore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PUSH_LIMIT_ENV)  # the default: 1 GiB
    bare = restore.target("small")
    result = restore.push("small")
    assert result["refs_equal_backup"] and result["pushes"] == 1 == len(restore.receive_packs())
    assert refs(bare) == refs(restore.upstream)


def test_increments_keep_what_the_target_has_unless_asked_to_delete(restore: Restore) -> None:
    bare = restore.target("partial")
    upstream = str(restore.upstream)
    git("--git-dir", upstream, "push", "-q", str(bare), "main~8:refs/heads/main")
    git("--git-dir", upstream, "push", "-q", str(bare), "main~10:refs/heads/theirs")
    result = restore.push("partial")
    assert result["refs_equal_backup"] and result["pushes"] > 2
    after = refs(bare)
    assert after["refs/heads/theirs"] == git("--git-dir", upstream, "rev-parse", "main~10")
    assert {ref: sha for ref, sha in after.items() if ref != "refs/heads/theirs"} == refs(
        restore.upstream
    )
    # Asked to delete: the final push prunes it, and only it.
    pruned = restore.push("partial", delete_other_refs=True)
    assert pruned["refs_equal_backup"] and refs(bare) == refs(restore.upstream)


def test_a_branch_whose_history_differs_is_left_unless_overwrite_is_asked(
    restore: Restore, tmp_path: Path
) -> None:
    bare = restore.target("diverged")
    work = tmp_path / "theirs"
    git("init", "-q", "-b", "main", str(work))
    commit_blobs(work, "main", 1)
    git("push", "-q", str(bare), "main", cwd=work)
    theirs = refs(bare)["refs/heads/main"]
    kept = restore.push("diverged")
    assert not kept["refs_equal_backup"] and kept["differing_refs"] == ["refs/heads/main"]
    assert refs(bare)["refs/heads/main"] == theirs  # untouched: no increment forced it
    assert refs(bare)["refs/heads/dev"] == refs(restore.upstream)["refs/heads/dev"]
    overwritten = restore.push("diverged", overwrite_refs=True)
    assert overwritten["refs_equal_backup"] and refs(bare) == refs(restore.upstream)
    assert overwritten["pushes"] > 1


def test_each_planned_step_adds_at_most_the_limit(restore: Restore) -> None:
    clone = restore.upstream
    steps = plan_increments(clone, "refs/heads/main", [], LIMIT)
    assert steps[-1] == git("--git-dir", str(clone), "rev-parse", "refs/heads/main")
    pushed: list[str] = []
    for step in steps:
        assert new_bytes(clone, [step], pushed) <= LIMIT
        pushed.append(step)
    assert len(steps) >= 5


def test_a_restore_logs_the_decryption_and_each_push(
    restore: Restore, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.progress_lines import progress_lines

    restore.target("logged")
    with progress_lines(caplog, monkeypatch) as lines:
        result = restore.push("logged")
    decrypted = [line for line in lines if line.startswith("decrypting the bundle of ")]
    pushed = [line for line in lines if line.startswith("pushing ")]
    assert decrypted and " done: " in decrypted[-1] and " of " in decrypted[-1]
    assert pushed[-1].split(" done: ")[1].startswith(f"{result['pushes']} pushes")
