"""The git backup's secrets, read only from Airflow connections and masked in task logs,
and the bundles of record reached through the DR connection."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from include.dr.connections import GIT_BUNDLE_KEY, GITHUB
from include.dr.git.crypto import load_key
from include.dr.git.remote import GitRemote

if TYPE_CHECKING:
    from include.dr.git.bundle_store import BundleStore
    from include.dr.policy.model import BackupPolicy


def git_remote(conn_id: str = GITHUB) -> GitRemote:
    """The git host and token of the ``github`` connection; every form of the token masked."""
    from airflow.sdk import Connection
    from airflow.sdk.log import mask_secret

    conn = Connection.get(conn_id)
    remote = GitRemote.from_connection(conn.host, conn.password, conn.extra_dejson)
    for secret in remote.secrets():
        mask_secret(secret)
    return remote


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
