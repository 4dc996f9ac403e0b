"""git with a GitHub App connection: the installation token is minted through the GitHub
provider's hook from a loopback API that signs nothing it has not checked (the App's JWT
against its public key), git's loopback smart-HTTP server accepts a token only until it
expires, and the clock is moved instead of waiting an hour."""

from __future__ import annotations

import json
import pickle
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from include.dr.errors import Permanent
from include.dr.git import tokens
from include.dr.git.remote import (
    GitFailed,
    GitRefused,
    GitRemote,
    basic_credentials,
    run_git,
    scrub,
)
from include.dr.git.tokens import InstallationTokens, IssuedToken
from tests.git_http import git_http
from tests.github_api import ApiState, AppInstallations, github_api

APP_ID, INSTALLATION = "123456", 42


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """One clock for the tokens' holder, the API that issues them and the git server."""
    moved = Clock(datetime.now(UTC))
    monkeypatch.setattr(tokens, "utc_now", moved)
    return moved


def key_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


PRIVATE, PUBLIC = key_pair()


@dataclass
class Stack:
    app: AppInstallations
    git_base: str
    api_base: str
    headers: list[str]
    masked: list[Any]  # the hook masks the connection's extra too (a dict)


@pytest.fixture
def stack(tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """The API and git over HTTP, one repository ``org/app``, and an App connection
    ``github_app`` pointing at both (what a real one holds: the API URL in the host)."""
    root = tmp_path / "served"
    work = tmp_path / "work"
    subprocess.run(["git", "init", "-q", "--bare", str(root / "org" / "app.git")], check=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(work)], check=True)
    (work / "README").write_text("hello\n")
    for args in (["add", "README"], ["commit", "-qm", "first"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@e", "-C", str(work), *args],
            check=True,
        )
    subprocess.run(
        ["git", "-C", str(work), "push", "-q", str(root / "org" / "app.git"), "main"], check=True
    )
    app = AppInstallations(APP_ID, INSTALLATION, PUBLIC, clock=clock)
    masked: list[Any] = []
    monkeypatch.setattr("airflow.sdk.log.mask_secret", masked.append)
    with github_api(ApiState(app=app)) as api, git_http(root, app.valid) as (base, headers):
        extra = {
            "app_id": APP_ID,
            "installation_id": INSTALLATION,
            "private_key": PRIVATE,
            "git_url": base,
        }
        conn = {"conn_type": "github", "host": api.base, "extra": extra}
        monkeypatch.setenv("AIRFLOW_CONN_GITHUB_APP", json.dumps(conn))
        yield Stack(app, base, api.base, headers, masked)


def app_remote(conn_id: str = "github_app") -> GitRemote:
    from include.dr.git.connections import git_remote

    return git_remote(conn_id)


def test_git_clones_with_the_installation_token_and_mints_a_new_one_near_expiry(
    stack: Stack, clock: Clock, tmp_path: Path
) -> None:
    remote = app_remote()
    assert stack.app.issued == {}  # nothing is minted until git needs a token
    mirror = tmp_path / "mirror.git"
    run_git(["clone", "--quiet", "--mirror", remote.url("org", "app"), str(mirror)], remote=remote)
    [first] = stack.app.issued
    assert stack.headers[-1] == f"Basic {basic_credentials(first)}"

    clock.advance(minutes=30)  # half its hour left: the same token serves the next call
    run_git(["--git-dir", str(mirror), "fetch", "--quiet"], remote=remote)
    assert list(stack.app.issued) == [first]

    clock.advance(minutes=21)  # 9 minutes left, inside the margin: the next call mints
    run_git(["--git-dir", str(mirror), "fetch", "--quiet"], remote=remote)
    first_, second = stack.app.issued
    assert first_ == first and stack.headers[-1] == f"Basic {basic_credentials(second)}"

    clock.advance(minutes=10)  # the first has expired: the server refuses it, as GitHub does
    with pytest.raises(GitRefused) as refused:
        run_git(["ls-remote", remote.url("org", "app")], remote=GitRemote(stack.git_base, first))
    assert refused.value.refusal.name == "bad_credentials" and first not in str(refused.value)
    run_git(["ls-remote", remote.url("org", "app")], remote=remote)  # the second still serves

    # Every token issued is masked in both forms and scrubbed from errors.
    masked = {secret for secret in stack.masked if isinstance(secret, str)}
    assert {first, second, basic_credentials(first), basic_credentials(second)} <= masked
    assert scrub(f"a {first} b {basic_credentials(second)}", remote) == "a *** b ***"


def test_a_pickled_remote_carries_no_token_and_mints_its_own(stack: Stack, tmp_path: Path) -> None:
    remote = app_remote()
    run_git(["ls-remote", remote.url("org", "app")], remote=remote)
    [first] = stack.app.issued
    copy = pickle.loads(pickle.dumps(remote))  # noqa: S301 - our own object
    assert first not in pickle.dumps(remote).decode(errors="replace")
    run_git(["ls-remote", copy.url("org", "app")], remote=copy)
    assert len(stack.app.issued) == 2 and copy.base_url == remote.base_url


def test_the_api_refusing_the_apps_key_is_githubs_bad_credentials_refusal(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong, _ = key_pair()
    extra = {"app_id": APP_ID, "installation_id": INSTALLATION, "private_key": wrong}
    conn = {"conn_type": "github", "host": stack.api_base, "extra": extra | {"git_url": "x"}}
    monkeypatch.setenv("AIRFLOW_CONN_GITHUB_APP", json.dumps(conn))
    remote = GitRemote(stack.git_base, tokens=app_remote().tokens)
    with pytest.raises(GitRefused) as refused:
        run_git(["ls-remote", remote.url("org", "app")], remote=remote)
    assert isinstance(refused.value, Permanent) and refused.value.refusal.name == "bad_credentials"
    message = str(refused.value)
    assert "installation token (github_app connection)" in message and "private key" in message
    assert stack.app.issued == {}


def test_an_unknown_installation_is_named_with_the_fix(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra = {"app_id": APP_ID, "installation_id": 7, "private_key": PRIVATE}
    conn = {"conn_type": "github", "host": stack.api_base, "extra": extra | {"git_url": "x"}}
    monkeypatch.setenv("AIRFLOW_CONN_GITHUB_APP", json.dumps(conn))
    remote = GitRemote(stack.git_base, tokens=app_remote().tokens)
    with pytest.raises(GitFailed, match="no installation 7 of App 123456.*installation_id"):
        run_git(["ls-remote", remote.url("org", "app")], remote=remote)


def test_git_refusing_an_installation_token_goes_through_githubs_refusals(
    stack: Stack, clock: Clock, tmp_path: Path
) -> None:
    remote = app_remote()
    run_git(["ls-remote", remote.url("org", "app")], remote=remote)
    [token] = stack.app.issued
    stack.app.issued[token] = clock.now  # revoked upstream before its hour was out
    with pytest.raises(GitRefused) as refused:
        run_git(["ls-remote", remote.url("org", "app")], remote=remote)
    assert refused.value.refusal.name == "bad_credentials" and token not in str(refused.value)
    assert "github_restore for a restore" in str(refused.value)


def test_a_token_in_the_password_wins_over_app_extras_as_in_the_providers_hook(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    extra = {"app_id": APP_ID, "installation_id": INSTALLATION, "private_key": PRIVATE}
    conn = {"conn_type": "github", "password": "ghp_plain", "extra": extra}
    monkeypatch.setenv("AIRFLOW_CONN_GITHUB_PLAIN", json.dumps(conn))
    monkeypatch.setattr("airflow.sdk.log.mask_secret", lambda secret: None)
    remote = app_remote("github_plain")
    assert remote.tokens is None and remote.token == "ghp_plain"


# --- the holder alone, with a counting mint ---


class CountingMint:
    """Mints ``t1``, ``t2``, ... each valid for an hour from the clock."""

    def __init__(self, clock: Clock) -> None:
        self.clock, self.count = clock, 0

    def __call__(self) -> IssuedToken:
        self.count += 1
        return IssuedToken(f"t{self.count}", self.clock() + timedelta(hours=1))


def test_the_holder_mints_once_for_many_threads_and_again_inside_the_margin(
    clock: Clock,
) -> None:
    mint, seen = CountingMint(clock), list[str]()
    holder = InstallationTokens(mint, on_issue=seen.append)
    threads = [threading.Thread(target=holder.current) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert mint.count == 1 and seen == ["t1"]
    clock.advance(minutes=49, seconds=59)
    assert holder.current() == "t1"
    clock.advance(seconds=2)  # under ten minutes left
    assert holder.current() == "t2" and holder.issued() == ("t1", "t2") and seen == ["t1", "t2"]


def _picklable_mint() -> IssuedToken:
    return IssuedToken("fresh", datetime.now(UTC) + timedelta(hours=1))


def test_a_pickled_holder_drops_its_tokens(clock: Clock) -> None:
    holder = InstallationTokens(_picklable_mint, margin=timedelta(minutes=5))
    holder.current()
    copy: Any = pickle.loads(pickle.dumps(holder))  # noqa: S301 - our own object
    assert copy.issued() == () and copy.current() == "fresh"
