"""How a failed git command is classified: the network is transient (retried), a refused,
missing or invalid repository is permanent (failed at once)."""

from __future__ import annotations

from pathlib import Path

import pytest

from include.dr.errors import Permanent, Transient
from include.dr.git.remote import GitError, GitFailed, GitRemote, GitUnreachable, git_error, run_git


@pytest.mark.parametrize(
    "stderr",
    [
        "fatal: unable to connect to 127.0.0.1:\n127.0.0.1[0: 127.0.0.1]: errno=Connection refused",
        "fatal: unable to access 'https://github.com/o/r.git/': Could not resolve host: github.com",
        "fatal: unable to access 'https://github.com/o/r.git/': The requested URL returned "
        "error: 502",
        "error: RPC failed; curl 56 GnuTLS recv error (-9)\nfatal: early EOF",
        "fatal: the remote end hung up unexpectedly",
    ],
)
def test_a_network_failure_is_transient(stderr: str) -> None:
    error = git_error(f"git fetch failed (128): {stderr}")
    assert isinstance(error, GitUnreachable) and isinstance(error, Transient)
    assert not isinstance(error, Permanent)


@pytest.mark.parametrize(
    "stderr",
    [
        "remote: Repository not found.\nfatal: repository 'https://github.com/o/r.git/' not found",
        "fatal: Authentication failed for 'https://github.com/o/r.git/'",
        "fatal: remote error: access denied or repository not exported: /o/r.git",
        "fatal: '/nowhere/r.git' does not appear to be a git repository",
        "error: object 1234: badTree: ...\nfatal: fsck error in packed object",
    ],
)
def test_a_refused_missing_or_invalid_repository_is_permanent(stderr: str) -> None:
    error = git_error(f"git clone failed (128): {stderr}")
    assert isinstance(error, GitFailed) and isinstance(error, Permanent)
    assert not isinstance(error, Transient)


def test_real_git_failures_are_classified(tmp_path: Path) -> None:
    remote = GitRemote("")
    with pytest.raises(GitUnreachable, match="Connection refused"):
        run_git(["ls-remote", "git://127.0.0.1:1/o/r.git"], remote=remote)
    with pytest.raises(GitFailed, match="does not appear to be a git repository"):
        run_git(["ls-remote", str(tmp_path / "missing.git")], remote=remote)
    with pytest.raises(GitError):  # both kinds are caught as one
        run_git(["--git-dir", str(tmp_path / "missing.git"), "fsck"])
