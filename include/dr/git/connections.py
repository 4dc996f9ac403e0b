"""The git backup's secrets, read only from Airflow connections and masked in task logs,
and the bundles of record reached through the DR connection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from include.dr.connections import GIT_BUNDLE_KEY, GITHUB, GITHUB_RESTORE
from include.dr.errors import Permanent
from include.dr.git.crypto import load_key
from include.dr.git.remote import GitFailed, GitRemote, basic_credentials
from include.dr.git.tokens import (
    InstallationTokens,
    IssuedToken,
    is_app_connection,
    mint_installation_token,
)

if TYPE_CHECKING:
    from include.dr.git.bundle_store import BundleStore
    from include.dr.policy.model import BackupPolicy


class RestoreCredentialMissing(Permanent):
    """The restore's own GitHub connection is not defined; nothing was pushed."""


def git_remote(conn_id: str = GITHUB) -> GitRemote:
    """The git host and token of a ``github`` connection; every form of every token masked.

    A token in the password is used as it is. A GitHub App connection (no password;
    ``app_id``, ``installation_id`` and ``private_key`` or ``key_path`` in the extra, as
    the provider's hook reads them) gives git the App's installation token, minted when
    first needed and again before it expires."""
    from airflow.sdk import Connection
    from airflow.sdk.log import mask_secret

    conn = Connection.get(conn_id)
    extra = conn.extra_dejson
    tokens = None
    if is_app_connection(conn.password, extra):
        tokens = InstallationTokens(AppInstallationMint(conn_id), on_issue=mask_token)
    remote = GitRemote.from_connection(conn.host, conn.password, extra, tokens)
    for secret in remote.secrets():
        mask_secret(secret)
    return remote


def mask_token(token: str) -> None:
    """Mask a token minted during the task, in every form git could print it."""
    from airflow.sdk.log import mask_secret

    for form in (token, basic_credentials(token)):
        mask_secret(form)


def restore_remote(conn_id: str = GITHUB_RESTORE) -> GitRemote:
    """The restores' push credential (never the daily backup's read-only token); its
    absence is a :class:`RestoreCredentialMissing` naming what to create, raised before
    anything is read from the target or pushed."""
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return git_remote(conn_id)
    except AirflowNotFoundException:
        raise RestoreCredentialMissing(
            f"the {conn_id} connection is not defined, and a restore pushes only with it (the "
            f"daily backup's {GITHUB} token is meant to be read-only, so it is not used "
            f"instead). Nothing was pushed. Create {conn_id} like {GITHUB} (type github; "
            "the Enterprise API URL in the host, or extra.git_url) with a token that may "
            "write to the target: a classic token with the repo and workflow scopes, or a "
            "fine-grained token or GitHub App with Contents and Workflows read and write "
            "(pushing .github/workflows/ needs workflow); then run the restore again."
        ) from None


@dataclass(frozen=True)
class AppInstallationMint:
    """Mints an installation token through the auth the GitHub provider's hook builds from
    the connection (read again at each mint, so a rotated key is picked up). Holds only
    the connection id, so it pickles."""

    conn_id: str

    def __call__(self) -> IssuedToken:
        from airflow.providers.github.hooks.github import GithubHook
        from github.Auth import AppInstallationAuth

        try:
            auth = GithubHook(github_conn_id=self.conn_id).get_conn().requester.auth
        except ValueError as exc:  # the hook's word for a malformed App connection
            raise GitFailed(
                f"the {self.conn_id} connection is not a usable GitHub App connection: {exc}. "
                "Put app_id, installation_id (an integer) and private_key (or key_path to a "
                ".pem file) in its extra, or a token in its password."
            ) from None
        if not isinstance(auth, AppInstallationAuth):
            raise GitFailed(f"the {self.conn_id} connection holds no GitHub App installation")
        return mint_installation_token(auth, self.conn_id)


def github_client(conn_id: str = GITHUB) -> Any:
    """PyGithub through the provider's hook (the connection's host is the Enterprise URL)."""
    from airflow.providers.github.hooks.github import GithubHook

    return GithubHook(github_conn_id=conn_id).get_conn()


def bundle_key(conn_id: str = GIT_BUNDLE_KEY) -> bytes:
    """The AES-256 bundle key: the connection's password, base64."""
    from airflow.sdk import Connection
    from airflow.sdk.log import mask_secret

    password = Connection.get(conn_id).password
    if password:
        mask_secret(password)
    return load_key(password, conn_id)


def bundles_of_record(policy: BackupPolicy, aws_conn_id: str | None = None) -> BundleStore:
    """The policy's git bundles of record: its DR bucket through ``aws_conn_id`` (the DR
    connection unless a restore reads them as the restore operator), this worker's cache
    in front."""
    from include.dr.aws_clients import hook_clients
    from include.dr.connections import AWS_DR
    from include.dr.git.bundle import bundles_dir
    from include.dr.git.bundle_store import BundleStore

    github = policy.assets.github
    bucket = github.dr_bucket if github else None
    s3 = hook_clients(aws_conn_id or AWS_DR)("s3", policy.regions.dr) if bucket else None
    return BundleStore(bundles_dir(), s3, bucket)
