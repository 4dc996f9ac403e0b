"""Benchmark: the DAG's dump engine against a plain ``mysqldump | gzip > file``.

Both dump the same MariaDB database on the local stack in one run, alternating,
three times each: one table of 4,000,000 order-like rows (``BENCH_ROWS``). The
engine is called as the ``dump_database`` task calls it (``stream_dump``: dump,
gzip, SSE-KMS multipart upload to the moto server); the peer runs the same
``mysqldump`` command into ``gzip -6`` and a local file, and uploads nothing.
Each side runs in its own process started by ``bench.measure``, so its peak RSS
is its own (a process forked from the benchmark would count the benchmark's
memory too). Reported: median wall time, the ratio, and the peak resident
memory of each side's largest process.

Run with the local stack up: ``make bench-rds`` (or ``python -m bench.rds_dump``).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.measure import measure_command
from include.dr.local_stack.seed_aws import aws_client
from include.dr.local_stack.settings import load_settings
from include.dr.policy.loader import load_policy
from include.dr.project import PROJECT_ROOT
from include.dr.rds.dump import dump_binary, dump_command
from include.dr.rds.mysql_client import options_file

DATABASE = "restore_bench"  # the backup user owns restore_* databases
ROWS = int(os.environ.get("BENCH_ROWS", "4000000"))
RUNS = 3
RESULTS = PROJECT_ROOT / "bench" / "results" / "rds_dump.json"

ENGINE = """
import json, sys
from include.dr.local_stack.seed_aws import aws_client
from include.dr.local_stack.settings import load_settings
from include.dr.rds.dump import stream_dump
settings = load_settings()
args = json.loads(sys.argv[1])
s3 = aws_client(settings, "s3", args["region"])
result = stream_dump(s3, connection=args["connection"], database=args["database"],
    bucket=args["bucket"], key=args["key"], kms_key_arn=args["kms"], tags="managed-by=bench")
print(json.dumps(result.as_dict()))
"""


def mysql(connection: dict[str, Any], sql: str) -> None:
    subprocess.run(
        [
            "mariadb",
            "--no-defaults",
            "-h",
            connection["host"],
            "-P",
            str(connection["port"]),
            "-u",
            connection["login"],
            f"-p{connection['password']}",
            f"--ssl-ca={connection['extra']['ssl']['ca']}",
            "--ssl-verify-server-cert",
            "-e",
            sql,
        ],
        check=True,
    )


def seed(connection: dict[str, Any]) -> None:
    """``ROWS`` order-like rows, made by the server (MariaDB's sequence engine)."""
    mysql(
        connection,
        f"DROP DATABASE IF EXISTS {DATABASE}; CREATE DATABASE {DATABASE}; USE {DATABASE}; "
        "CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT, placed_at DATETIME, "
        "status VARCHAR(16), total_pence INT, note VARCHAR(120)); "
        f"INSERT INTO orders SELECT seq, seq % 5000, '2026-01-01' + INTERVAL seq MINUTE, "
        f"ELT(1 + seq % 3, 'paid', 'shipped', 'refunded'), (seq * 7919) % 100000, "
        f"CONCAT('order ', seq, ' ', MD5(seq)) FROM seq_1_to_{ROWS};",
    )


def run_peer(
    connection: dict[str, Any], folder: Path, env: dict[str, str]
) -> tuple[float, float, int, float]:
    options = options_file(folder, connection)
    command = " ".join(dump_command(dump_binary(), options, DATABASE))
    target = folder / "dump.sql.gz"
    measured = measure_command(["sh", "-c", f"{command} | gzip -6 > {target}"], env)
    return measured.seconds, measured.peak_rss_mb, target.stat().st_size, measured.seconds


def run_engine(
    connection: dict[str, Any], bucket: str, kms: str, region: str, index: int, env: dict[str, str]
) -> tuple[float, float, int, float]:
    arguments = {
        "connection": connection,
        "database": DATABASE,
        "bucket": bucket,
        "region": region,
        "key": f"bench/{DATABASE}-{index}.sql.gz",
        "kms": kms,
    }
    measured = measure_command([sys.executable, "-c", ENGINE, json.dumps(arguments)], env)
    result = json.loads(measured.stdout.strip().splitlines()[-1])
    # The task's process has Airflow and boto3 loaded already, so the engine's time is the
    # stream_dump call; the process start is reported beside it.
    return result["seconds"], measured.peak_rss_mb, result["bytes_compressed"], measured.seconds


def main() -> None:
    settings = load_settings()
    policy = load_policy()
    connection = dict(settings.connection("mysql_default"))
    region = policy.regions.dr
    bucket = policy.assets.rds[0].dr_bucket
    kms = aws_client(settings, "kms", region).describe_key(KeyId=policy.kms_key(region))[
        "KeyMetadata"
    ]["Arn"]
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
    seed(connection)
    peer, engine = [], []
    try:
        with tempfile.TemporaryDirectory() as folder:
            for index in range(RUNS):
                peer.append(run_peer(connection, Path(folder), env))
                print("peer", peer[-1], flush=True)
                engine.append(run_engine(connection, bucket, kms, region, index, env))
                print("engine", engine[-1], flush=True)
    finally:
        mysql(connection, f"DROP DATABASE {DATABASE}")
    report: dict[str, Any] = {
        "rows": ROWS,
        "runs": RUNS,
        "peer": "mysqldump | gzip -6 > file (local disk, no upload)",
        "engine": "stream_dump: mysqldump -> gzip -> SSE-KMS multipart upload (moto)",
        "peer_seconds": round(statistics.median(r[0] for r in peer), 3),
        "engine_seconds": round(statistics.median(r[0] for r in engine), 3),
        "engine_seconds_with_python_start": round(statistics.median(r[3] for r in engine), 3),
        "peer_peak_rss_mb": round(max(r[1] for r in peer), 1),
        "engine_peak_rss_mb": round(max(r[1] for r in engine), 1),
        "peer_bytes": peer[0][2],
        "engine_bytes": engine[0][2],
        "load_average": [round(load, 2) for load in os.getloadavg()],
    }
    report["ratio"] = round(report["engine_seconds"] / report["peer_seconds"], 2)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
