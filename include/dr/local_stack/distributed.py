"""Airflow as a company runs it, on one machine: CeleryExecutor with two workers.

``make demo`` runs everything in one ``airflow standalone`` process tree, where every
task sees the same disk. This mode proves the product does not rely on that:
PostgreSQL holds the metadata, Redis carries the Celery messages, the scheduler, DAG
processor, triggerer and API server run apart, and two Celery workers each have their
own HOME, temporary folder and backup cache (``BACKUP_CACHE_DIR``), and their own name
in the task instances (``DR_WORKER_NAME``, see :mod:`.worker_name`). What one task
writes for another goes through the shared store, the same ``BACKUP_STORE_URL`` for
every process: ``file://`` under ``.local/`` by default, or a bucket on the moto server
(:meth:`Distributed.on_s3`).

Every server listens on loopback only: the API server through ``[api] host``; the
scheduler, triggerer and workers serve no logs (the API server reads the log files from
this machine's disk).
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from include.dr.local_stack.airflow_api import AirflowRestApi
from include.dr.local_stack.airflow_env import airflow_env
from include.dr.local_stack.local_secret import local_secret
from include.dr.local_stack.postgres import (
    POSTGRES_PORT,
    ensure_database,
    postgres_process,
    start_postgres,
)
from include.dr.local_stack.processes import ManagedProcess, StackError
from include.dr.local_stack.redis_server import broker_url, redis_process, start_redis
from include.dr.local_stack.settings import STORE_BUCKET, load_settings
from include.dr.local_stack.worker_name import WORKER_NAME_ENV
from include.dr.policy.loader import POLICY_FILE_ENV
from include.dr.project import PROJECT_ROOT
from include.dr.store import CACHE_DIR_ENV, STORE_CONN_ENV, STORE_URL_ENV

AIRFLOW = str(Path(sys.executable).parent / "airflow")
LOOPBACK = "127.0.0.1"
API_PORT = 8082  # airflow standalone has 8080, the tests' standalone 8081
TEST_NAME = "distributed-test"  # the tests' instance: its own database, queue and port
TEST_API_PORT = 8083
WORKERS = 2
WORKER_CONCURRENCY = 2  # two task slots per worker: a 2-core machine runs four at once
SERVICES = ("scheduler", "dag-processor", "triggerer", "api-server")
HEALTHY = ("metadatabase", "scheduler", "triggerer", "dag_processor")
STORE_CONN_ID = "aws_dr"  # the store bucket lives on the DR side


def s3_store_url(prefix: str = "store") -> str:
    """The shared store in the local stack's store bucket (on the moto server)."""
    return f"s3://{STORE_BUCKET}/{prefix}"


@dataclass(frozen=True)
class Distributed(AirflowRestApi):
    """One distributed Airflow: its name (folder, database, pid files), API port, Redis
    database (its Celery queue), store, policy file and DAGs folder. ``extra_env`` is laid
    over every process's environment last (the tests shorten retry delays with it)."""

    state_dir: Path
    name: str = "distributed"
    port: int = API_PORT
    redis_db: int = 0
    store_url: str | None = None  # None: airflow_env()'s file:// store under .local/
    store_conn_id: str | None = None
    policy_file: Path | None = None
    dags_folder: Path = PROJECT_ROOT / "dags"
    extra_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def on_s3(cls, state_dir: Path, prefix: str = "store", **kwargs: object) -> Distributed:
        """The same stack with the shared store in the moto server's store bucket."""
        return cls(
            state_dir,
            store_url=s3_store_url(prefix),
            store_conn_id=STORE_CONN_ID,
            **kwargs,  # type: ignore[arg-type]
        )

    @property
    def root(self) -> Path:
        return self.state_dir / self.name

    @property
    def home(self) -> Path:
        return self.root / "airflow"

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def worker_name(self, number: int) -> str:
        return f"{self.name}-worker-{number}"

    def worker_dir(self, number: int) -> Path:
        """A worker's private folders: ``home``, ``tmp`` and ``cache``."""
        return self.root / f"worker-{number}"

    def _secret(self, name: str) -> str:
        return local_secret(self.root / "secrets" / name)

    @property
    def _database(self) -> str:
        return self.name.replace("-", "_")

    def env(self) -> dict[str, str]:
        """What every process of this Airflow shares (the workers add their own folders)."""
        database_url = ensure_database(
            self.state_dir, POSTGRES_PORT, self._database, self._secret("postgres")
        )
        env = airflow_env(self.home, parallelism=WORKERS * WORKER_CONCURRENCY)
        env.update(
            {
                "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database_url,
                "AIRFLOW__CELERY__BROKER_URL": broker_url(self.state_dir, self.redis_db),
                "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{database_url}",
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(WORKER_CONCURRENCY),
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
                "AIRFLOW__CORE__HOSTNAME_CALLABLE": "include.dr.local_stack.worker_name.hostname",
                "AIRFLOW__API__HOST": LOOPBACK,
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API__BASE_URL": self.url,
                "AIRFLOW__API__SECRET_KEY": self._secret("api-secret-key"),
                "AIRFLOW__API_AUTH__JWT_SECRET": self._secret("jwt-secret"),
                "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": LOOPBACK,
                # Parse each DAG file once at start and then every five minutes, not every
                # 30 s: on a 2-core machine re-parsing competes with the tasks.
                "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "300",
                "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
            }
        )
        if self.store_url is not None:
            env[STORE_URL_ENV] = self.store_url
        if self.store_conn_id is not None:
            env[STORE_CONN_ENV] = self.store_conn_id
        if self.policy_file is not None:
            env["BACKUP_POLICY_FILE"] = str(self.policy_file)
        env.update(self._private(self.root / "services"))
        env.update(self.extra_env)
        return env

    @staticmethod
    def _private(folder: Path) -> dict[str, str]:
        """HOME, TMPDIR and the backup cache in ``folder``, made if missing."""
        places = {
            "HOME": folder / "home",
            "TMPDIR": folder / "tmp",
            CACHE_DIR_ENV: folder / "cache",
        }
        for place in places.values():
            place.mkdir(parents=True, exist_ok=True, mode=0o700)
        return {key: str(place) for key, place in places.items()}

    def worker_env(self, env: dict[str, str], number: int) -> dict[str, str]:
        worker = dict(env)
        worker.update(self._private(self.worker_dir(number)))
        worker[WORKER_NAME_ENV] = self.worker_name(number)
        worker.update(self.extra_env)
        return worker

    def _service(self, part: str) -> ManagedProcess:
        argv = [AIRFLOW, part]
        if part in {"scheduler", "triggerer"}:
            argv.append("--skip-serve-logs")
        if part == "api-server":
            argv += ["--host", LOOPBACK, "--port", str(self.port)]
        return ManagedProcess(f"{self.name}-{part}", argv, self.state_dir)

    def _worker(self, number: int) -> ManagedProcess:
        argv = [
            AIRFLOW,
            "celery",
            "worker",
            "--concurrency",
            str(WORKER_CONCURRENCY),
            "--celery-hostname",
            f"{self.worker_name(number)}@%h",
            "--skip-serve-logs",
            "--without-mingle",
            "--without-gossip",
        ]
        return ManagedProcess(self.worker_name(number), argv, self.state_dir)

    def processes(self) -> list[ManagedProcess]:
        """Airflow's parts, in start order (PostgreSQL and Redis are the stack's)."""
        parts = [self._service(part) for part in SERVICES]
        return parts + [self._worker(n) for n in range(1, WORKERS + 1)]

    def healthy(self) -> bool:
        try:
            body = self.call("GET", "/api/v2/monitor/health", None)
        except (OSError, ValueError):
            return False
        return all((body.get(part) or {}).get("status") == "healthy" for part in HEALTHY)

    def start(self, timeout: float = 300) -> list[str]:
        """Start PostgreSQL and Redis unless ours run, migrate the metadata database, then
        every part not yet running; wait until all are healthy. Return what was started."""
        started = [
            name
            for name, fresh in (
                ("postgres", start_postgres(self.state_dir)),
                ("redis", start_redis(self.state_dir)),
            )
            if fresh
        ]
        self.home.mkdir(parents=True, exist_ok=True)
        env = self.env()
        parts = self.processes()
        running_with = self.root / "running-with.json"
        wanted = json.dumps(
            {key: env.get(key) for key in (STORE_URL_ENV, POLICY_FILE_ENV)}
            | {"extra": self.extra_env},
            sort_keys=True,
        )
        if all(part.pid() is None for part in parts):
            _migrate(env, self.state_dir / "logs" / f"{self.name}-migrate.log")
            running_with.write_text(wanted)
        elif running_with.is_file() and running_with.read_text() != wanted:
            raise StackError(
                f"{self.name} already runs with {running_with.read_text()}, not {wanted}; "
                "stop it first (python -m include.dr.local_stack distributed down)"
            )
        workers: list[tuple[ManagedProcess, int]] = []
        for number, part in enumerate(parts[len(SERVICES) :], start=1):
            offset = part.log.stat().st_size if part.log.is_file() else 0
            if part.start(env=self.worker_env(env, number), cwd=PROJECT_ROOT):
                started.append(part.name)
                workers.append((part, offset))
        for part in parts[: len(SERVICES)]:
            if part.start(env=env, cwd=PROJECT_ROOT):
                started.append(part.name)
        api_server = parts[SERVICES.index("api-server")]
        api_server.wait_until(partial(self._ready, parts, workers), "healthy", timeout=timeout)
        self._set_pools()
        return started

    def _ready(
        self, parts: list[ManagedProcess], workers: list[tuple[ManagedProcess, int]]
    ) -> bool:
        """Every part healthy and every new worker consuming; a part that died fails."""
        for part in parts:
            if part.pid() is None:
                raise StackError(f"{part.name} exited while starting; see {part.log}")
        return self.healthy() and all(_worker_ready(w, offset) for w, offset in workers)

    def _set_pools(self) -> None:
        """The pools of airflow_settings.yaml, as ``airflow standalone`` gets them."""
        token = self.token()
        for name, slots in load_settings().pools.items():
            body = {"name": name, "slots": slots, "description": f"{name} (airflow_settings.yaml)"}
            try:
                self.call("PATCH", f"/api/v2/pools/{name}", token, body)
            except urllib.error.HTTPError as exc:
                if exc.code != 404:
                    raise
                self.call("POST", "/api/v2/pools", token, body)

    def stop(self, timeout: float = 15) -> list[str]:
        """Stop Airflow's parts all at once (each shuts down gracefully for up to
        ``timeout`` seconds); PostgreSQL and Redis keep running."""
        parts = self.processes()
        with ThreadPoolExecutor(max_workers=len(parts)) as pool:
            stopped = list(pool.map(lambda part: part.stop(timeout), parts))
        return [part.name for part, done in zip(parts, stopped, strict=True) if done]


def _migrate(env: dict[str, str], log: Path) -> None:
    """``airflow db migrate``: create or upgrade the metadata database's tables."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        done = subprocess.run(  # noqa: S603 - fixed argv
            [AIRFLOW, "db", "migrate"],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if done.returncode != 0:
        raise StackError(f"airflow db migrate failed (exit {done.returncode}); see {log}")


def _worker_ready(worker: ManagedProcess, offset: int) -> bool:
    """Celery logs ``<name> ready.`` once it consumes from the broker."""
    try:
        with worker.log.open("rb") as log:
            log.seek(offset)
            return b" ready." in log.read()
    except OSError:
        return False


def distributed_command(
    state_dir: Path, action: str, dag_ids: list[str], conf: dict[str, Any], store: str
) -> int:
    """``python -m include.dr.local_stack distributed ACTION``: the demo's instance."""
    airflow = Distributed.on_s3(state_dir) if store == "s3" else Distributed(state_dir)
    if action == "up":
        started = airflow.start()
        user, password = airflow.login()
        store = airflow.env()[STORE_URL_ENV]
        print(f"distributed Airflow, store {store}: started {', '.join(started) or 'nothing'}")
        print(f"Airflow UI: {airflow.url}  login: {user} / {password}")
    elif action == "down":
        stopped = airflow.stop()
        services = (redis_process(state_dir), postgres_process(state_dir))
        stopped += [service.name for service in services if service.stop()]
        print(f"stopped: {', '.join(stopped) or 'nothing was running'}")
    elif action == "status":
        for part in (postgres_process(state_dir), redis_process(state_dir), *airflow.processes()):
            pid = part.pid()
            print(f"  {part.name:<32} {'pid ' + str(pid) if pid else 'not running'}")
    elif action == "run":
        if not dag_ids:
            raise StackError("name the DAGs to run: distributed run DAG_ID [DAG_ID ...]")
        runs = [(dag_id, airflow.trigger(dag_id, conf)) for dag_id in dag_ids]
        states = airflow.wait_for_runs(runs)
        for (dag_id, run_id), state in states.items():
            print(f"{dag_id}: {state}")
            for failure in airflow.failures(dag_id, run_id) if state != "success" else []:
                print(f"  {failure}")
        return 0 if set(states.values()) == {"success"} else 1
    return 0
