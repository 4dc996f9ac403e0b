"""boto3 clients obtained through the Amazon provider's hook, never from a hand-built session.

The connection decides the endpoint and credentials (moto on the local stack,
real AWS in production); the policy decides the region.

A client shared by a pool of copy threads is built with :func:`for_threads`: botocore
keeps 10 connections per client by default, so 32 threads would queue for a
connection; and adaptive retries slow the client down when S3 throttles (503
SlowDown) instead of retrying at full speed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from botocore.config import Config

ClientFactory = Callable[[str, str], Any]

BOTOCORE_POOL = 10  # botocore's default max_pool_connections
ADAPTIVE_ATTEMPTS = 5  # botocore's attempts per request, the first included


def for_threads(threads: int) -> Config:
    """Client settings for ``threads`` threads sharing one client: a connection for each,
    and adaptive retries (client-side rate limiting when AWS throttles)."""
    from botocore.config import Config

    return Config(
        max_pool_connections=max(threads, BOTOCORE_POOL),
        retries={"mode": "adaptive", "max_attempts": ADAPTIVE_ATTEMPTS},
    )


def hook_clients(aws_conn_id: str, config: Config | None = None) -> ClientFactory:
    """A factory of ``(service, region) -> client`` for one Airflow AWS connection.

    ``config`` is laid under the connection's own ``config_kwargs`` (a setting the
    connection makes wins, since the provider would otherwise drop them all), except
    that the connection pool is never smaller than ``config`` asks.
    """

    def client(service: str, region: str) -> Any:
        from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook

        hook = AwsBaseHook(aws_conn_id=aws_conn_id, client_type=service, region_name=region)
        if config is not None:
            hook = AwsBaseHook(
                aws_conn_id=aws_conn_id,
                client_type=service,
                region_name=region,
                config=_under_connection(config, hook.conn_config.botocore_config),
            )
        return hook.get_conn()

    return client


def _under_connection(ours: Config, connection: Config | None) -> Config:
    from botocore.config import Config

    merged = ours.merge(connection) if connection is not None else ours
    pool = max(ours.max_pool_connections or 0, merged.max_pool_connections or 0)
    return merged.merge(Config(max_pool_connections=pool))


def account_of(client: ClientFactory, region: str) -> str:
    """The account a connection's credentials act in (STS answers it to any caller)."""
    return str(client("sts", region).get_caller_identity()["Account"])
