"""``airflow standalone`` on the local stack, and running DAGs through its REST API.

The demo triggers DAGs through the API server rather than ``airflow dags test``,
so each run is made by the real scheduler, waits in the real triggerer and
shows in the UI like any other. The tests start a second instance on another
port, with their own home and DAGs folder, for what only a running Airflow
shows (Deadline Alerts firing while a run is still going).

Every server it starts listens on loopback only, as moto, MariaDB and the git daemon do:
the API server through ``[api] host``, and the log servers are not started at all (see
:func:`write_launcher`).
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from include.dr.local_stack.airflow_env import airflow_env
from include.dr.local_stack.processes import ManagedProcess, StackError
from include.dr.local_stack.settings import load_settings
from include.dr.project import PROJECT_ROOT

AIRFLOW = str(Path(sys.executable).parent / "airflow")
PASSWORDS_FILE = "simple_auth_manager_passwords.json.generated"
COMPONENTS = ("metadatabase", "scheduler", "triggerer", "dag_processor")
TEST_AIRFLOW = "airflow-test-ui"  # the tests' instance, which ``down`` stops too
LOOPBACK = "127.0.0.1"
SKIP_LOG_SERVER = ("scheduler", "triggerer")


def write_launcher(folder: Path) -> Path:
    """An ``airflow`` for the front of standalone's PATH that starts no log server.

    ``airflow standalone`` starts its parts as ``airflow <part>`` found on PATH, and the
    scheduler and the triggerer then each serve their logs over HTTP on every interface
    (Airflow 3.3's log server takes no address setting). On this one machine the API
    server reads the log files from disk, so those two parts run with
    ``--skip-serve-logs``; every other command goes to the real ``airflow`` unchanged.
    """
    folder.mkdir(parents=True, exist_ok=True)
    launcher = folder / "airflow"
    real = shlex.quote(AIRFLOW)
    launcher.write_text(
        "#!/bin/sh\n"
        f"# Written by {__name__}.write_launcher: no log server on any interface.\n"
        f'case "$1" in {"|".join(SKIP_LOG_SERVER)}) exec {real} "$@" --skip-serve-logs;; esac\n'
        f'exec {real} "$@"\n'
    )
    launcher.chmod(0o755)
    return launcher


@dataclass(frozen=True)
class Standalone:
    """One ``airflow standalone``: its name (pid file), home, API port and DAGs folder, and
    where its runs record evidence (the demo's store unless told otherwise)."""

    state_dir: Path
    name: str = "airflow"
    port: int = 8080
    dags_folder: Path = PROJECT_ROOT / "dags"
    store_dir: Path | None = None

    @property
    def home(self) -> Path:
        return self.state_dir / self.name

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def process(self) -> ManagedProcess:
        return ManagedProcess(
            name=self.name, argv=[AIRFLOW, "standalone"], state_dir=self.state_dir
        )

    def env(self) -> dict[str, str]:
        env = airflow_env(self.home, parallelism=4)
        env["AIRFLOW__CORE__DAGS_FOLDER"] = str(self.dags_folder)
        env["AIRFLOW__API__HOST"] = LOOPBACK
        env["AIRFLOW__API__PORT"] = str(self.port)
        # Off by default; should it be turned on, it stays on loopback too.
        env["AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST"] = LOOPBACK
        env["PATH"] = f"{self.home / 'bin'}:{env['PATH']}"
        env["AIRFLOW__API__BASE_URL"] = self.url
        if self.store_dir is not None:
            env["BACKUP_STORE_URL"] = f"file://{self.store_dir}"
        return env

    def healthy(self) -> bool:
        try:
            health = f"{self.url}/api/v2/monitor/health"
            with urllib.request.urlopen(health, timeout=3) as response:  # noqa: S310 - fixed URL
                body = json.load(response)
        except (urllib.error.URLError, OSError, ValueError):
            return False
        return all((body.get(part) or {}).get("status") == "healthy" for part in COMPONENTS)

    def start(self) -> bool:
        """Start unless ours runs; wait for every component; add the pools."""
        self.home.mkdir(parents=True, exist_ok=True)
        write_launcher(self.home / "bin")
        env = self.env()
        started = self.process.start(env=env, cwd=PROJECT_ROOT)
        self.process.wait_until(self.healthy, "healthy", timeout=300)
        for name, slots in load_settings().pools.items():
            subprocess.run(  # noqa: S603 - fixed argv
                [AIRFLOW, "pools", "set", name, str(slots), f"{name} (airflow_settings.yaml)"],
                env=env,
                check=True,
                capture_output=True,
            )
        return started

    def stop(self) -> bool:
        return self.process.stop()

    def login(self) -> tuple[str, str]:
        """The admin user and the password that standalone generated."""
        path = self.home / PASSWORDS_FILE
        try:
            users: dict[str, str] = json.loads(path.read_text())
        except (OSError, ValueError):
            raise StackError(
                f"no generated login at {path}; is airflow standalone running?"
            ) from None
        user = "admin" if "admin" in users else next(iter(users))
        return user, users[user]

    def token(self) -> str:
        user, password = self.login()
        body = self.call("POST", "/auth/token", None, {"username": user, "password": password})
        return str(body["access_token"])

    def call(self, method: str, path: str, token: str | None, body: Any = None) -> Any:
        """One REST call; a server error is retried a few times (SQLite, the local
        metadata database, answers "database is locked" under concurrent writes)."""
        request = urllib.request.Request(  # noqa: S310 - fixed http URL
            f"{self.url}{path}",
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/json"}
            | ({"Authorization": f"Bearer {token}"} if token else {}),
        )
        for attempt in range(5):
            try:
                with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                    return json.load(response)
            except urllib.error.HTTPError as exc:
                if exc.code < 500 or attempt == 4:
                    raise
                time.sleep(1 + attempt)
        raise AssertionError("unreachable")

    def wait_for_dag(self, dag_id: str, token: str, timeout: float = 300) -> None:
        """Return once the DAG processor has parsed ``dag_id``."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.call("GET", f"/api/v2/dags/{dag_id}", token)
                return
            except urllib.error.HTTPError as exc:
                if exc.code != 404 or time.monotonic() > deadline:
                    raise StackError(f"DAG {dag_id} is not known to Airflow: {exc}") from None
                time.sleep(2)

    def trigger(
        self,
        dag_id: str,
        conf: dict[str, Any] | None = None,
        timeout: float = 300,
        logical_date: datetime | None = None,
    ) -> str:
        """Unpause ``dag_id`` (once the DAG processor has parsed it) and start a run, dated
        ``logical_date`` when given (an aware datetime)."""
        token = self.token()
        self.wait_for_dag(dag_id, token, timeout)
        self.call("PATCH", f"/api/v2/dags/{dag_id}", token, {"is_paused": False})
        date = logical_date.isoformat() if logical_date is not None else None
        body = {"logical_date": date, "conf": conf or {}}
        run = self.call("POST", f"/api/v2/dags/{dag_id}/dagRuns", token, body)
        return str(run["dag_run_id"])

    def run_state(self, dag_id: str, run_id: str) -> str:
        return str(
            self.call("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}", self.token())["state"]
        )

    def run_dag(self, dag_id: str, conf: dict[str, Any] | None = None, timeout: float = 900) -> str:
        """Trigger ``dag_id``, wait for the run to finish, and return its state."""
        run_id = self.trigger(dag_id, conf)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.run_state(dag_id, run_id)
            if state in {"success", "failed"}:
                return state
            time.sleep(3)
        raise StackError(f"run {run_id} of {dag_id} did not finish in {timeout:.0f}s")
