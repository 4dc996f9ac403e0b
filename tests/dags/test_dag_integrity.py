"""Every DAG imports cleanly and carries what operators rely on: docs, tags, owner, retries."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from include.dr.project import PROJECT_ROOT

DAG_FILES = sorted((PROJECT_ROOT / "dags").glob("*.py"))
# Libraries that cost seconds or hundreds of megabytes to load. Airflow itself loads
# SQLAlchemy and cryptography, so they are not on the list; botocore's exceptions module
# alone is light, its sessions and clients are not.
HEAVY_MODULES = (
    "boto3",
    "botocore.session",
    "botocore.client",
    "s3transfer",
    "aiobotocore",
    "great_expectations",
    "pandas",
    "numpy",
    "pyarrow",
    "pymysql",
    "MySQLdb",
    "github",
)
# Run in a fresh interpreter (with the tests' Airflow environment): parse one DAG file
# as the DAG processor does, then print every module then loaded.
PARSE_AND_LIST_MODULES = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("dag_file", sys.argv[1])
spec.loader.exec_module(importlib.util.module_from_spec(spec))
print(json.dumps(sorted(sys.modules)))
"""


@pytest.fixture(scope="module")
def product_dags(airflow_db: None):  # type: ignore[no-untyped-def]
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))
    assert bag.import_errors == {}, bag.import_errors
    return bag.dags


def test_there_are_dags(product_dags: dict) -> None:  # type: ignore[type-arg]
    assert len(product_dags) == len(DAG_FILES) >= 1


def test_every_dag_is_documented_tagged_owned_and_retried(product_dags: dict) -> None:  # type: ignore[type-arg]
    for dag_id, dag in product_dags.items():
        assert dag.doc_md and len(dag.doc_md) > 100, f"{dag_id} has no doc_md"
        assert dag.tags, f"{dag_id} has no tags"
        for task in dag.tasks:
            assert task.owner not in ("", "airflow"), f"{dag_id}.{task.task_id} has no owner"
            assert task.retries >= 2, f"{dag_id}.{task.task_id} retries {task.retries} < 2"


# Airflow itself normalises an ``s3://`` Asset URI at parse time through the Amazon
# provider's asset module, which imports S3Hook and so boto3: no import of ours to move.
S3_ASSET_DAGS = {"rds_backup.py", "s3_backup.py"}
BOTO3_FROM_S3_ASSETS = pytest.mark.xfail(
    reason="Airflow's s3:// asset URI handler (providers/amazon/aws/assets/s3.py) imports boto3",
    strict=True,
)


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(p, marks=BOTO3_FROM_S3_ASSETS) if p.name in S3_ASSET_DAGS else p
        for p in DAG_FILES
    ],
    ids=[p.name for p in DAG_FILES],
)
def test_parsing_a_dag_file_loads_nothing_heavy(path: Path) -> None:
    """Parsing happens every few seconds in the DAG processor, so heavy libraries load
    inside the tasks. Imported in a fresh interpreter, so what the file pulls in through
    ``include/`` counts too, not only its own import lines."""
    loaded = subprocess.run(
        [sys.executable, "-c", PARSE_AND_LIST_MODULES, str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    modules = set(json.loads(loaded.stdout.splitlines()[-1]))
    heavy = sorted(
        name
        for name in HEAVY_MODULES
        if name in modules or any(m.startswith(f"{name}.") for m in modules)
    )
    assert not heavy, (
        f"parsing {path.name} loads {heavy}; import them inside the task that needs them"
    )


@pytest.mark.parametrize("path", DAG_FILES, ids=[p.name for p in DAG_FILES])
def test_dag_files_open_with_their_purpose(path: Path) -> None:
    docstring = ast.get_docstring(ast.parse(path.read_text()))
    assert docstring and docstring.lstrip().startswith("###"), (
        f"{path.name} needs a Markdown docstring"
    )
