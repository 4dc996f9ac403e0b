"""Redis on loopback: the Celery broker of the distributed Airflow.

It only carries task messages between the scheduler and the workers, which the
scheduler sends again after a restart, so nothing is ever written to disk. It asks for
a password, as the broker of a real deployment would.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import redis

from include.dr.local_stack.local_secret import local_secret
from include.dr.local_stack.processes import ManagedProcess, StackError, refuse_foreign_port

REDIS_PORT = 6380  # beside a system Redis on 6379


def _binary() -> str:
    """redis-server's path (its bare name when it is not installed: stopping a server needs
    only its pid file)."""
    return shutil.which("redis-server", path="/usr/bin:/usr/sbin:/usr/local/bin") or "redis-server"


def redis_password(state_dir: Path) -> str:
    return local_secret(state_dir / "redis" / "password")


def redis_process(state_dir: Path, port: int = REDIS_PORT) -> ManagedProcess:
    folder = state_dir / "redis"
    argv = [
        _binary(),
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--protected-mode",
        "yes",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(folder),
        "--daemonize",
        "no",
        "--requirepass",
        redis_password(state_dir),
    ]
    return ManagedProcess(name="redis", argv=argv, state_dir=state_dir)


def broker_url(state_dir: Path, database: int, port: int = REDIS_PORT) -> str:
    """The Celery broker URL of one Redis database (one per Airflow: its own queues)."""
    return f"redis://:{redis_password(state_dir)}@127.0.0.1:{port}/{database}"


def _answers(port: int, password: str) -> bool:
    try:
        return bool(redis.Redis(port=port, password=password, socket_timeout=2).ping())
    except redis.RedisError:
        return False


def start_redis(state_dir: Path, port: int = REDIS_PORT) -> bool:
    """Start Redis unless ours runs; wait until it answers a PING."""
    if shutil.which(_binary()) is None:
        raise StackError(
            "Redis is not installed (no redis-server found). On Debian or Ubuntu run "
            "'apt-get install -y redis-server' (make setup does this)"
        )
    process = redis_process(state_dir, port)
    refuse_foreign_port(process, port)
    started = process.start()
    password = redis_password(state_dir)
    process.wait_until(lambda: _answers(port, password), "answering PING", timeout=30)
    return started
