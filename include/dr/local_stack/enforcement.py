"""IAM enforced on the moto server: one user per AWS connection, holding its role's
shipped policies, and the connections signed with their keys.

moto checks every request's action, but a resource only for S3, and no condition
(FACTS.md). So each user holds its role's documents with two changes, and no others:

- a non-S3 statement's resources become ``*`` (moto compares every other service's
  request against ``*``, so a narrower resource would refuse everything); the narrow
  resources are checked offline against the inventory (tests/include/dr/iam);
- the names moto gives some S3 operations are added beside the real ones
  (:data:`MOTO_S3_NAMES`: moto authorises HeadBucket as ``s3:HeadBucket``, and so on).

Each user is made in the account its connection acts in
(:data:`~include.dr.local_stack.accounts.CONNECTION_ACCOUNTS`), so its keys act there.

The stack is seeded first, unenforced (``up`` lifts enforcement before it seeds, so the
tests can run after a demo); then ``enforce`` makes the users, writes their keys to
``.local/iam-keys.json`` and turns enforcement on. The Airflow the stack starts signs
with the keys from there.
"""

from __future__ import annotations

import contextlib
import json
import os
import urllib.request
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3

from include.dr.iam.policies import ROLES, documents
from include.dr.infra.files import committed_calls
from include.dr.local_stack.accounts import CONNECTION_ACCOUNTS, PRODUCTION_ACCOUNT, entered
from include.dr.local_stack.settings import STORE_BUCKET, LocalSettings
from include.dr.policy.model import BackupPolicy

KEYS_FILE = "iam-keys.json"
# The action moto checks for an S3 operation, where it is not the real one.
MOTO_S3_NAMES = {
    "s3:ListBucket": ["s3:HeadBucket"],
    "s3:GetEncryptionConfiguration": ["s3:ListBucket"],
    "s3:GetBucketPublicAccessBlock": ["s3:ListBucket"],
    "s3:PutEncryptionConfiguration": ["s3:CreateBucket"],
    "s3:GetBucketObjectLockConfiguration": ["s3:ListBucket"],
}
Keys = dict[str, tuple[str, str]]  # connection id -> (access key id, secret)


def as_moto_evaluates(document: dict[str, Any]) -> dict[str, Any]:
    """A policy document as moto can evaluate it (see the module docstring)."""
    statements = []
    for statement in document["Statement"]:
        actions = statement["Action"]
        actions = [actions] if isinstance(actions, str) else list(actions)
        s3 = all(a.startswith("s3:") for a in actions)
        for action in list(actions):
            actions += [extra for extra in MOTO_S3_NAMES.get(action, []) if extra not in actions]
        resources = statement["Resource"]
        resources = [resources] if isinstance(resources, str) else list(resources)
        if s3 and "s3:DeleteObject" in actions:  # moto checks DeleteObjects on the bucket
            resources += [r.removesuffix("/*") for r in resources if r.endswith("/*")]
        statements.append(
            {
                "Sid": statement["Sid"],
                "Effect": statement["Effect"],
                "Action": actions,
                "Resource": resources if s3 else "*",
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def set_auth(endpoint: str, limit: str) -> None:
    """Enforce IAM from now (``"0"``), or never (``"inf"``)."""
    request = urllib.request.Request(  # noqa: S310 - the moto server on loopback
        f"{endpoint}/moto-api/reset-auth",
        data=limit.encode(),
        headers={"Content-Type": "text/plain"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30):  # noqa: S310 - loopback
        pass


def iam_client(endpoint: str, account: str = PRODUCTION_ACCOUNT) -> Any:
    """IAM of ``account`` on the moto server, while enforcement is off (any key will do;
    another account is entered through its administrator role)."""
    keys = entered(endpoint, account, "stack-admin", "stack-admin")
    return boto3.client("iam", region_name="us-east-1", endpoint_url=endpoint, **keys)


def role_documents(policy: BackupPolicy) -> dict[str, dict[str, dict[str, Any]]]:
    """Each connection's documents, as the shipped roles hold them for ``policy``."""
    return documents(committed_calls(), policy, STORE_BUCKET, PRODUCTION_ACCOUNT)


def connection_iam(endpoint: str, conn_id: str) -> Any:
    """IAM in the account the connection acts in."""
    return iam_client(endpoint, CONNECTION_ACCOUNTS[conn_id])


def put_family(iam: Any, conn_id: str, family: str, document: dict[str, Any]) -> None:
    iam.put_user_policy(
        UserName=user_name(conn_id),
        PolicyName=family,
        PolicyDocument=json.dumps(as_moto_evaluates(document)),
    )


def user_name(conn_id: str) -> str:
    return f"{ROLES[conn_id]}-user"


def create_users(endpoint: str, policy: BackupPolicy, kept: Keys) -> Keys:
    """A user per connection holding its role's documents (put again, so they are the
    shipped ones), with the key ``kept`` names when the user still has it, else a new one."""
    keys = {}
    for conn_id, families in role_documents(policy).items():
        iam, user = connection_iam(endpoint, conn_id), user_name(conn_id)
        with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
            iam.create_user(UserName=user)
        for family, document in families.items():
            put_family(iam, conn_id, family, document)
        held = {k["AccessKeyId"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]}
        if conn_id in kept and kept[conn_id][0] in held:
            keys[conn_id] = kept[conn_id]
            continue
        key = iam.create_access_key(UserName=user)["AccessKey"]
        keys[conn_id] = (key["AccessKeyId"], key["SecretAccessKey"])
    return keys


def enforce(state_dir: Path, endpoint: str, policy: BackupPolicy) -> Keys:
    """Users, their keys in the state folder, then IAM enforced. Idempotent: a second
    call keeps the keys a running Airflow was started with."""
    path = state_dir / KEYS_FILE
    kept = _read_keys(path) if path.exists() else {}
    set_auth(endpoint, "inf")
    keys = create_users(endpoint, policy, kept)
    path.write_text(json.dumps(keys))
    os.chmod(path, 0o600)
    set_auth(endpoint, "0")
    return keys


def lift(endpoint: str) -> None:
    """No enforcement: seeding and the tests' own calls use keys of no user."""
    set_auth(endpoint, "inf")


def forget_keys(state_dir: Path) -> None:
    """A new moto server holds no users: their keys are void."""
    (state_dir / KEYS_FILE).unlink(missing_ok=True)


def _read_keys(path: Path) -> Keys:
    return {conn_id: (pair[0], pair[1]) for conn_id, pair in json.loads(path.read_text()).items()}


def signed_by_users(settings: LocalSettings, state_dir: Path) -> LocalSettings:
    """The settings, each AWS connection signed by its user while IAM is enforced."""
    path = state_dir / KEYS_FILE
    if not path.exists():
        return settings
    keys = _read_keys(path)
    connections = {
        conn_id: {**conn, "login": keys[conn_id][0], "password": keys[conn_id][1]}
        if conn_id in keys
        else conn
        for conn_id, conn in settings.connections.items()
    }
    return replace(settings, connections=connections)
