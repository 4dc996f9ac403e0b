"""Session-wide setup: point Airflow at this project before anything imports it.

Airflow reads its configuration once, at import, so the environment is set here
at collection time. The local stack itself comes up lazily, through the
``local_stack`` fixture, the first time a test needs it.
"""

from __future__ import annotations

import copy
import os
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from include.dr.iam.calls import Recorder, install
from include.dr.infra.files import recorded_calls_dir, uncovered
from include.dr.local_stack import stack
from include.dr.local_stack.airflow_env import airflow_env
from include.dr.local_stack.airflow_standalone import TEST_AIRFLOW, Standalone
from include.dr.local_stack.settings import LocalSettings, load_settings
from include.dr.policy.loader import DEFAULT_POLICY_FILE
from include.dr.project import PROJECT_ROOT, state_dir

STATE = state_dir()
TEST_HOME = STATE / "airflow-test"
TEST_DAGS = STATE / "test-dags"
ONE_DAG_FOLDERS = STATE / "test-dags-one"
FIXTURE_DAGS = PROJECT_ROOT / "tests" / "fixtures" / "dags"


def _link(folder: Path, sources: list[Path]) -> None:
    """Make ``folder`` hold exactly links to ``sources``, changing only what differs, so a
    session starting beside a running one never pulls a file from under it."""
    folder.mkdir(parents=True, exist_ok=True)
    wanted = {source.name: source for source in sources}
    for present in folder.iterdir():
        if present.name in wanted:
            continue
        if present.is_dir() and not present.is_symlink():
            shutil.rmtree(present, ignore_errors=True)  # __pycache__ from a parse
        else:
            present.unlink(missing_ok=True)
    for name, source in wanted.items():
        link = folder / name
        if link.is_symlink() and link.readlink() == source:
            continue
        spare = folder / f".{name}.new"
        spare.unlink(missing_ok=True)
        spare.symlink_to(source)
        spare.replace(link)


def _link_dags() -> None:
    """The DAGs folder for test runs: the product's DAGs plus test-only fixture DAGs."""
    _link(
        TEST_DAGS,
        [*sorted((PROJECT_ROOT / "dags").glob("*.py")), *sorted(FIXTURE_DAGS.glob("*.py"))],
    )


_link_dags()
os.environ.update(airflow_env(TEST_HOME, parallelism=4))
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(TEST_DAGS)
os.environ["BACKUP_STORE_URL"] = f"file://{STATE / 'store-test'}"
os.environ["BACKUP_CACHE_DIR"] = str(STATE / "cache-test")
os.environ["BACKUP_RETRY_DELAY_SECONDS"] = "0.5"  # retries still happen, just quickly
# Every dag.test() re-serializes the whole DAGs folder under the test's own policy file, and
# Airflow rewrites a DAG version that has no task instances in place (same version id). Its
# DAG cache trusts an entry for min_serialized_dag_update_interval (30 s), so a run could be
# checked against a minute-old policy's assets ("inactive assets in its outlets"). At 0 the
# cache compares the stored hash on every read.
os.environ["AIRFLOW__CORE__MIN_SERIALIZED_DAG_UPDATE_INTERVAL"] = "0"

# Every AWS operation the product makes in this session, by connection: the call
# inventory the IAM policies in infra/ are built from (python -m include.dr.iam).
AWS_CALLS = Recorder(
    {c["login"]: conn_id for conn_id, c in load_settings().connections.items() if c.get("login")}
)
install(AWS_CALLS)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Keep the session's calls for ``make inventory``."""
    if AWS_CALLS.calls:
        AWS_CALLS.write(recorded_calls_dir() / f"{os.getpid()}.jsonl")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Name any call the product made that the committed inventory (so the shipped IAM
    policies) lacks. A warning, not a failure: a rare path (a retry's extra call) must
    not fail the suite; tests/integration/test_least_privilege.py fails on what matters."""
    missing = uncovered(AWS_CALLS.calls)
    if missing:
        terminalreporter.section("AWS calls the inventory lacks")
        for call in missing:
            terminalreporter.line(
                f"{call.principal} {call.family}: {call.operation} {call.resource}"
            )
        terminalreporter.line("Record them: the whole suite, then `make inventory infra`.")


_evidence_cleared: list[bool] = []


def _fresh_evidence() -> None:
    """Start the session's evidence afresh, once, and only in a session that uses the
    stack or the metadata database: a quick unit run beside it must not wipe its records."""
    if not _evidence_cleared:
        shutil.rmtree(STATE / "store-test", ignore_errors=True)
        _evidence_cleared.append(True)


# A test's markers follow from the fixtures it uses, so none can be forgotten:
# ``make test-fast`` runs what needs no server and no Airflow database.
MARKERS = {
    "ui": ("running_airflow",),
    "dag_run": ("dag_bag", "airflow_db"),
    "stack": ("local_stack",),
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        for marker, fixtures in MARKERS.items():
            if used.intersection(fixtures):
                item.add_marker(marker)


@pytest.fixture(scope="session")
def settings() -> LocalSettings:
    return load_settings()


@pytest.fixture(scope="session")
def local_stack() -> Iterator[Path]:
    """moto, MariaDB and git daemon, up and seeded; stops afterwards what it started."""
    _fresh_evidence()
    report = stack.up(STATE)
    yield STATE
    for process in reversed(stack.processes(STATE)):
        if process.name in report.started:
            process.stop()


@pytest.fixture(scope="session")
def running_airflow(local_stack: Path) -> Iterator[Standalone]:
    """A real ``airflow standalone`` (scheduler, triggerer, API) over the test DAGs, on :8081."""
    airflow = Standalone(
        STATE,
        name=TEST_AIRFLOW,
        port=8081,
        dags_folder=TEST_DAGS,
        store_dir=STATE / "store-test-ui",  # never the demo's evidence
        signed=False,  # the stack's own keys: the tests run unenforced
    )
    started = airflow.start()
    yield airflow
    if started:
        airflow.stop()


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """A migrated metadata database for ``dag.test()`` runs."""
    from airflow.utils import db

    _fresh_evidence()
    db.initdb()


class FreshDags:
    """Hands out a newly parsed DAG for every run, from a folder holding only its file.

    dag.test() leaves state on the DAG object it ran (a run_conf sticks as the params'
    defaults, and task start dates move), so reusing one object across runs makes later
    runs silently differ. And every dag.test() re-parses and re-serializes the whole DAG
    bundle it belongs to (Airflow 3.3, apache/airflow#64884): pointing the bundle at a
    folder with only the DAG under test makes that one file (about 0.04 s a call instead
    of 0.25 s for twelve), and no other DAG is re-serialized under this test's policy.
    """

    def get_dag(self, dag_id: str) -> Any:
        from airflow import settings
        from airflow.dag_processing.dagbag import DagBag

        for path in sorted(TEST_DAGS.glob("*.py")):
            if f'dag_id="{dag_id}"' in path.read_text():
                folder = ONE_DAG_FOLDERS / dag_id
                _link(folder, [path.resolve()])
                settings.DAGS_FOLDER = str(folder)  # the bundle dag.test() re-syncs
                bag = DagBag(dag_folder=str(folder))
                assert bag.import_errors == {}, bag.import_errors
                return bag.get_dag(dag_id)
        raise LookupError(f"no DAG file declares dag_id={dag_id!r} in {TEST_DAGS}")


@pytest.fixture(scope="session")
def dag_bag(airflow_db: None) -> FreshDags:
    """A freshly parsed DAG per ``get_dag`` call, from the test DAGs folder."""
    return FreshDags()


@pytest.fixture
def use_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., dict[str, Any]]:
    """Put a changed copy of the shipped policy in force: ``use_policy(lambda p: ...)``."""

    def write(change: Callable[[dict[str, Any]], None] = lambda policy: None) -> dict[str, Any]:
        policy = copy.deepcopy(yaml.safe_load(DEFAULT_POLICY_FILE.read_text()))
        change(policy)
        path = tmp_path / "policy.yaml"
        path.write_text(yaml.safe_dump(policy))
        monkeypatch.setenv("BACKUP_POLICY_FILE", str(path))
        return policy

    return write


def noon_zone() -> str:
    """A fixed-offset zone in which it is now about noon, so windows never straddle midnight."""
    offset = 12 - datetime.now(UTC).hour  # Etc/GMT-N is N hours *ahead* of UTC
    return "UTC" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


@pytest.fixture
def use_window(use_policy: Callable[..., dict[str, Any]]) -> Callable[[str, str], None]:
    """Put in force a window given in local time of a zone where it is now about noon."""

    def write(start: str, end: str) -> None:
        zone = noon_zone()

        def change(policy: dict[str, Any]) -> None:
            policy["schedule"]["window"] = {"start": start, "end": end, "timezone": zone}

        use_policy(change)

    return write


def deferred_tasks(dag_id: str, run_id: str) -> dict[str, str]:
    """Task id -> trigger class of every task of a run that waited in a trigger."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.trigger import Trigger
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = (
            session.query(TaskInstance.task_id, Trigger.classpath)
            .join(Trigger, TaskInstance.trigger_id == Trigger.id)
            .filter(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id)
            .all()
        )
    return {task_id: classpath for task_id, classpath in rows}
