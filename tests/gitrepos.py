"""Upstream repositories for git tests: bare repositories served by the local git daemon,
changed the way people change them (commits, force-pushes, deleted branches)."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

from include.dr.local_stack.git_daemon import repos_root, seed_repositories


def git(*args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,  # noqa: S607
    )
    return done.stdout


def literally(repository: Path, kind: str, content: bytes) -> str:
    """Write an object as given, unchecked (``git hash-object --literally``); its SHA."""
    done = subprocess.run(
        [
            "git",
            "--git-dir",
            str(repository),
            "hash-object",
            "-w",
            "--literally",
            "-t",
            kind,
            "--stdin",
        ],
        input=content,
        capture_output=True,
        check=True,  # noqa: S607
    )
    return done.stdout.decode().strip()


def tree_entry(mode: str, name: str, sha: str) -> bytes:
    """One raw tree entry; ``mode`` as written, ``040000`` (zero-padded) included."""
    return f"{mode} {name}".encode() + b"\0" + bytes.fromhex(sha)


def zero_padded_tree(repository: Path) -> bytes:
    """Raw entries of a tree holding a subtree under the zero-padded mode ``040000``."""
    blob = literally(repository, "blob", b"old\n")
    inner = literally(repository, "tree", tree_entry("100644", "file", blob))
    return tree_entry("040000", "dir", inner)


def with_folder(repository: Path, top: str, name: str, sub: str) -> str:
    """Tree ``top`` with the folder ``name`` (tree ``sub``) added, written by ``git mktree``
    (which writes its own entries well, whatever ``sub`` holds)."""
    listing = git("--git-dir", str(repository), "ls-tree", top) + f"040000 tree {sub}\t{name}\n"
    done = subprocess.run(
        ["git", "--git-dir", str(repository), "mktree"],
        input=listing,
        capture_output=True,
        text=True,
        check=True,  # noqa: S607
    )
    return done.stdout.strip()


class Upstream:
    """A throwaway organisation of bare repositories under the git daemon's base path."""

    def __init__(self, state: Path, names: tuple[str, ...]) -> None:
        self.organisation = f"t{uuid.uuid4().hex[:8]}"
        self.names = names
        self.root = repos_root(state) / self.organisation
        seed_repositories(state, self.organisation, names)

    def bare(self, name: str) -> Path:
        return self.root / f"{name}.git"

    def refs(self, name: str) -> dict[str, str]:
        listing = git(
            "--git-dir", str(self.bare(name)), "for-each-ref", "--format=%(objectname) %(refname)"
        )
        return {ref: sha for sha, ref in (line.split(" ", 1) for line in listing.splitlines())}

    def commit(self, name: str, branch: str, path: str, content: str, work: Path) -> str:
        clone = work / f"{name}-{uuid.uuid4().hex[:6]}"
        git("clone", "-q", "-b", branch, str(self.bare(name)), str(clone))
        (clone / path).parent.mkdir(parents=True, exist_ok=True)
        (clone / path).write_text(content)
        git("add", path, cwd=clone)
        git(
            "-c",
            "user.name=Dev",
            "-c",
            "user.email=dev@example.com",
            "commit",
            "-q",
            "-m",
            f"change {path}",
            cwd=clone,
        )
        git("push", "-q", "origin", branch, cwd=clone)
        return git("rev-parse", "HEAD", cwd=clone).strip()

    def force_push(self, name: str, branch: str, to: str, work: Path) -> None:
        """Rewrite history: ``git push --force`` the branch back to ``to`` (an older commit)."""
        clone = work / f"{name}-{uuid.uuid4().hex[:6]}"
        git("clone", "-q", "--mirror", str(self.bare(name)), str(clone))
        git(
            "--git-dir",
            str(clone),
            "push",
            "-q",
            "--force",
            str(self.bare(name)),
            f"{to}:refs/heads/{branch}",
        )

    def delete_branch(self, name: str, branch: str) -> None:
        """``git push origin :branch``, from wherever: the branch is gone upstream."""
        git(
            "--git-dir",
            str(self.bare(name)),
            "push",
            "-q",
            str(self.bare(name)),
            f":refs/heads/{branch}",
        )

    def add_empty(self, name: str) -> None:
        """A new repository with no commits at all (``git init --bare``), as created on GitHub."""
        git("init", "-q", "--bare", "-b", "main", str(self.bare(name)))
        self.names = (*self.names, name)

    def empty(self, name: str) -> None:
        """Every branch and tag deleted upstream: the repository is there, with nothing in it."""
        for ref in git(
            "--git-dir", str(self.bare(name)), "for-each-ref", "--format=%(refname)"
        ).split():
            git("--git-dir", str(self.bare(name)), "update-ref", "-d", ref)

    def commit_malformed(
        self, name: str, branch: str, *, zero_padded: bool = False, zone: str = "+0000"
    ) -> str:
        """Write a commit on ``branch`` the way old tools did, past git's own checks
        (``hash-object --literally``): with ``zero_padded``, a ``sub/`` folder whose tree
        holds a ``040000`` mode; ``zone`` as the author's time zone (``+05-30`` is bad).
        github.com serves such history as it is."""
        git_dir = ("--git-dir", str(self.bare(name)))
        parent = git(*git_dir, "rev-parse", f"refs/heads/{branch}").strip()
        top = git(*git_dir, "rev-parse", f"{parent}^{{tree}}").strip()
        if zero_padded:
            sub = literally(self.bare(name), "tree", zero_padded_tree(self.bare(name)))
            top = with_folder(self.bare(name), top, "sub", sub)
        body = (
            f"tree {top}\nparent {parent}\n"
            f"author Old Tool <old@example.com> 1000000000 {zone}\n"
            f"committer Old Tool <old@example.com> 1000000000 +0000\n\nold history\n"
        )
        sha = literally(self.bare(name), "commit", body.encode())
        git(*git_dir, "update-ref", f"refs/heads/{branch}", sha)
        return sha

    def delete_repository(self, name: str) -> None:
        shutil.rmtree(self.bare(name))

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
