"""How a failed git command is classified: the network is transient (retried), a refused,
missing or invalid repository is permanent (failed at once), and GitHub's known refusals
(a dead or SSO-unauthorised token, a push without write access or the workflow scope, a
push over 2 GiB) are permanent with a message naming the cause and the fix."""

from __future__ import annotations

import pickle
import subprocess
from pathlib import Path

import pytest

from include.dr.errors import Permanent, Transient
from include.dr.git.remote import (
    GitError,
    GitFailed,
    GitHubRefused,
    GitRefused,
    GitRemote,
    GitUnreachable,
    git_error,
    github_api_refusal,
    run_git,
)
from tests.git_http import git_http


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


# GitHub's refusals, in the words git and the API print them: each names its cause and fix.
GITHUB_ANSWERS = [
    (
        "bad_credentials",
        "remote: Invalid username or token. Password authentication is not supported for Git "
        "operations.\nfatal: Authentication failed for 'https://github.com/o/r.git/'",
        "expired, revoked or wrong",
    ),
    (
        "bad_credentials",
        "remote: Support for password authentication was removed on August 13, 2021.\n"
        "fatal: Authentication failed for 'https://github.com/o/r.git/'",
        "expired, revoked or wrong",
    ),
    (
        "bad_credentials",
        "fatal: unable to access 'https://github.com/o/r.git/': The requested URL returned "
        "error: 401",
        "expired, revoked or wrong",
    ),
    (
        "saml_sso",
        "remote: The 'o' organization has enabled or enforced SAML SSO.\nremote: To access "
        "this repository, you must re-authorize the OAuth Application 'GitHub CLI'.\n"
        "fatal: unable to access 'https://github.com/o/r.git/': The requested URL returned "
        "error: 403",
        "SAML single sign-on",
    ),
    (
        "workflow_scope",
        "To https://github.com/o/r.git\n ! [remote rejected] main -> main (refusing to allow "
        "a Personal Access Token to create or update workflow `.github/workflows/ci.yml` "
        "without `workflow` scope)\nerror: failed to push some refs to "
        "'https://github.com/o/r.git'",
        "workflow scope",
    ),
    (
        "workflow_scope",
        "! [remote rejected] main -> main (refusing to allow an OAuth App to create or update "
        "workflow `.github/workflows/ci.yml` without `workflow` scope)",
        "workflow scope",
    ),
    (
        "workflow_scope",
        "! [remote rejected] main -> main (refusing to allow a GitHub App to create or update "
        "workflow `.github/workflows/ci.yml` without `workflows` permission)",
        "Workflows permission",
    ),
    (
        "write_access",
        "remote: Permission to o/r.git denied to backup-bot.\nfatal: unable to access "
        "'https://github.com/o/r.git/': The requested URL returned error: 403",
        "not write",
    ),
    (
        "write_access",
        "remote: Write access to repository not granted.\nfatal: unable to access "
        "'https://github.com/o/r.git/': The requested URL returned error: 403",
        "not write",
    ),
    (
        "pack_too_large",  # also prints what reads as a broken transfer: not retried
        "remote: fatal: pack exceeds maximum allowed size (2.00 GiB)\nerror: RPC failed; "
        "curl 92 HTTP/2 stream 0 was not closed cleanly: CANCEL (err 8)\nsend-pack: unexpected "
        "disconnect while reading sideband packet\nfatal: the remote end hung up unexpectedly",
        "2 GiB",
    ),
]


@pytest.mark.parametrize(("name", "stderr", "cause"), GITHUB_ANSWERS)
def test_a_github_refusal_is_permanent_and_names_its_cause_and_fix(
    name: str, stderr: str, cause: str
) -> None:
    error = git_error(f"git push failed (1): {stderr}")
    assert isinstance(error, GitRefused) and isinstance(error, GitFailed)
    assert isinstance(error, Permanent) and not isinstance(error, Transient)
    assert error.refusal.name == name
    message = str(error)
    assert message.startswith(f"git push failed (1): {stderr}")  # git's own words are kept
    assert "\nCause: " in message and cause in message.split("\nCause: ")[1]
    assert "\nFix: " in message and "run the" in message.split("\nFix: ")[1]


@pytest.mark.parametrize(
    ("status", "message", "name"),
    [
        (401, "Bad credentials", "bad_credentials"),
        (401, "Requires authentication", "bad_credentials"),
        (
            403,
            "Resource protected by organization SAML enforcement. You must grant your "
            "Personal Access token access to this organization.",
            "saml_sso",
        ),
    ],
)
def test_a_github_api_refusal_is_permanent_and_names_its_cause(
    status: int, message: str, name: str
) -> None:
    error = github_api_refusal(status, message, "listing the repositories of o")
    assert isinstance(error, GitHubRefused) and isinstance(error, Permanent)
    assert error.refusal.name == name
    assert str(error).startswith(f"listing the repositories of o: GitHub answered {status}")
    assert "\nFix: " in str(error)


def test_other_api_answers_are_left_to_the_caller() -> None:
    assert github_api_refusal(404, "Not Found", "listing") is None
    assert github_api_refusal(403, "API rate limit exceeded for installation", "listing") is None


def test_a_refusal_survives_pickling_unchanged() -> None:
    error = git_error("git fetch failed (128): fatal: Authentication failed for 'x'")
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object
    assert type(copy) is GitRefused and str(copy) == str(error)
    assert copy.refusal == error.refusal


def test_a_token_github_does_not_accept_is_named_through_real_git(tmp_path: Path) -> None:
    """git against a loopback HTTP server that answers 401, as GitHub does a dead token."""
    subprocess.run(["git", "init", "-q", "--bare", str(tmp_path / "o" / "r.git")], check=True)
    with git_http(tmp_path, "the-live-token") as (base, _):
        remote = GitRemote(base, "an-expired-token")
        with pytest.raises(GitRefused) as refused:
            run_git(["ls-remote", remote.url("o", "r")], remote=remote, timeout=60)
    message = str(refused.value)
    assert refused.value.refusal.name == "bad_credentials"
    assert "expired, revoked or wrong" in message and "github_default" in message
    assert all(secret not in message for secret in remote.secrets())
