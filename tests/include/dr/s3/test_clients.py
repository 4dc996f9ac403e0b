"""The S3 clients the copy threads share: a connection for each thread, adaptive retries.

botocore keeps 10 connections per client by default; 32 copy threads sharing one
would queue for a connection (and log "Connection pool is full")."""

from __future__ import annotations

import pytest
from botocore.config import Config

from include.dr.aws_clients import _under_connection, for_threads
from include.dr.s3.tasks import backup_clients

pytestmark = pytest.mark.usefixtures("local_stack")


@pytest.mark.parametrize("threads", [None, "48"])
def test_the_copy_clients_have_a_connection_per_thread_and_adaptive_retries(
    threads: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from include.dr.s3.engine import DEFAULT_THREADS

    if threads is None:
        monkeypatch.delenv("BACKUP_S3_COPY_THREADS", raising=False)
    else:
        monkeypatch.setenv("BACKUP_S3_COPY_THREADS", threads)
    wanted = int(threads or DEFAULT_THREADS)
    clients = backup_clients("eu-west-2", "eu-west-1")
    for name in ("source_s3", "dr_s3"):
        config = clients[name].meta.config  # type: ignore[attr-defined]
        assert config.max_pool_connections >= wanted, name
        assert config.retries["mode"] == "adaptive", name
    endpoint = clients["dr_s3"].meta.endpoint_url  # type: ignore[attr-defined]
    assert endpoint.startswith("http://"), "the connection's endpoint (moto) still applies"


def test_a_connections_own_settings_win_but_never_shrink_the_pool() -> None:
    connection = Config(max_pool_connections=4, retries={"mode": "standard", "max_attempts": 9})
    merged = _under_connection(for_threads(32), connection)
    assert merged.max_pool_connections == 32
    assert merged.retries == {"mode": "standard", "max_attempts": 9}
    assert _under_connection(for_threads(32), None).retries["mode"] == "adaptive"
    assert for_threads(2).max_pool_connections == 10  # never below botocore's default
