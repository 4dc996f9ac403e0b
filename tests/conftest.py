"""Session-wide setup: point Airflow at this project before anything imports it.

Airflow reads its configuration once, at import, so the environment is set here
at collection time. The local stack itself comes up lazily, through the
``local_stack`` fixture, the first time a test needs it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from include.dr.local_stack import stack
from include.dr.local_stack.airflow_env import airflow_env
from include.dr.local_stack.settings import LocalSettings, load_settings
from include.dr.project import PROJECT_ROOT, state_dir

STATE = state_dir()
TEST_HOME = STATE / "airflow-test"
TEST_DAGS = STATE / "test-dags"
FIXTURE_DAGS = PROJECT_ROOT / "tests" / "fixtures" / "dags"


def _link_dags() -> None:
    """The DAGs folder for test runs: the product's DAGs plus test-only fixture DAGs."""
    shutil.rmtree(TEST_DAGS, ignore_errors=True)
    TEST_DAGS.mkdir(parents=True)
    for source in [
        *sorted((PROJECT_ROOT / "dags").glob("*.py")),
        *sorted(FIXTURE_DAGS.glob("*.py")),
    ]:
        (TEST_DAGS / source.name).symlink_to(source)


_link_dags()
os.environ.update(airflow_env(TEST_HOME, parallelism=4))
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(TEST_DAGS)
os.environ["BACKUP_EVIDENCE_DIR"] = str(STATE / "evidence-test")
shutil.rmtree(STATE / "evidence-test", ignore_errors=True)


@pytest.fixture(scope="session")
def settings() -> LocalSettings:
    return load_settings()


@pytest.fixture(scope="session")
def local_stack() -> Iterator[Path]:
    """moto, MariaDB and git daemon, up and seeded; stops afterwards what it started."""
    report = stack.up(STATE)
    yield STATE
    for process in reversed(stack.processes(STATE)):
        if process.name in report.started:
            process.stop()


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """A migrated metadata database for ``dag.test()`` runs."""
    from airflow.utils import db

    db.initdb()


@pytest.fixture(scope="session")
def dag_bag(airflow_db: None):  # type: ignore[no-untyped-def]
    """Every DAG of the test DAGs folder, parsed once."""
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(TEST_DAGS))
