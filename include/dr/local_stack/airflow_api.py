"""A running Airflow driven through its REST API, as a person would through the UI.

The demo and the tests trigger DAGs this way rather than with ``airflow dags test``, so
each run is made by the real scheduler, runs on the real executor and shows in the UI.
``airflow standalone`` and the distributed stack both log in with the admin password
the simple auth manager generated into ``AIRFLOW_HOME``.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from include.dr.local_stack.processes import StackError

PASSWORDS_FILE = "simple_auth_manager_passwords.json.generated"
FINISHED = frozenset({"success", "failed"})


class AirflowRestApi:
    """REST calls to an Airflow: its API server at :attr:`url`, its home at :attr:`home`.
    A mixin: ``airflow standalone`` and the distributed stack each say where theirs are."""

    @property
    def url(self) -> str:
        raise NotImplementedError

    @property
    def home(self) -> Path:
        raise NotImplementedError

    def login(self) -> tuple[str, str]:
        """The admin user and the password the simple auth manager generated."""
        path = self.home / PASSWORDS_FILE
        try:
            users: dict[str, str] = json.loads(path.read_text())
        except (OSError, ValueError):
            raise StackError(
                f"no generated login at {path}; is Airflow's API server running?"
            ) from None
        user = "admin" if "admin" in users else next(iter(users))
        return user, users[user]

    def token(self) -> str:
        user, password = self.login()
        body = self.call("POST", "/auth/token", None, {"username": user, "password": password})
        return str(body["access_token"])

    def call(self, method: str, path: str, token: str | None, body: Any = None) -> Any:
        """One REST call; a server error is retried a few times (SQLite, the standalone
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

    def get(self, path: str, **query: Any) -> Any:
        """An authenticated GET, with ``query`` as its query string."""
        suffix = f"?{urllib.parse.urlencode(query)}" if query else ""
        return self.call("GET", f"{path}{suffix}", self.token())

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
        return str(self.get(f"/api/v2/dags/{dag_id}/dagRuns/{_quote(run_id)}")["state"])

    def wait_for_runs(
        self, runs: Iterable[tuple[str, str]], timeout: float = 900, poll: float = 2
    ) -> dict[tuple[str, str], str]:
        """Wait until every ``(dag_id, run_id)`` has finished; return each one's state."""
        waiting = set(runs)
        states: dict[tuple[str, str], str] = {}
        deadline = time.monotonic() + timeout
        while waiting:
            for run in sorted(waiting):
                state = self.run_state(*run)
                if state in FINISHED:
                    states[run] = state
                    waiting.discard(run)
            if not waiting:
                break
            if time.monotonic() > deadline:
                stuck = ", ".join(f"{dag} {run}" for dag, run in sorted(waiting))
                raise StackError(f"runs still unfinished after {timeout:.0f}s: {stuck}")
            time.sleep(poll)
        return states

    def run_dag(self, dag_id: str, conf: dict[str, Any] | None = None, timeout: float = 900) -> str:
        """Trigger ``dag_id``, wait for the run to finish, and return its state."""
        run_id = self.trigger(dag_id, conf)
        return self.wait_for_runs([(dag_id, run_id)], timeout, poll=3)[(dag_id, run_id)]

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """Every task instance of a run, mapped ones included, as the API describes them."""
        found: list[dict[str, Any]] = []
        path = f"/api/v2/dags/{dag_id}/dagRuns/{_quote(run_id)}/taskInstances"
        while True:
            page = self.get(path, limit=100, offset=len(found))
            found += page["task_instances"]
            if not page["task_instances"] or len(found) >= page["total_entries"]:
                return found

    def xcom(
        self, dag_id: str, run_id: str, task_id: str, key: str = "return_value", map_index: int = -1
    ) -> Any:
        """The value a task pushed (its return value by default)."""
        path = (
            f"/api/v2/dags/{dag_id}/dagRuns/{_quote(run_id)}/taskInstances/{task_id}"
            f"/xcomEntries/{key}"
        )
        return self.get(path, map_index=map_index)["value"]

    def log_path(self, task_instance: dict[str, Any]) -> Path:
        """Where a task instance's log is on this machine (Airflow's default file names)."""
        ti = task_instance
        mapped = f"map_index={ti['map_index']}/" if ti.get("map_index", -1) >= 0 else ""
        attempt = max(int(ti.get("try_number") or 1), 1)
        return (
            self.home
            / "logs"
            / f"dag_id={ti['dag_id']}"
            / f"run_id={ti['dag_run_id']}"
            / f"task_id={ti['task_id']}"
            / f"{mapped}attempt={attempt}.log"
        )

    def failures(self, dag_id: str, run_id: str) -> list[str]:
        """Each task instance of a run that did not succeed or skip, with its log's path."""
        return [
            f"{ti['task_id']}[{ti['map_index']}] {ti['state']} on {ti.get('hostname') or '?'}: "
            f"{self.log_path(ti)}"
            for ti in self.task_instances(dag_id, run_id)
            if ti["state"] not in {"success", "skipped"}
        ]


def _quote(run_id: str) -> str:
    """A run id as one URL path segment (manual run ids hold ``:`` and ``+``)."""
    return urllib.parse.quote(run_id, safe="")
