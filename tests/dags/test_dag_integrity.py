"""Every DAG imports cleanly and carries what operators rely on: docs, tags, owner, retries."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from include.dr.project import PROJECT_ROOT

DAG_FILES = sorted((PROJECT_ROOT / "dags").glob("*.py"))
HEAVY_MODULES = {"boto3", "botocore", "great_expectations", "pandas", "pymysql", "sqlalchemy"}


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


@pytest.mark.parametrize("path", DAG_FILES, ids=[p.name for p in DAG_FILES])
def test_dag_files_import_nothing_heavy_at_module_level(path: Path) -> None:
    tree = ast.parse(path.read_text())
    for node in tree.body:
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        heavy = {name.split(".")[0] for name in names} & HEAVY_MODULES
        assert not heavy, f"{path.name} imports {heavy} at module level; import it inside the task"


@pytest.mark.parametrize("path", DAG_FILES, ids=[p.name for p in DAG_FILES])
def test_dag_files_open_with_their_purpose(path: Path) -> None:
    docstring = ast.get_docstring(ast.parse(path.read_text()))
    assert docstring and docstring.lstrip().startswith("###"), (
        f"{path.name} needs a Markdown docstring"
    )
