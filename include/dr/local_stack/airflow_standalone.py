"""``airflow standalone`` for the demo, and running a DAG through its REST API.

The demo triggers DAGs through the API server rather than ``airflow dags test``,
so the run is made by the real scheduler and shows in the UI like any other.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from include.dr.local_stack.airflow_env import airflow_env
from include.dr.local_stack.processes import ManagedProcess, StackError
from include.dr.local_stack.settings import load_settings
from include.dr.project import PROJECT_ROOT

API = "http://127.0.0.1:8080"
AIRFLOW = str(Path(sys.executable).parent / "airflow")
PASSWORDS_FILE = "simple_auth_manager_passwords.json.generated"


def airflow_home(state_dir: Path) -> Path:
    return state_dir / "airflow"


def airflow_process(state_dir: Path) -> ManagedProcess:
    return ManagedProcess(name="airflow", argv=[AIRFLOW, "standalone"], state_dir=state_dir)


def healthy() -> bool:
    try:
        health = f"{API}/api/v2/monitor/health"
        with urllib.request.urlopen(health, timeout=3) as response:  # noqa: S310 - fixed http URL
            body = json.load(response)
    except (urllib.error.URLError, OSError, ValueError):
        return False
    return all(
        (body.get(part) or {}).get("status") == "healthy"
        for part in ("metadatabase", "scheduler", "triggerer", "dag_processor")
    )


def start_airflow(state_dir: Path) -> bool:
    """Start ``airflow standalone`` unless ours runs; wait for every component; add pools."""
    home = airflow_home(state_dir)
    home.mkdir(parents=True, exist_ok=True)
    env = airflow_env(home, parallelism=4)
    process = airflow_process(state_dir)
    started = process.start(env=env, cwd=PROJECT_ROOT)
    process.wait_until(healthy, "healthy", timeout=300)
    for name, slots in load_settings().pools.items():
        subprocess.run(  # noqa: S603 - fixed argv
            [AIRFLOW, "pools", "set", name, str(slots), f"{name} (airflow_settings.yaml)"],
            env=env,
            check=True,
            capture_output=True,
        )
    return started


def login(state_dir: Path) -> tuple[str, str]:
    """The admin user and the password that standalone generated."""
    path = airflow_home(state_dir) / PASSWORDS_FILE
    try:
        users: dict[str, str] = json.loads(path.read_text())
    except (OSError, ValueError):
        raise StackError(f"no generated login at {path}; is airflow standalone running?") from None
    user = "admin" if "admin" in users else next(iter(users))
    return user, users[user]


def _call(method: str, path: str, token: str | None, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(  # noqa: S310 - fixed http URL
        f"{API}{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"}
        | ({"Authorization": f"Bearer {token}"} if token else {}),
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - fixed http URL
        return json.load(response)


def run_dag(
    state_dir: Path, dag_id: str, conf: dict[str, Any] | None = None, timeout: float = 900
) -> str:
    """Unpause and trigger ``dag_id``, wait for the run to finish, and return its state."""
    user, password = login(state_dir)
    token = _call("POST", "/auth/token", None, {"username": user, "password": password})[
        "access_token"
    ]
    deadline = time.monotonic() + timeout
    while True:  # the dag processor may not have parsed the file yet
        try:
            _call("PATCH", f"/api/v2/dags/{dag_id}", token, {"is_paused": False})
            break
        except urllib.error.HTTPError as exc:
            if exc.code != 404 or time.monotonic() > deadline:
                raise StackError(f"DAG {dag_id} is not known to Airflow: {exc}") from None
            time.sleep(2)
    run = _call(
        "POST", f"/api/v2/dags/{dag_id}/dagRuns", token, {"logical_date": None, "conf": conf or {}}
    )
    while time.monotonic() < deadline:
        state = _call("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run['dag_run_id']}", token)["state"]
        if state in {"success", "failed"}:
            return str(state)
        time.sleep(3)
    raise StackError(f"run {run['dag_run_id']} of {dag_id} did not finish in {timeout:.0f}s")
