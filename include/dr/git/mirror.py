"""The local mirror cache: one bare ``--mirror`` repository per upstream repository.

A mirror is made by cloning into a hidden sibling folder and renaming it into
place, so a half-made clone is never taken for a mirror. Later runs fetch with
``--atomic``: git writes the received pack under a temporary name and updates
every ref in one transaction, so a fetch cut off mid-transfer leaves the mirror
exactly as it was. ``git fsck`` proves that after every fetch.

The mirror follows upstream, force-pushes and deleted branches included; the
dated bundles (:mod:`include.dr.git.bundle`) are what keep the old history.
One change is never followed: a repository emptied upstream (no branch and no
tag left) would prune the mirror to nothing, so its ref list is read first
(``git ls-remote``) and the mirror is kept as it was. Should it be emptied
between that listing and the fetch, the mirror's refs are put back in one
transaction (the pruned objects are still there: git keeps unreachable objects
for two weeks).
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from include.dr.git.remote import GitError, GitRemote, run_git
from include.dr.store import backup_store_dir

LFS_NOT_USED = "not used"
LFS_UNAVAILABLE = "used, but git-lfs is not installed on the worker: LFS objects NOT backed up"
HISTORY_REFS = ("refs/heads/", "refs/tags/")


@dataclass(frozen=True)
class MirrorUpdate:
    """``kept``: upstream lists no branch or tag while the mirror holds some, so the mirror
    was left as it was (see :func:`update_mirror`)."""

    action: Literal["cloned", "fetched", "kept"]
    seconds: float


@dataclass(frozen=True)
class MirrorState:
    """What the mirror holds after an update: its refs, and whether it is sound."""

    refs: dict[str, str]
    fsck: str
    lfs: str


def mirrors_dir() -> Path:
    """The mirror cache in the local backup store: ``<org>/<repository>.git``."""
    return backup_store_dir() / "git" / "mirrors"


def mirror_path(cache: Path, organisation: str, name: str) -> Path:
    return cache / organisation / f"{name}.git"


def update_mirror(path: Path, url: str, remote: GitRemote) -> MirrorUpdate:
    """Clone the mirror the first time, fetch into it every time after; never prune a
    mirror that holds branches or tags down to none (the repository was emptied upstream)."""
    started = time.monotonic()
    if (path / "HEAD").exists():
        if f"url = {url}\n" not in (path / "config").read_text():
            run_git(["--git-dir", str(path), "remote", "set-url", "origin", url])
        before = local_refs(path)
        if holds_history(before) and not holds_history(upstream_refs(path, remote)):
            return MirrorUpdate("kept", round(time.monotonic() - started, 3))
        run_git(
            ["--git-dir", str(path), "fetch", "--quiet", "--prune", "--atomic", "origin"],
            remote=remote,
        )
        after = local_refs(path)
        if holds_history(before) and not holds_history(after):  # emptied after the listing
            _put_back(path, before, after)
            return MirrorUpdate("kept", round(time.monotonic() - started, 3))
        return MirrorUpdate("fetched", round(time.monotonic() - started, 3))
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{path.name}.partial-*"):
        shutil.rmtree(stale, ignore_errors=True)  # our own interrupted clones, never a mirror
    partial = path.with_name(f".{path.name}.partial-{uuid.uuid4().hex[:8]}")
    try:
        run_git(["clone", "--quiet", "--mirror", url, str(partial)], remote=remote)
        partial.rename(path)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return MirrorUpdate("cloned", round(time.monotonic() - started, 3))


def inspect_mirror(path: Path, remote: GitRemote) -> MirrorState:
    """Refs and their SHAs, a full ``git fsck``, and the LFS objects where LFS is used."""
    git_dir = ["--git-dir", str(path)]
    run_git([*git_dir, "fsck", "--no-progress", "--no-dangling", "--strict"])
    return MirrorState(refs=local_refs(path), fsck="clean", lfs=_fetch_lfs(path, remote))


def holds_history(refs: Iterable[str]) -> bool:
    """Whether any of the refs is a branch or a tag: what a repository with history has."""
    return any(ref.startswith(HISTORY_REFS) for ref in refs)


def local_refs(path: Path) -> dict[str, str]:
    """The mirror's refs and their SHAs."""
    listing = run_git(["--git-dir", str(path), "for-each-ref", "--format=%(objectname) %(refname)"])
    return {ref: sha for sha, ref in (line.split(" ", 1) for line in listing.splitlines() if line)}


def upstream_refs(path: Path, remote: GitRemote) -> dict[str, str]:
    """The refs upstream lists now (``git ls-remote``), fetching nothing."""
    listing = run_git(["--git-dir", str(path), "ls-remote", "origin"], remote=remote)
    return {ref: sha for sha, ref in (line.split("\t", 1) for line in listing.splitlines() if line)}


def _put_back(path: Path, refs: dict[str, str], now: dict[str, str]) -> None:
    """Set the mirror's refs back to ``refs`` in one transaction (all or none)."""
    lines = [f"delete {ref}" for ref in now if ref not in refs]
    lines += [f"update {ref} {sha}" for ref, sha in refs.items()]
    script = "\n".join(["start", *lines, "prepare", "commit", ""])
    run_git(["--git-dir", str(path), "update-ref", "--stdin"], stdin=script.encode())


def _fetch_lfs(path: Path, remote: GitRemote) -> str:
    try:
        attributes = run_git(["--git-dir", str(path), "cat-file", "-p", "HEAD:.gitattributes"])
    except GitError:
        return LFS_NOT_USED  # no .gitattributes, or an empty repository
    if "filter=lfs" not in attributes:
        return LFS_NOT_USED
    if not shutil.which("git-lfs"):
        return LFS_UNAVAILABLE
    run_git(["--git-dir", str(path), "lfs", "fetch", "--all", "origin"], remote=remote)
    return "fetched"
