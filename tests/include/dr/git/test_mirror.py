"""The mirror cache with real git: atomic clones and fetches, fsck after each (failing on
a broken object, recording the harmless malformations old history carries)."""

from __future__ import annotations

import os
import shutil
import stat
import sys
from pathlib import Path

import pytest

from include.dr.errors import Permanent
from include.dr.git.mirror import (
    LFS_NOT_USED,
    LFS_UNAVAILABLE,
    inspect_mirror,
    local_refs,
    mirror_path,
    refresh_mirror,
    update_mirror,
)
from include.dr.git.remote import GitError, GitFailed, GitRemote
from tests.gitrepos import Upstream, git

LOCAL = GitRemote("")

# Serves a fetch like git upload-pack, but hangs up a little way into the pack data:
# what a server going away mid-transfer looks like to the client.
CUT_UPLOAD_PACK = f"""#!{sys.executable}
import os, subprocess, sys
child = subprocess.Popen(["git", "upload-pack", *sys.argv[1:]], stdout=subprocess.PIPE)
seen = b""
while True:
    block = os.read(child.stdout.fileno(), 4096)
    if not block:
        break
    seen += block
    if b"PACK" in seen and len(seen) > seen.index(b"PACK") + 2000:
        os.write(1, block[: max(0, len(block) - 1000)])
        child.kill()
        os._exit(1)
    os.write(1, block)
sys.exit(child.wait())
"""


@pytest.fixture
def upstream(tmp_path: Path) -> Upstream:
    return Upstream(tmp_path / "server", ("app",))


def test_first_run_clones_a_mirror_and_later_runs_fetch(upstream: Upstream, tmp_path: Path) -> None:
    path = mirror_path(tmp_path / "cache", upstream.organisation, "app")
    url = str(upstream.bare("app"))
    assert update_mirror(path, url, LOCAL).action == "cloned"
    state = inspect_mirror(path, LOCAL)
    assert (state.refs, state.fsck, state.lfs) == (upstream.refs("app"), "clean", LFS_NOT_USED)

    upstream.commit("app", "main", "README.md", "hello\n", tmp_path)
    assert update_mirror(path, url, LOCAL).action == "fetched"
    assert inspect_mirror(path, LOCAL).refs == upstream.refs("app")


def test_a_failed_first_clone_leaves_no_mirror_behind(tmp_path: Path) -> None:
    path = mirror_path(tmp_path / "cache", "org", "missing")
    with pytest.raises(GitError):
        update_mirror(path, str(tmp_path / "no-such-repo.git"), LOCAL)
    assert not path.exists()
    assert list(path.parent.iterdir()) == []  # no partial clone left either


def test_an_interrupted_fetch_leaves_the_mirror_intact_and_the_rerun_completes(
    upstream: Upstream, tmp_path: Path
) -> None:
    path = mirror_path(tmp_path / "cache", upstream.organisation, "app")
    url = str(upstream.bare("app"))
    update_mirror(path, url, LOCAL)
    before = inspect_mirror(path, LOCAL).refs
    upstream.commit("app", "main", "data.bin", os.urandom(400_000).hex(), tmp_path)

    cutter = tmp_path / "cut-upload-pack"
    cutter.write_text(CUT_UPLOAD_PACK)
    cutter.chmod(cutter.stat().st_mode | stat.S_IEXEC)
    git("--git-dir", str(path), "config", "remote.origin.uploadpack", str(cutter))
    with pytest.raises(GitError, match="fetch failed"):
        update_mirror(path, url, LOCAL)
    after = inspect_mirror(path, LOCAL)  # git fsck --strict: raises if anything is broken
    assert (after.refs, after.fsck) == (before, "clean")

    git("--git-dir", str(path), "config", "--unset", "remote.origin.uploadpack")
    assert update_mirror(path, url, LOCAL).action == "fetched"
    assert inspect_mirror(path, LOCAL).refs == upstream.refs("app")


def test_a_changed_remote_url_is_followed_without_recloning(
    upstream: Upstream, tmp_path: Path
) -> None:
    path = mirror_path(tmp_path / "cache", upstream.organisation, "app")
    update_mirror(path, str(upstream.bare("app")), LOCAL)
    moved = tmp_path / "moved.git"
    upstream.bare("app").rename(moved)
    assert update_mirror(path, str(moved), LOCAL).action == "fetched"
    assert git("--git-dir", str(path), "config", "remote.origin.url").strip() == str(moved)


def test_lfs_use_without_git_lfs_on_the_worker_is_said_in_the_state(
    upstream: Upstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    upstream.commit("app", "main", ".gitattributes", "*.psd filter=lfs diff=lfs -text\n", tmp_path)
    path = mirror_path(tmp_path / "cache", upstream.organisation, "app")
    update_mirror(path, str(upstream.bare("app")), LOCAL)
    real_which = shutil.which
    monkeypatch.setattr(
        "include.dr.git.mirror.shutil.which",
        lambda name: None if name == "git-lfs" else real_which(name),
    )
    assert inspect_mirror(path, LOCAL).lfs == LFS_UNAVAILABLE


def test_a_repository_with_no_commits_mirrors_as_an_empty_mirror(tmp_path: Path) -> None:
    upstream = Upstream(tmp_path / "server", ())
    upstream.add_empty("new")
    path = mirror_path(tmp_path / "cache", upstream.organisation, "new")
    assert update_mirror(path, str(upstream.bare("new")), LOCAL).action == "cloned"
    assert update_mirror(path, str(upstream.bare("new")), LOCAL).action == "fetched"
    assert (inspect_mirror(path, LOCAL).refs, inspect_mirror(path, LOCAL).fsck) == ({}, "clean")


def test_a_repository_emptied_upstream_keeps_every_ref_of_its_mirror(
    upstream: Upstream, tmp_path: Path
) -> None:
    path = mirror_path(tmp_path / "cache", upstream.organisation, "app")
    update_mirror(path, str(upstream.bare("app")), LOCAL)
    before = inspect_mirror(path, LOCAL).refs
    upstream.empty("app")
    assert upstream.refs("app") == {}
    assert update_mirror(path, str(upstream.bare("app")), LOCAL).action == "kept"
    after = inspect_mirror(path, LOCAL)  # git fsck --strict: every kept ref is whole
    assert (after.refs, after.fsck) == (before, "clean")


def test_a_repository_emptied_between_the_listing_and_the_fetch_gets_its_refs_back(
    upstream: Upstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = mirror_path(tmp_path / "cache", upstream.organisation, "app")
    update_mirror(path, str(upstream.bare("app")), LOCAL)
    before = inspect_mirror(path, LOCAL).refs
    listed = dict(upstream.refs("app"))
    upstream.empty("app")  # after the listing below was taken, before the fetch
    monkeypatch.setattr("include.dr.git.mirror.upstream_refs", lambda path, remote: listed)
    assert update_mirror(path, str(upstream.bare("app")), LOCAL).action == "kept"
    after = inspect_mirror(path, LOCAL)
    assert (after.refs, after.fsck) == (before, "clean")


def loose_object(repository: Path, sha: str) -> Path:
    """Where git keeps ``sha`` as a loose object (a small fetch leaves its objects loose)."""
    found = repository / "objects" / sha[:2] / sha[2:]
    assert found.exists(), f"{sha} is not loose in {repository}"
    return found


def test_old_history_with_a_zero_padded_mode_and_a_bad_time_zone_is_backed_up_with_warnings(
    upstream: Upstream, tmp_path: Path
) -> None:
    """``git fsck --strict`` failed on both, every day; plain fsck records them and passes."""
    upstream.commit_malformed("app", "main", zero_padded=True)
    upstream.commit_malformed("app", "develop", zone="+05-30")
    path = mirror_path(tmp_path / "cache", upstream.organisation, "app")
    update_mirror(path, str(upstream.bare("app")), LOCAL)
    state = inspect_mirror(path, LOCAL)
    assert (state.refs, state.fsck) == (upstream.refs("app"), "warnings")
    assert [w.split(": ")[1] for w in state.fsck_warnings] == ["badTimezone", "zeroPaddedFilemode"]
    assert all(w.startswith("warning in ") for w in state.fsck_warnings)


def test_the_recorded_warnings_are_bounded_with_a_count_of_the_rest(
    upstream: Upstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for zone in ("+05-30", "+1", "-99999"):
        upstream.commit_malformed("app", "main", zone=zone)
    path = mirror_path(tmp_path / "cache", upstream.organisation, "app")
    update_mirror(path, str(upstream.bare("app")), LOCAL)
    monkeypatch.setattr("include.dr.git.mirror.FSCK_LINES_KEPT", 1)
    warnings = inspect_mirror(path, LOCAL).fsck_warnings
    assert len(warnings) == 2 and "badTimezone" in warnings[0]
    assert warnings[1] == "... and 2 more"


def test_a_missing_object_still_fails_permanently_naming_it_and_what_to_do(
    upstream: Upstream, tmp_path: Path
) -> None:
    path = mirror_path(tmp_path / "cache", upstream.organisation, "app")
    update_mirror(path, str(upstream.bare("app")), LOCAL)
    commit = upstream.commit("app", "main", "data.txt", "precious\n", tmp_path)
    update_mirror(path, str(upstream.bare("app")), LOCAL)
    blob = git("--git-dir", str(path), "rev-parse", f"{commit}:data.txt").strip()
    loose_object(path, blob).unlink()
    with pytest.raises(
        GitFailed, match=f"git fsck found errors in the mirror .*missing blob {blob}"
    ):
        inspect_mirror(path, LOCAL)


def test_a_corrupted_object_still_fails_permanently(upstream: Upstream, tmp_path: Path) -> None:
    path = mirror_path(tmp_path / "cache", upstream.organisation, "app")
    update_mirror(path, str(upstream.bare("app")), LOCAL)
    commit = upstream.commit("app", "main", "data.txt", "precious\n", tmp_path)
    update_mirror(path, str(upstream.bare("app")), LOCAL)
    tree = git("--git-dir", str(path), "rev-parse", f"{commit}^{{tree}}").strip()
    stored = loose_object(path, tree)
    stored.unlink()  # a fresh file: the object store may share inodes with upstream
    stored.write_bytes(b"not zlib at all")
    with pytest.raises(GitFailed, match="upstream holds the damage") as failed:
        inspect_mirror(path, LOCAL)
    assert isinstance(failed.value, Permanent)
    assert tree in str(failed.value)


def test_a_half_written_cached_mirror_is_rebuilt_from_upstream(
    upstream: Upstream, tmp_path: Path
) -> None:
    """A worker killed mid-write leaves a mirror with a HEAD and no objects: not trusted."""
    path = mirror_path(tmp_path / "cache", upstream.organisation, "app")
    update_mirror(path, str(upstream.bare("app")), LOCAL)
    expected = local_refs(path)
    shutil.rmtree(path / "objects")
    update, state = refresh_mirror(path, str(upstream.bare("app")), LOCAL)
    assert (update.action, state.fsck, state.refs) == ("rebuilt", "clean", expected)
    assert "rebuilt from upstream" in update.note
    assert not list(path.parent.glob(".*unsound*"))  # the unsound copy is gone


def test_a_sound_mirror_whose_upstream_is_unreachable_is_kept_as_it_was(
    upstream: Upstream, tmp_path: Path
) -> None:
    path = mirror_path(tmp_path / "cache", upstream.organisation, "app")
    update_mirror(path, str(upstream.bare("app")), LOCAL)
    expected = local_refs(path)
    with pytest.raises(GitError):
        refresh_mirror(path, str(tmp_path / "gone.git"), LOCAL)
    assert local_refs(path) == expected  # neither set aside nor rebuilt
