"""Benchmark: the restore test's validation at 200,000 and 2,000,000 rows, in the database
(GX SQL datasource, as the restore test calls it) against the old path (each table read
into pandas), side by side in one run.

Each size is one MariaDB table of order-like rows made by the server (the sequence
engine, as ``bench/rds_dump.py`` seeds), described by the backup's own manifest. Each
validation runs in its own process started by ``bench.measure``, so its peak RSS is its
own; the paths alternate, ``BENCH_RUNS`` times each (3). Reported per size and path: the
median of the in-process ``validate_database`` time and of the whole process, the time per
row, and the peak RSS; then the ratios the issue sets as targets (SQL path: peak memory
at 2M at most 1.2x that at 200k, time per row at 2M no worse than at 200k).

Run with the local stack up: ``make bench-validation`` (``BENCH_VALIDATION_ROWS=200000,
2000000`` sets the sizes, ``BENCH_PANDAS=0`` skips the old path).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import pymysql

from bench.measure import Measurement, measure_command
from include.dr.local_stack.settings import load_settings
from include.dr.project import PROJECT_ROOT
from include.dr.rds.manifest import take_manifest

CONN_ID = "mysql_default"  # the backup user owns restore_* databases
SIZES = [
    int(size)
    for size in os.environ.get("BENCH_VALIDATION_ROWS", "200000,2000000").split(",")
    if size.strip()
]
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
PATHS = ("sql", "pandas") if os.environ.get("BENCH_PANDAS", "1") != "0" else ("sql",)
RESULTS = PROJECT_ROOT / "bench" / "results" / "validation.json"

STEP = """
import json, sys, time
import pymysql
from include.dr.local_stack.settings import load_settings
path, conn_id, database, manifest_file = sys.argv[1:5]
settings = load_settings()
connection = settings.connection(conn_id)
manifest = json.loads(open(manifest_file).read())
if path == "sql":
    from include.dr.restore_test.validation import validate_database
    validate = lambda cursor: validate_database(
        cursor, database, manifest, {}, None, connection=connection)
else:
    from bench.validation_pandas import validate_database_in_pandas
    validate = lambda cursor: validate_database_in_pandas(cursor, database, manifest, {}, None)
import great_expectations  # imported before the clock starts: a worker pays it once
db = pymysql.connect(**settings.mysql_arguments(conn_id))
started = time.perf_counter()
result = validate(db.cursor())
seconds = time.perf_counter() - started
db.close()
with open("/proc/self/status") as status:
    hwm = next(line for line in status if line.startswith("VmHWM:"))
print(json.dumps({"seconds": seconds, "success": result["success"],
    "rows": sum(t["rows"] for t in result["tables"].values()),
    "vm_hwm_mb": round(int(hwm.split()[1]) / 1024, 1)}))
"""


def database_of(rows: int) -> str:
    return f"restore_bench_validation_{rows}"


def seed(cursor: Any, rows: int) -> None:
    """``rows`` order-like rows, made by the server (MariaDB's sequence engine)."""
    database = database_of(rows)
    cursor.execute(f"DROP DATABASE IF EXISTS {database}")
    cursor.execute(f"CREATE DATABASE {database}")
    cursor.execute(f"USE {database}")  # the sequence engine's tables live in the current one
    cursor.execute(
        f"CREATE TABLE {database}.orders (id INT PRIMARY KEY, customer_id INT, "
        "placed_at DATETIME, status VARCHAR(16), total_pence INT, note VARCHAR(120))"
    )
    cursor.execute(
        f"INSERT INTO {database}.orders SELECT seq, seq % 5000, "
        "'2026-01-01' + INTERVAL seq MINUTE, ELT(1 + seq % 3, 'paid', 'shipped', 'refunded'), "
        f"(seq * 7919) % 100000, CONCAT('order ', seq, ' ', MD5(seq)) FROM seq_1_to_{rows}"
    )


def run_step(path: str, rows: int, manifest_file: Path, env: dict[str, str]) -> dict[str, Any]:
    measured: Measurement = measure_command(
        [sys.executable, "-c", STEP, path, CONN_ID, database_of(rows), str(manifest_file)], env
    )
    inner = json.loads(measured.stdout.strip().splitlines()[-1])
    if not inner["success"] or inner["rows"] != rows:
        raise RuntimeError(f"{path} validation of {rows} rows did not pass: {inner}")
    found = measured.as_dict() | {"validate_seconds": inner["seconds"]}
    print(rows, path, json.dumps(found | {"vm_hwm_mb": inner["vm_hwm_mb"]}), flush=True)
    return found | {"vm_hwm_mb": inner["vm_hwm_mb"]}


def summary(rows: int, runs: list[dict[str, Any]]) -> dict[str, Any]:
    validate = statistics.median(r["validate_seconds"] for r in runs)
    return {
        "validate_seconds": round(validate, 2),
        "process_seconds": round(statistics.median(r["seconds"] for r in runs), 2),
        "microseconds_per_row": round(validate / rows * 1e6, 2),
        "peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs), 1),
        "vm_hwm_mb": round(max(r["vm_hwm_mb"] for r in runs), 1),
        "runs": runs,
    }


def main() -> None:
    settings = load_settings()
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
    db = pymysql.connect(**settings.mysql_arguments(CONN_ID, autocommit=True))
    results: dict[str, dict[str, Any]] = {}
    try:
        with tempfile.TemporaryDirectory() as folder:
            for rows in SIZES:
                seed(db.cursor(), rows)
                manifest_file = Path(folder) / f"manifest-{rows}.json"
                manifest_file.write_text(json.dumps(take_manifest(db, database_of(rows))))
                runs: dict[str, list[dict[str, Any]]] = {path: [] for path in PATHS}
                for _ in range(RUNS):
                    for path in PATHS:
                        runs[path].append(run_step(path, rows, manifest_file, env))
                results[str(rows)] = {path: summary(rows, runs[path]) for path in PATHS}
    finally:
        for rows in SIZES:
            db.cursor().execute(f"DROP DATABASE IF EXISTS {database_of(rows)}")
        db.close()
    report: dict[str, Any] = {
        "sizes": SIZES,
        "runs": RUNS,
        "table": "orders: INT key and 5 columns, about 100 bytes a row on disk",
        "sql": "validate_database: GX SQL datasource, expectations and checksum in MariaDB",
        "pandas": "the old path: SELECT * into a pandas dataframe, GX on the dataframe",
        "load_average": [round(load, 2) for load in os.getloadavg()],
        "results": results,
    }
    small, large = str(min(SIZES)), str(max(SIZES))
    for path in PATHS:
        if len(SIZES) > 1:
            report[f"{path}_peak_rss_ratio"] = round(
                results[large][path]["peak_rss_mb"] / results[small][path]["peak_rss_mb"], 2
            )
            report[f"{path}_time_per_row_ratio"] = round(
                results[large][path]["microseconds_per_row"]
                / results[small][path]["microseconds_per_row"],
                2,
            )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "results"}, indent=2))


if __name__ == "__main__":
    main()
