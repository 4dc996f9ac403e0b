"""Benchmark: the DAG's dump engine against a plain ``mysqldump | gzip > file``.

Both dump the same MariaDB database on the local stack in one run, alternating,
three times each. The engine is called as the ``dump_database`` task calls it
(``stream_dump``: dump, gzip, SSE-KMS multipart upload to the moto server); the
peer writes a local file and uploads nothing. Reported: median wall time, the
ratio, and the peak resident memory of each side's processes.

Run with the local stack up: ``make bench-rds`` (or ``python -m bench.rds_dump``).
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from include.dr.local_stack.seed_aws import aws_client
from include.dr.local_stack.settings import load_settings
from include.dr.policy.loader import load_policy
from include.dr.project import PROJECT_ROOT
from include.dr.rds.dump import dump_binary, dump_command
from include.dr.rds.mysql_client import options_file

DATABASE = "restore_bench"  # the backup user owns restore_* databases
ROWS = int(os.environ.get("BENCH_ROWS", "400000"))
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


def mysql(connection: dict, sql: str) -> None:
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


def seed(connection: dict) -> None:
    """A few hundred thousand order-like rows, made by the server (MariaDB's sequence engine)."""
    mysql(
        connection,
        f"DROP DATABASE IF EXISTS {DATABASE}; CREATE DATABASE {DATABASE}; USE {DATABASE}; "
        "CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT, placed_at DATETIME, "
        "status VARCHAR(16), total_pence INT, note VARCHAR(120)); "
        f"INSERT INTO orders SELECT seq, seq % 5000, '2026-01-01' + INTERVAL seq MINUTE, "
        f"ELT(1 + seq % 3, 'paid', 'shipped', 'refunded'), (seq * 7919) % 100000, "
        f"CONCAT('order ', seq, ' ', MD5(seq)) FROM seq_1_to_{ROWS};",
    )


def peak_child_rss_mb(before: int) -> float:
    """Peak RSS of the children reaped since ``before`` (Linux reports KiB)."""
    return max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) / 1024


def run_peer(connection: dict, folder: Path) -> tuple[float, float, int, float]:
    options = options_file(folder, connection)
    command = " ".join(dump_command(dump_binary(), options, DATABASE))
    target = folder / "dump.sql.gz"
    started = time.perf_counter()
    subprocess.run(f"{command} | gzip -6 > {target}", shell=True, check=True)  # noqa: S602
    elapsed = time.perf_counter() - started
    return elapsed, peak_child_rss_mb(0), target.stat().st_size, elapsed


def run_engine(
    connection: dict, bucket: str, kms: str, region: str, index: int
) -> tuple[float, float, int, float]:
    arguments = {
        "connection": connection,
        "database": DATABASE,
        "bucket": bucket,
        "region": region,
        "key": f"bench/{DATABASE}-{index}.sql.gz",
        "kms": kms,
    }
    started = time.perf_counter()
    output = subprocess.run(
        [sys.executable, "-c", ENGINE, json.dumps(arguments)],
        check=True,
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    ).stdout
    result = json.loads(output.splitlines()[-1])
    # The task's process has Airflow and boto3 loaded already, so the engine's time is the
    # stream_dump call; the process start is reported beside it.
    process_seconds = time.perf_counter() - started
    return result["seconds"], peak_child_rss_mb(0), result["bytes_compressed"], process_seconds


def measure(function, *args) -> tuple[float, float, int, float]:  # type: ignore[no-untyped-def]
    """Run in a fresh child so each side's peak memory is its own."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        os.write(write, json.dumps(function(*args)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        result = json.loads(pipe.read())
    os.waitpid(pid, 0)
    return tuple(result)  # type: ignore[return-value]


def main() -> None:
    settings = load_settings()
    policy = load_policy()
    connection = dict(settings.connection("mysql_default"))
    region = policy.regions.dr
    bucket = policy.assets.rds[0].dr_bucket
    kms = aws_client(settings, "kms", region).describe_key(KeyId=policy.kms_key(region))[
        "KeyMetadata"
    ]["Arn"]
    seed(connection)
    peer, engine = [], []
    with tempfile.TemporaryDirectory() as folder:
        for index in range(RUNS):
            peer.append(measure(run_peer, connection, Path(folder)))
            engine.append(measure(run_engine, connection, bucket, kms, region, index))
    mysql(connection, f"DROP DATABASE {DATABASE}")
    report = {
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
    }
    report["ratio"] = round(report["engine_seconds"] / report["peer_seconds"], 2)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
