"""``airflow standalone`` on the local stack; its DAGs run through the REST API
(:mod:`.airflow_api`).

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
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from include.dr.local_stack.airflow_api import AirflowRestApi
from include.dr.local_stack.airflow_env import airflow_env
from include.dr.local_stack.processes import ManagedProcess
from include.dr.local_stack.settings import load_settings
from include.dr.project import PROJECT_ROOT
from include.dr.store import STORE_URL_ENV

AIRFLOW = str(Path(sys.executable).parent / "airflow")
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
class Standalone(AirflowRestApi):
    """One ``airflow standalone``: its name (pid file), home, API port and DAGs folder, and
    where its runs record evidence (the demo's store unless told otherwise)."""

    state_dir: Path
    name: str = "airflow"
    port: int = 8080
    dags_folder: Path = PROJECT_ROOT / "dags"
    store_dir: Path | None = None
    signed: bool = True  # AWS connections signed by the IAM users, when enforced (the demo)

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
        env = airflow_env(self.home, parallelism=4, signed=self.signed)
        env["AIRFLOW__CORE__DAGS_FOLDER"] = str(self.dags_folder)
        env["AIRFLOW__API__HOST"] = LOOPBACK
        env["AIRFLOW__API__PORT"] = str(self.port)
        # Off by default; should it be turned on, it stays on loopback too.
        env["AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST"] = LOOPBACK
        env["PATH"] = f"{self.home / 'bin'}:{env['PATH']}"
        env["AIRFLOW__API__BASE_URL"] = self.url
        if self.store_dir is not None:
            env[STORE_URL_ENV] = f"file://{self.store_dir}"
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
