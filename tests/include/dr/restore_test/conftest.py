"""A restored database stand-in: a scratch copy of the customer database on MariaDB."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pymysql
import pytest

from include.dr.local_stack.settings import LocalSettings
from include.dr.rds.manifest import take_manifest


@pytest.fixture
def restored(settings: LocalSettings) -> Iterator[tuple[Any, str, dict[str, Any]]]:
    """A scratch copy of the customer database, and the production manifest."""
    db = pymysql.connect(**settings.mysql_arguments("mysql_restore", autocommit=True))
    manifest = take_manifest(db, "customers")
    name = f"restore_{uuid.uuid4().hex[:8]}"
    cursor = db.cursor()
    cursor.execute(f"CREATE DATABASE {name}")
    for table in manifest["tables"]:
        cursor.execute(f"CREATE TABLE {name}.{table} LIKE customers.{table}")
        cursor.execute(f"INSERT INTO {name}.{table} SELECT * FROM customers.{table}")
    yield cursor, name, manifest
    cursor.execute(f"DROP DATABASE {name}")
    db.close()
