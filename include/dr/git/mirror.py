"""The local mirror cache: one bare ``--mirror`` repository per upstream repository.

A mirror is made by cloning into a hidden sibling folder and renaming it into
place, so a half-made clone is never taken for a mirror. Later runs fetch with
``--atomic``: git writes the received pack under a temporary name and updates
every ref in one transaction, so a fetch cut off mid-transfer leaves the mirror
exactly as it was. ``git fsck`` proves that after every fetch: it fails on a
broken or missing object, and records (without failing) the harmless malformations
old history carries (see :func:`check_objects`).

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

from include.dr.git.remote import GitError, GitFailed, GitRemote, call_git, run_git
from include.dr.store import cache_dir

LFS_NOT_USED = "not used"
LFS_UNAVAILABLE = "used, but git-lfs is not installed on the worker: LFS objects NOT backed up"
HISTORY_REFS = ("refs/heads/", "refs/tags/")
# fsck messages git counts as errors that are only a malformed header in old history.
FSCK_DEMOTED = ("badTimezone",)
# At most this many of fsck's warnings or errors are recorded or raised; a count says the rest.
FSCK_LINES_KEPT = 20
_NOT_ERRORS = ("warning", "notice")  # fsck's lines that say nothing is broken


@dataclass(frozen=True)
class MirrorUpdate:
    """``kept``: upstream lists no branch or tag while the mirror holds some, so the mirror
    was left as it was (see :func:`update_mirror`)."""

    action: Literal["cloned", "fetched", "kept", "rebuilt"]
    seconds: float
    note: str = ""


@dataclass(frozen=True)
class MirrorState:
    """What the mirror holds after an update: its refs, and whether it is sound."""

    refs: dict[str, str]
    fsck: Literal["clean", "warnings"]
    lfs: str
    fsck_warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class FsckResult:
    """``warnings``: fsck's warning lines, at most :data:`FSCK_LINES_KEPT` and a count."""

    verdict: Literal["clean", "warnings"]
    warnings: tuple[str, ...]


def mirrors_dir() -> Path:
    """The mirror cache on this worker's disk: ``<org>/<repository>.git``."""
    return cache_dir() / "git" / "mirrors"


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


def refresh_mirror(path: Path, url: str, remote: GitRemote) -> tuple[MirrorUpdate, MirrorState]:
    """Update the cached mirror and prove it sound; a cache that is not is rebuilt.

    The mirror is a cache: this worker may have a stale, half-written or damaged copy (a
    disk that filled, a pod killed mid-write, a file altered by hand). When the fetch or
    ``git fsck`` fails and the mirror itself does not pass ``git fsck``, it is set aside
    (renamed, never deleted) and cloned afresh from upstream. If the fresh clone fails
    too, upstream is at fault and the error is raised. A fetch that fails while the
    mirror is sound (the network, the hosting service) is raised as it is.
    """
    try:
        update = update_mirror(path, url, remote)
        return update, inspect_mirror(path, remote)
    except GitError as failed:
        if not (path / "HEAD").exists() or _sound(path):
            raise
        broken = failed
    started = time.monotonic()
    aside = path.with_name(f".{path.name}.unsound-{uuid.uuid4().hex[:8]}")
    path.rename(aside)
    try:
        update_mirror(path, url, remote)
        state = inspect_mirror(path, remote)
    finally:
        shutil.rmtree(aside, ignore_errors=True)
    note = f"the cached mirror failed ({type(broken).__name__}) and was rebuilt from upstream"
    return MirrorUpdate("rebuilt", round(time.monotonic() - started, 3), note), state


def _sound(path: Path) -> bool:
    """Whether the mirror at ``path`` passes ``git fsck`` (errors, not warnings)."""
    try:
        check_objects(path)
    except GitError:
        return False
    return True


def inspect_mirror(path: Path, remote: GitRemote) -> MirrorState:
    """Refs and their SHAs, a full ``git fsck``, and the LFS objects where LFS is used."""
    checked = check_objects(path)
    return MirrorState(
        refs=local_refs(path),
        fsck=checked.verdict,
        lfs=_fetch_lfs(path, remote),
        fsck_warnings=checked.warnings,
    )


MIRROR_FSCK_FIX = (
    "A fresh clone from upstream fails too, so upstream holds the damage. Nothing of it is "
    "bundled today; its earlier bundles are kept. Restore the repository from its newest "
    "bundle (restore_git DAG)."
)


def check_objects(
    path: Path, *, what: str = "the mirror", fix: str = MIRROR_FSCK_FIX
) -> FsckResult:
    """``git fsck`` the repository at ``path``: fail on errors, return the warnings.

    Not ``--strict``: it turns every warning into an error, and real repositories carry
    harmless ones in history nobody can rewrite (a tree with a zero-padded ``040000``
    mode, written by old tools; GitHub serves them). Such a repository would fail every
    day. Nor do we keep ``--strict`` and demote warnings one by one (``-c
    fsck.<id>=warn``): the list of ids grows with each git release, and a new one would
    fail the backup again. Instead plain fsck, which already fails on every real
    corruption (a missing, truncated or unreadable object, a broken link, a ref to
    nothing), plus :data:`FSCK_DEMOTED`: the few ids plain fsck counts as errors that
    are only a malformed header (a commit's time zone such as ``+05-30``), named one by
    one so that every other error still fails.

    A failure raises :class:`GitFailed` (permanent: re-running cannot mend a broken
    object), naming the first errors and ``fix``. Restores and the restore test check a
    bundle's clone with the same rule, so a backup that passed is never refused later.
    """
    demoted = [arg for msg_id in FSCK_DEMOTED for arg in ("-c", f"fsck.{msg_id}=warn")]
    done = call_git([*demoted, "--git-dir", str(path), "fsck", "--no-progress", "--no-dangling"])
    printed = [*done.stderr.splitlines(), *done.stdout.splitlines()]
    if done.returncode != 0:
        errors = [line for line in printed if line and not line.startswith(_NOT_ERRORS)]
        errors = errors or [f"exit code {done.returncode}, no error printed"]
        raise GitFailed(
            f"git fsck found errors in {what} {path}: {'; '.join(_bounded(errors))}. {fix}"
        )
    warnings = [line for line in printed if line.startswith("warning")]
    return FsckResult("warnings" if warnings else "clean", _bounded(warnings))


def _bounded(lines: list[str]) -> tuple[str, ...]:
    """The first :data:`FSCK_LINES_KEPT` lines, and how many more there were."""
    kept = lines[:FSCK_LINES_KEPT]
    more = len(lines) - len(kept)
    return (*kept, f"... and {more} more") if more else tuple(kept)


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
