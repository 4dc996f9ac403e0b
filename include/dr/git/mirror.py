"""The local mirror cache: one bare ``--mirror`` repository per upstream repository.

A mirror is made by cloning into a hidden sibling folder and renaming it into
place, so a half-made clone is never taken for a mirror. Later runs fetch with
``--atomic``: git writes the received pack under a temporary name and updates
every ref in one transaction, so a fetch cut off mid-transfer leaves the mirror
exactly as it was. ``git fsck`` proves that after every fetch.

The mirror follows upstream, force-pushes and deleted branches included; the
dated bundles (:mod:`include.dr.git.bundle`) are what keep the old history.
"""

from __future__ import annotations

import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from include.dr.git.remote import GitError, GitRemote, run_git

LFS_NOT_USED = "not used"
LFS_UNAVAILABLE = "used, but git-lfs is not installed on the worker: LFS objects NOT backed up"


@dataclass(frozen=True)
class MirrorUpdate:
    action: Literal["cloned", "fetched"]
    seconds: float


@dataclass(frozen=True)
class MirrorState:
    """What the mirror holds after an update: its refs, and whether it is sound."""

    refs: dict[str, str]
    fsck: str
    lfs: str


def mirror_path(cache: Path, organisation: str, name: str) -> Path:
    return cache / organisation / f"{name}.git"


def update_mirror(path: Path, url: str, remote: GitRemote) -> MirrorUpdate:
    """Clone the mirror the first time, fetch into it every time after."""
    started = time.monotonic()
    if (path / "HEAD").exists():
        if f"url = {url}\n" not in (path / "config").read_text():
            run_git(["--git-dir", str(path), "remote", "set-url", "origin", url])
        run_git(
            ["--git-dir", str(path), "fetch", "--quiet", "--prune", "--atomic", "origin"],
            remote=remote,
        )
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
    listing = run_git([*git_dir, "for-each-ref", "--format=%(objectname) %(refname)"])
    refs = {ref: sha for sha, ref in (line.split(" ", 1) for line in listing.splitlines() if line)}
    return MirrorState(refs=refs, fsck="clean", lfs=_fetch_lfs(path, remote))


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
