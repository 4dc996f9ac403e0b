"""A moto server of its own that enforces IAM, with one user per connection holding
exactly the shipped policies as moto can evaluate them
(include/dr/local_stack/enforcement.py says what moto checks and what it does not)."""

from __future__ import annotations

import copy
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import boto3

from include.dr.local_stack.accounts import key_accounts
from include.dr.local_stack.enforcement import (
    Keys,
    connection_iam,
    enforce,
    put_family,
    role_documents,
    set_auth,
    user_name,
)
from include.dr.local_stack.moto_app import KEY_ACCOUNTS_ENV
from include.dr.local_stack.moto_server import MOTO_APP, moto_healthy
from include.dr.local_stack.processes import ManagedProcess
from include.dr.local_stack.seed_aws import seed_aws
from include.dr.local_stack.settings import LocalSettings
from include.dr.policy.model import BackupPolicy
from include.dr.project import PROJECT_ROOT

PORT = 4567


@dataclass(frozen=True)
class EnforcedAws:
    endpoint: str
    keys: Keys
    policy: BackupPolicy

    def connection(self, settings: LocalSettings, conn_id: str) -> str:
        """The connection as Airflow reads it from ``AIRFLOW_CONN_*``: this server, and
        the user that holds the connection's role."""
        conn = copy.deepcopy(settings.connection(conn_id))
        conn["login"], conn["password"] = self.keys[conn_id]
        conn["extra"] = {**conn["extra"], "endpoint_url": self.endpoint}
        return json.dumps(conn)

    def client(self, conn_id: str, service: str, region: str) -> Any:
        """A boto3 client signed by the connection's user, as an attacker holding its
        keys would make one."""
        return self.signed(*self.keys[conn_id], service, region)

    def signed(self, key: str, secret: str, service: str, region: str) -> Any:
        """A boto3 client on this server signed with ``key``."""
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=self.endpoint,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
        )

    @contextmanager
    def lifted(self) -> Iterator[None]:
        """No enforcement for the block's length (a test's own look at what is there)."""
        set_auth(self.endpoint, "inf")
        try:
            yield
        finally:
            set_auth(self.endpoint, "0")

    @contextmanager
    def without(self, conn_id: str, family: str) -> Iterator[None]:
        """The connection's user without one family's policy, for the block's length."""
        set_auth(self.endpoint, "inf")
        iam = connection_iam(self.endpoint, conn_id)
        iam.delete_user_policy(UserName=user_name(conn_id), PolicyName=family)
        set_auth(self.endpoint, "0")
        try:
            yield
        finally:
            set_auth(self.endpoint, "inf")
            put_family(iam, conn_id, family, role_documents(self.policy)[conn_id][family])
            set_auth(self.endpoint, "0")


@contextmanager
def enforced_aws(
    state_dir: Path,
    settings: LocalSettings,
    policy: BackupPolicy,
    before_enforcement: Callable[[LocalSettings], None],
) -> Iterator[EnforcedAws]:
    """A fresh moto server: the estate deployed from ``infra/``, the production data,
    whatever ``before_enforcement`` adds, a user per connection; then IAM enforced until
    the block ends."""
    process = ManagedProcess(
        name="moto-iam",
        argv=[sys.executable, "-m", MOTO_APP, "-H", "127.0.0.1", "-p", str(PORT)],
        state_dir=state_dir,
    )
    process.stop()
    env = {**os.environ, KEY_ACCOUNTS_ENV: json.dumps(key_accounts(settings))}
    process.start(env=env, cwd=PROJECT_ROOT)
    process.wait_until(lambda: moto_healthy(PORT), "answering HTTP", timeout=60)
    endpoint = f"http://127.0.0.1:{PORT}"
    try:
        here = _pointed_at(settings, endpoint)
        seed_aws(here, policy)
        before_enforcement(here)
        keys_dir = state_dir / "moto-iam"  # its keys, apart from the demo's
        keys_dir.mkdir(exist_ok=True)
        keys = enforce(keys_dir, endpoint, policy)
        yield EnforcedAws(endpoint, keys, policy)
    finally:
        process.stop()


def _pointed_at(settings: LocalSettings, endpoint: str) -> LocalSettings:
    connections = copy.deepcopy(settings.connections)
    for conn in connections.values():
        if conn.get("conn_type") == "aws":
            conn["extra"] = {**conn["extra"], "endpoint_url": endpoint}
    return replace(settings, connections=connections)
