"""The logical dump restores byte for byte: binary columns, 4-byte characters, and the
schema's trigger, view, stored procedure and event, through the product's own dump (with
its manifest) and load, against the local MariaDB."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pymysql
import pytest

from include.dr.aws_clients import hook_clients
from include.dr.kms import resolve_key
from include.dr.local_stack.settings import LocalSettings
from include.dr.policy.loader import load_policy
from include.dr.rds import restore
from include.dr.rds.consistent_dump import dump_at_one_moment
from include.dr.rds.manifest import manifest_bytes
from include.dr.rds.mysql_client import connection_settings
from include.dr.rds.transport import open_mysql

pytestmark = pytest.mark.usefixtures("local_stack")
POLICY = load_policy()
BUCKET = POLICY.assets.rds[0].dr_bucket
# Bytes no text column could hold, a NUL among them, and characters outside the BMP.
ROWS = [
    (1, "plain", bytes(range(256)), "ascii only"),
    (2, "emoji 😀 and clef 𝄞", b"\x00\xff\x00", "中文, עברית, 🏳️‍🌈"),
    (3, "trailing space ", b"", "NUL in text? no: \\0 as text"),
]
SCHEMA = [
    "CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(60) NOT NULL, payload VARBINARY(300),"
    " note TEXT) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
    "CREATE TABLE audit (id INT AUTO_INCREMENT PRIMARY KEY, item_id INT NOT NULL)",
    "CREATE TRIGGER items_audit AFTER INSERT ON items FOR EACH ROW "
    "INSERT INTO audit (item_id) VALUES (NEW.id)",
    "CREATE VIEW named_items AS SELECT id, name FROM items WHERE name <> ''",
    "CREATE PROCEDURE count_items(OUT found INT) SELECT COUNT(*) INTO found FROM items",
    "CREATE EVENT tidy_audit ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM audit WHERE id < 0",
]


def connect(settings: LocalSettings, database: str | None) -> Any:
    return pymysql.connect(
        **settings.mysql_arguments("mysql_restore", database=database, autocommit=True)
    )


@pytest.fixture
def source(settings: LocalSettings) -> Iterator[str]:
    """A database with every kind of object, made by the backup user (the definer)."""
    name = f"restore_fidelity_{uuid.uuid4().hex[:8]}"
    with connect(settings, None) as db, db.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
        cursor.execute(f"USE {name}")
        for statement in SCHEMA:
            cursor.execute(statement)
        cursor.executemany("INSERT INTO items VALUES (%s, %s, %s, %s)", ROWS)
    yield name
    with connect(settings, None) as db, db.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name}")


def contents(cursor: Any, database: str) -> dict[str, Any]:
    """Everything a byte-for-byte restore must reproduce, as the server reports it."""
    cursor.execute(f"USE {database}")
    cursor.execute("SELECT id, HEX(name), HEX(payload), HEX(note) FROM items ORDER BY id")
    items = cursor.fetchall()
    cursor.execute("SELECT item_id FROM audit ORDER BY id")
    audit = cursor.fetchall()
    cursor.execute("SELECT * FROM named_items ORDER BY id")
    view = cursor.fetchall()
    cursor.execute("CALL count_items(@found)")
    cursor.execute("SELECT @found")
    procedure = cursor.fetchone()
    cursor.execute("SHOW TRIGGERS")
    triggers = [(t[0], t[1], t[4], t[3]) for t in cursor.fetchall()]  # name, event, timing, body
    cursor.execute("SHOW EVENTS")
    events = [(e[1], e[5], e[7]) for e in cursor.fetchall()]  # name, type, interval
    return {
        "items": items,
        "audit": audit,
        "view": view,
        "procedure": procedure,
        "triggers": triggers,
        "events": events,
    }


def test_a_dump_restores_byte_for_byte_with_its_triggers_views_routines_and_events(
    settings: LocalSettings, source: str
) -> None:
    s3 = hook_clients("aws_dr")("s3", POLICY.regions.dr)
    kms = hook_clients("aws_dr")("kms", POLICY.regions.dr)
    key_arn = resolve_key(kms, POLICY.kms_key(POLICY.regions.dr), POLICY.regions.dr)
    folder = f"fidelity/{uuid.uuid4().hex[:8]}/"

    def store_manifest(manifest: dict[str, Any]) -> None:
        s3.put_object(Bucket=BUCKET, Key=f"{folder}manifest.json", Body=manifest_bytes(manifest))

    dumped = dump_at_one_moment(
        lambda: open_mysql("mysql_restore", source),
        connection_settings("mysql_restore"),
        source,
        s3=s3,
        bucket=BUCKET,
        key=f"{folder}dump.sql.gz",
        kms_key_arn=key_arn,
        tags="managed-by=policy-backup",
        store_manifest=store_manifest,
    )
    assert dumped.manifest["tables"]["items"]["row_count"] == len(ROWS)

    target = f"restore_{uuid.uuid4().hex[:8]}"
    plan = {
        "dr_bucket": BUCKET,
        "dump_key": f"{folder}dump.sql.gz",
        "manifest_key": f"{folder}manifest.json",
        "target_database": target,
    }
    with connect(settings, None) as db, db.cursor() as cursor:
        loaded = restore.load_dump(plan, s3, connection_settings("mysql_restore"), cursor)
        try:
            assert loaded["equal_to_manifest"] is True
            assert contents(cursor, target) == contents(cursor, source)
            # The restored trigger fires, as the original does.
            cursor.execute(f"INSERT INTO {target}.items VALUES (4, 'new', NULL, NULL)")
            cursor.execute(f"SELECT item_id FROM {target}.audit ORDER BY id DESC LIMIT 1")
            assert cursor.fetchone() == (4,)
        finally:
            cursor.execute(f"DROP DATABASE IF EXISTS {target}")
