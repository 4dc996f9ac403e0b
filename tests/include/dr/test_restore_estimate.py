"""The restore forms' size estimate: computed from the evidence, read fail-soft, rounded,
and shown on the parsed DAGs' forms."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from include.dr import restore_estimate
from include.dr.evidence import EvidenceRecord, Outcome
from include.dr.project import PROJECT_ROOT
from include.dr.restore_estimate import (
    SUMMARY_NAME,
    about,
    about_bytes,
    describe,
    read_summary,
    summarise,
)

NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


def record(
    kind: str, asset: str, outcome: Outcome, age_days: int, **details: Any
) -> EvidenceRecord:
    return EvidenceRecord(
        kind,
        asset,
        kind,
        f"run-{age_days}",
        outcome,
        details,
        NOW - timedelta(days=age_days),
    )


RECORDS = {
    "s3_backup": [
        record("s3_backup", "s3/docs", "pass", 2, source="docs", listed=10, day="2026-11-28"),
        record(
            "s3_backup",
            "s3/docs",
            "pass",
            1,
            source="docs",
            listed=48_213,
            bytes_listed=1_288_490_189,
            day="2026-11-29",
        ),
        record("s3_backup", "s3/docs", "fail", 0, source="docs", listed=1, day="2026-11-30"),
    ],
    "rds_backup": [
        record(
            "rds_backup",
            "rds/db",
            "pass",
            1,
            instance="db",
            day="2026-11-29",
            dump={"bytes_compressed": 130_770, "bytes_raw": 472_316},
            manifest={"tables": 4, "rows": 11_000},
            copy={"allocated_gb": 20},
        )
    ],
    "git_backup": [
        record(
            "git_backup",
            "git/org/app",
            "pass",
            1,
            repository="org/app",
            day="2026-11-29",
            bundle={"size": 10_897},
            refs={"HEAD": "a", "refs/heads/main": "a", "refs/tags/v1": "b"},
        ),
        record("git_backup", "git/org/empty", "pass", 1, repository="org/empty", day="x"),
    ],
}


def test_the_summary_holds_each_asset_s_latest_passed_backup() -> None:
    summary = summarise(RECORDS, NOW)
    assert summary["s3"] == {
        "docs": {"objects": 48_213, "bytes": 1_288_490_189, "day": "2026-11-29"}
    }
    assert summary["rds"]["db"] == {
        "dump_bytes": 130_770,
        "sql_bytes": 472_316,
        "tables": 4,
        "rows": 11_000,
        "allocated_gb": 20,
        "day": "2026-11-29",
    }
    assert summary["git"] == {"org/app": {"bytes": 10_897, "refs": 2, "day": "2026-11-29"}}


def test_the_forms_text_is_rounded_and_dated() -> None:
    summary = summarise(RECORDS, NOW)
    assert "- `docs`: about 1.2 GiB, 48,000 objects (backup of 29 Nov 2026)" in describe(
        "s3", summary
    )
    rds = describe("rds", summary)
    assert "dump about 130 KiB (460 KiB of SQL), 4 tables, 11,000 rows" in rds
    assert "a new instance gets 20 GiB of storage" in rds
    assert "bundle about 11 KiB, 2 branches and tags" in describe("git", summary)
    assert about(48_213) == "48,000" and about(7) == "7" and about(None) == "?"
    assert about_bytes(1023) == "1,000 B" and about_bytes(5 * 1024**4) == "5.0 TiB"


def test_many_assets_are_listed_up_to_a_limit_and_the_rest_added_up() -> None:
    many = {f"b{i:02d}": {"objects": 1, "bytes": 1024, "day": "2026-11-29"} for i in range(25)}
    text = describe("s3", {"s3": many}, ["b24"])
    assert text.index("`b24`") < text.index("`b00`")  # the form's own assets first
    assert "- and 5 more, about 5.0 KiB together" in text


def test_no_summary_gives_no_estimate_yet() -> None:
    assert describe("git", None).startswith("No size estimate yet")
    assert describe("s3", {"s3": {}}).startswith("No size estimate yet")


def test_a_missing_or_broken_summary_reads_as_none_without_touching_the_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_store_root() -> None:
        raise AssertionError("file:// is read directly, never through a connection")

    monkeypatch.setattr("include.dr.store.store_root", no_store_root)
    url = f"file://{tmp_path}"
    assert read_summary(url) is None
    (tmp_path / SUMMARY_NAME).parent.mkdir(parents=True)
    (tmp_path / SUMMARY_NAME).write_text("{not json")
    assert read_summary(url) is None
    (tmp_path / SUMMARY_NAME).write_text('{"s3": {}}')
    assert read_summary(url) == {"s3": {}}


def test_an_unreachable_s3_store_reads_as_none(monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable() -> None:
        raise ConnectionError("no route to the store")

    monkeypatch.setattr("include.dr.store.store_root", unreachable)
    assert read_summary("s3://store-bucket/prefix") is None


def test_a_refresh_replaces_the_summary_and_a_failing_one_never_raises(tmp_path: Path) -> None:
    from airflow.sdk import ObjectStoragePath

    root = ObjectStoragePath(f"file://{tmp_path}")

    class Store:
        def __init__(self, records: dict[str, list[EvidenceRecord]]) -> None:
            self.records = records

        def read(self, kind: str) -> list[EvidenceRecord]:
            return self.records.get(kind, [])

    restore_estimate.refresh(Store({}), root, NOW)  # type: ignore[arg-type]
    restore_estimate.refresh(Store(RECORDS), root, NOW)  # type: ignore[arg-type]
    written = json.loads((tmp_path / SUMMARY_NAME).read_text())
    assert written["s3"]["docs"]["objects"] == 48_213
    assert list((tmp_path / "summaries").iterdir()) == [tmp_path / SUMMARY_NAME]

    class Broken:
        def read(self, kind: str) -> list[EvidenceRecord]:
            raise OSError("the store is gone")

    restore_estimate.refresh(Broken(), root, NOW)  # type: ignore[arg-type]
    assert json.loads((tmp_path / SUMMARY_NAME).read_text()) == written  # the last one kept


PARSE_AND_PRINT_FIELD = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("dag_file", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
dag = getattr(module, sys.argv[3])()  # the @dag function builds the DAG the file built
print(json.dumps(dag.params.get_param(sys.argv[2]).schema))
"""


@pytest.mark.parametrize(
    ("dag_file", "field", "expected"),
    [
        ("restore_s3.py", "source_bucket", "about 1.2 GiB, 48,000 objects"),
        ("restore_rds.py", "instance", "4 tables, 11,000 rows"),
        ("restore_git.py", "repository", "bundle about 11 KiB"),
    ],
)
def test_each_restore_form_shows_the_estimate_when_its_dag_is_parsed(
    tmp_path: Path, dag_file: str, field: str, expected: str
) -> None:
    summary = summarise(RECORDS, NOW)
    (tmp_path / SUMMARY_NAME).parent.mkdir(parents=True)
    (tmp_path / SUMMARY_NAME).write_text(json.dumps(summary))
    schema = parsed_field(dag_file, field, f"file://{tmp_path}")
    assert expected in schema["description_md"]
    assert "The dry run (on by default) reports the exact amount." in schema["description_md"]
    empty = parsed_field(dag_file, field, f"file://{tmp_path / 'nothing-here'}")
    assert "No size estimate yet" in empty["description_md"]


def parsed_field(dag_file: str, field: str, store_url: str) -> dict[str, Any]:
    """The field's JSON schema as a fresh interpreter parsing ``dag_file`` renders it."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            PARSE_AND_PRINT_FIELD,
            str(PROJECT_ROOT / "dags" / dag_file),
            field,
            dag_file[:-3],
        ],
        env=dict(os.environ, BACKUP_STORE_URL=store_url),
        capture_output=True,
        text=True,
        check=True,
        cwd=PROJECT_ROOT,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))
