"""Where repositories are fetched from, and how git gets the token without storing it.

The token never goes into a remote URL (git would write it into the mirror's
config and print it in errors). It reaches git as an HTTP ``Authorization``
header through ``GIT_CONFIG_*`` environment variables, scoped to the git host,
and only over HTTPS (or loopback, for tests). A GitHub App connection's token is an
installation token asked for on every git command, so it is never older than its hour
allows (:mod:`include.dr.git.tokens`). Every git call goes through :func:`run_git`,
which scrubs every token issued from anything it raises.

A failed git command is a :class:`GitUnreachable` (the host could not be reached or
the transfer broke off: transient, asked again later) or a :class:`GitFailed` (the
repository is refused, missing or invalid, or a local command failed: permanent).

GitHub's own refusals are recognised first, by their text (:data:`GITHUB_REFUSALS`),
and raised as :class:`GitRefused` (permanent) with a message naming the cause and the
fix: a token that is expired, revoked, wrong or missing ("Bad credentials", HTTP 401,
"Authentication failed", "Invalid username or token", "Password authentication is not
supported"); a token not authorised for the organisation's SAML single sign-on
("Resource protected by organization SAML enforcement", "has enabled or enforced SAML
SSO"); and, on a push, a token without write access ("Write access to repository not
granted", "Permission to ... denied"), a token without the ``workflow`` scope ("refusing
to allow a Personal Access Token / an OAuth App / a GitHub App to create or update
workflow ..."), and a push over GitHub's 2 GiB limit ("pack exceeds maximum allowed
size", which otherwise reads as a broken transfer and would be retried for nothing).
The same texts from the GitHub API map through :func:`github_api_refusal`. Anything
else keeps the classification above.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from include.dr.connections import GITHUB as GITHUB_CONNECTION
from include.dr.connections import GITHUB_RESTORE
from include.dr.errors import BackupError, Permanent, Transient

if TYPE_CHECKING:
    from include.dr.git.tokens import InstallationTokens

GITHUB = "https://github.com"
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


# What git prints when the network, not the repository, is at fault.
NETWORK_FAULTS = (
    "could not resolve host",
    "temporary failure in name resolution",
    "unable to connect",
    "failed to connect",
    "couldn't connect",
    "connection refused",
    "connection reset",
    "connection timed out",
    "operation timed out",
    "network is unreachable",
    "the remote end hung up unexpectedly",
    "early eof",
    "rpc failed",
    "transfer closed",
    "gnutls",
    "ssl_error",
    "returned error: 429",
    "returned error: 500",
    "returned error: 502",
    "returned error: 503",
    "returned error: 504",
)


class GitError(BackupError):
    """A git command failed; the message holds its (scrubbed) stderr. Raised only as one
    of its two kinds, which say whether to retry."""


class GitUnreachable(GitError, Transient):
    """The git host could not be reached, or the transfer broke off: ask again later."""


class GitFailed(GitError, Permanent):
    """The repository is refused, missing or invalid, or a local git command failed."""


@dataclass(frozen=True)
class GitHubRefusal:
    """One way GitHub refuses a token or a push: the texts it answers with (matched
    case-insensitively), what they mean and what a person does about it."""

    name: str
    signs: tuple[str, ...]
    cause: str
    fix: str

    def matches(self, text: str) -> bool:
        return any(re.search(sign, text, re.IGNORECASE) for sign in self.signs)

    def explain(self, message: str) -> str:
        return f"{message}\nCause: {self.cause}.\nFix: {self.fix}"


# Checked in this order, before NETWORK_FAULTS: a refused push also prints "the remote end
# hung up", and an unauthorised token's 403 comes with a sentence that names the cause.
GITHUB_REFUSALS = (
    GitHubRefusal(
        "saml_sso",
        (r"SAML enforcement", r"enabled or enforced SAML SSO", r"authorize this token"),
        "the organisation enforces SAML single sign-on and the token is not authorised for it",
        "authorise the token for the organisation (GitHub > Settings > Developer settings > "
        "Personal access tokens > Configure SSO > Authorize; for an OAuth App, re-authorise "
        "the app), then run the task again; the connection can stay as it is",
    ),
    GitHubRefusal(
        "workflow_scope",
        (r"to create or update workflow .* without `?workflows?`? (scope|permission)",),
        "GitHub refused to write files under .github/workflows/ because the token lacks the "
        "workflow scope (a GitHub App: the Workflows permission)",
        "give the restore token the `workflow` scope (classic token: repo and workflow; "
        "fine-grained token or GitHub App: Contents and Workflows, read and write), put it in "
        f"the password of the {GITHUB_RESTORE} connection (never in {GITHUB_CONNECTION}, "
        "which the daily backup reads with), then run the restore again",
    ),
    GitHubRefusal(
        "write_access",
        (r"write access to repository not granted", r"permission to \S+ denied to"),
        "the token may read the repository but not write to it",
        "use a restore token with write access to the target (classic token: repo; "
        "fine-grained token or GitHub App: Contents, read and write) in the password of the "
        f"{GITHUB_RESTORE} connection, then run the restore again",
    ),
    GitHubRefusal(
        "pack_too_large",
        (r"pack exceeds maximum allowed size",),
        "GitHub refuses a single push of more than 2 GiB, and this one is larger "
        "(retrying the same push cannot succeed)",
        "push the history in parts under 2 GiB: the restore already pushes a large backup "
        "branch by branch in increments of at most BACKUP_GIT_PUSH_LIMIT_BYTES (default "
        "1 GiB of pack), so lower that variable on the workers and run the restore again; "
        "a single commit (or a tag off every branch) over 2 GiB cannot be pushed to GitHub "
        "at all: move its large files to Git LFS",
    ),
    GitHubRefusal(
        "bad_credentials",
        (
            r"bad credentials",
            r"invalid username or (token|password)",
            r"password authentication (is not supported|was removed)",
            r"authentication failed",
            r"returned error: 401",
            r"could not read username",
        ),
        "GitHub did not accept the token: it is expired, revoked or wrong, or none is set "
        "(GitHub answers all of these alike)",
        "create a new token and put it in the password of the connection the task reads "
        f"({GITHUB_CONNECTION} for the backup, {GITHUB_RESTORE} for a restore; for a GitHub "
        "App, check the app_id and private key in its extra and that the App is still "
        "installed on the organisation), then run the task again",
    ),
)


def github_refusal(text: str) -> GitHubRefusal | None:
    """The refusal GitHub's answer ``text`` shows, or None when it shows none of them."""
    return next((refusal for refusal in GITHUB_REFUSALS if refusal.matches(text)), None)


class GitHubRefused(Permanent):
    """GitHub refused the token or the push for a reason a person must mend; the message
    names the cause and the fix, and :attr:`refusal` says which it is."""

    def __init__(self, message: str, refusal: GitHubRefusal) -> None:
        super().__init__(refusal.explain(message))
        self.refusal = refusal

    def __reduce__(self) -> tuple[Any, ...]:  # pickled with its refusal, explained once
        return _refused, (type(self), str(self), self.refusal)


def _refused(kind: type[GitHubRefused], text: str, refusal: GitHubRefusal) -> GitHubRefused:
    error = kind.__new__(kind)
    Exception.__init__(error, text)
    error.refusal = refusal
    return error


class GitRefused(GitFailed, GitHubRefused):
    """A git command that GitHub refused (see :data:`GITHUB_REFUSALS`)."""


def git_error(message: str) -> GitError:
    """A failed git command's message as the kind of error it is: one of GitHub's known
    refusals first, then the network, then anything else as permanent."""
    if refusal := github_refusal(message):
        return GitRefused(message, refusal)
    lowered = message.lower()
    if any(fault in lowered for fault in NETWORK_FAULTS):
        return GitUnreachable(message)
    return GitFailed(message)


def github_api_refusal(status: int, message: str, doing: str) -> GitHubRefused | None:
    """A GitHub API answer (e.g. a PyGithub ``GithubException``'s ``status`` and ``data``
    message) as a :class:`GitHubRefused` when it is one of the known refusals (any 401 is
    a token GitHub did not accept); None otherwise, for the caller's own handling."""
    refusal = github_refusal(message) or github_refusal(f"returned error: {status}")
    return (
        GitHubRefused(f"{doing}: GitHub answered {status}: {message}", refusal) if refusal else None
    )


@dataclass(frozen=True)
class GitRemote:
    """The git host of a GitHub organisation, e.g. ``https://github.com``, and the token
    git sends it: a fixed ``token``, or a GitHub App's installation ``tokens``, asked for a
    fresh-enough one on every git command (:mod:`include.dr.git.tokens`)."""

    base_url: str
    token: str | None = field(default=None, repr=False)
    tokens: InstallationTokens | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_connection(
        cls,
        host: str | None,
        token: str | None,
        extra: Mapping[str, Any],
        tokens: InstallationTokens | None = None,
    ) -> GitRemote:
        """From a ``github`` connection: ``extra.git_url`` if set, else the host of the
        GitHub Enterprise API URL (``https://ghe.example.com/api/v3``), else github.com."""
        if extra.get("git_url"):
            base = str(extra["git_url"])
        elif host:
            parts = urlsplit(host if "://" in host else f"https://{host}")
            base = f"{parts.scheme}://{parts.netloc}"
        else:
            base = GITHUB
        return cls(base.rstrip("/"), token or None, tokens)

    def url(self, organisation: str, name: str) -> str:
        return f"{self.base_url}/{organisation}/{name}.git"

    @property
    def sends_token(self) -> bool:
        parts = urlsplit(self.base_url)
        secure = parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)
        return bool(self.token or self.tokens) and secure

    def environment(self) -> dict[str, str]:
        """Variables for git: never prompt; send the token as a header to this host only
        (an App's token as it is now: minted again when it is near its expiry)."""
        env = {"GIT_TERMINAL_PROMPT": "0", "GCM_INTERACTIVE": "never", "GIT_ASKPASS": "echo"}
        if self.sends_token:
            token = self.tokens.current() if self.tokens else self.token
            env |= {
                "GIT_CONFIG_COUNT": "1",
                "GIT_CONFIG_KEY_0": f"http.{self.base_url}/.extraHeader",
                "GIT_CONFIG_VALUE_0": f"Authorization: Basic {basic_credentials(token or '')}",
            }
        return env

    def secrets(self) -> list[str]:
        """Every form of every token issued so far that could leak, for masking and
        scrubbing."""
        held = [self.token] if self.token else []
        held += self.tokens.issued() if self.tokens else ()
        return [form for token in held for form in (token, basic_credentials(token))]


def basic_credentials(token: str) -> str:
    """The token as HTTP basic credentials, the form git hosts accept it in."""
    return base64.b64encode(f"x-access-token:{token}".encode()).decode()


def git_binary() -> str:
    found = shutil.which("git")
    if not found:
        raise GitFailed("git is not installed on this worker; on Debian: apt-get install -y git")
    return found


@dataclass(frozen=True)
class GitCall:
    """A finished git command: its exit code and what it printed (scrubbed)."""

    command: str
    returncode: int
    stdout: str
    stderr: str


def run_git(
    args: Sequence[str],
    *,
    remote: GitRemote | None = None,
    cwd: Path | None = None,
    timeout: float = 3600,
    stdout: Any = subprocess.PIPE,
    stdin: bytes | None = None,
) -> str:
    """Run git (``stdin`` fed to it) and return its stdout; a failure raises
    :class:`GitError` of the kind its stderr shows (a command over the network that
    times out is :class:`GitUnreachable`)."""
    done = call_git(args, remote=remote, cwd=cwd, timeout=timeout, stdout=stdout, stdin=stdin)
    if done.returncode != 0:
        raise git_error(f"git {done.command} failed ({done.returncode}): {done.stderr}")
    return done.stdout


def call_git(
    args: Sequence[str],
    *,
    remote: GitRemote | None = None,
    cwd: Path | None = None,
    timeout: float = 3600,
    stdout: Any = subprocess.PIPE,
    stdin: bytes | None = None,
) -> GitCall:
    """Run git and return how it ended, failed or not, for a caller that reads both its
    outputs either way (``git fsck`` prints warnings on success, and missing objects on
    stdout). Only a time-out raises, as in :func:`run_git`."""
    env = dict(os.environ, **(remote.environment() if remote else {}), LC_ALL="C")
    command = _subcommand(args)
    try:
        done = subprocess.run(  # noqa: S603 - argv is built here, never by a shell
            [git_binary(), *args],
            cwd=cwd,
            env=env,
            input=stdin,
            stdout=stdout,
            stderr=subprocess.PIPE,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        kind = GitUnreachable if remote is not None else GitFailed
        raise kind(f"git {command} did not finish within {timeout:g} s") from None
    out = (done.stdout or b"").decode(errors="replace") if stdout is subprocess.PIPE else ""
    err = (done.stderr or b"").decode(errors="replace").strip()
    return GitCall(command, done.returncode, scrub(out, remote), scrub(err, remote))


def _subcommand(args: Sequence[str]) -> str:
    """``fetch`` for ``--git-dir /m.git fetch ...``: the word that names the failure."""
    skip_next = False
    for arg in args:
        if skip_next:
            skip_next = False
        elif arg in {"--git-dir", "-C", "-c"}:
            skip_next = True
        elif not arg.startswith("-"):
            return arg
    return " ".join(args[:1])


def scrub(text: str, remote: GitRemote | None) -> str:
    for secret in remote.secrets() if remote else []:
        text = text.replace(secret, "***")
    return text
