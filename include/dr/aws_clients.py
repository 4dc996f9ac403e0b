"""boto3 clients obtained through the Amazon provider's hook, never from a hand-built session.

The connection decides the endpoint and credentials (moto on the local stack,
real AWS in production); the policy decides the region.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

ClientFactory = Callable[[str, str], Any]


def hook_clients(aws_conn_id: str) -> ClientFactory:
    """A factory of ``(service, region) -> client`` for one Airflow AWS connection."""

    def client(service: str, region: str) -> Any:
        from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook

        return AwsBaseHook(
            aws_conn_id=aws_conn_id, client_type=service, region_name=region
        ).get_conn()

    return client
