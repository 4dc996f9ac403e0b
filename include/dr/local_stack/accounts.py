"""The local stack's two AWS accounts on its one moto server: production and DR.

moto places a request in the account its access key belongs to (a key of AWS's shape:
20 characters, A-Z and 0-9). The local connections' static keys are placed by
:data:`CONNECTION_ACCOUNTS` (the moto server is told, :mod:`.moto_app`): ``aws_dr``
and ``aws_restore`` act in the DR account, the others in production (moto's default
account). Under IAM enforcement each connection's user is made in its own account, so
its keys act there too. On the local stack each account keeps to its region: the DR
region is the DR account's.

An administrator enters another account as AWS Organizations does: by assuming its
``OrganizationAccountAccessRole`` (:func:`admin_client`).
"""

from __future__ import annotations

from typing import Any

import boto3

from include.dr.iam.policies import SIDES
from include.dr.local_stack.settings import LocalSettings

PRODUCTION_ACCOUNT = "123456789012"  # moto's default account
DR_ACCOUNT = "210987654321"
ADMIN_ROLE = "OrganizationAccountAccessRole"
# Which account each AWS connection acts in: its role's side (include/dr/iam/policies.py).
CONNECTION_ACCOUNTS = {
    conn_id: {"production": PRODUCTION_ACCOUNT, "dr": DR_ACCOUNT}[side]
    for conn_id, side in SIDES.items()
}


def key_accounts(settings: LocalSettings) -> dict[str, str]:
    """Each local connection's static access key, and the account it acts in."""
    return {
        conn["login"]: CONNECTION_ACCOUNTS[conn_id]
        for conn_id, conn in settings.connections.items()
        if conn_id in CONNECTION_ACCOUNTS and conn.get("login")
    }


def admin_client(settings: LocalSettings, account: str, service: str, region: str) -> Any:
    """A client acting as ``account``'s administrator in any region (IAM must not be
    enforced): production's through its static key, another through its admin role."""
    conn = settings.connection("aws_default")
    endpoint = conn["extra"]["endpoint_url"]
    keys = entered(endpoint, account, conn["login"], conn["password"])
    return boto3.client(service, region_name=region, endpoint_url=endpoint, **keys)


def entered(endpoint: str, account: str, key: str, secret: str) -> dict[str, str]:
    """boto3's credential arguments acting in ``account``: the given key in production,
    else the credentials of the account's admin role, assumed with it."""
    keys = {"aws_access_key_id": key, "aws_secret_access_key": secret}
    if account == PRODUCTION_ACCOUNT:
        return keys
    sts = boto3.client("sts", region_name="us-east-1", endpoint_url=endpoint, **keys)
    credentials = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{ADMIN_ROLE}", RoleSessionName="local-stack"
    )["Credentials"]
    return {
        "aws_access_key_id": credentials["AccessKeyId"],
        "aws_secret_access_key": credentials["SecretAccessKey"],
        "aws_session_token": credentials["SessionToken"],
    }
