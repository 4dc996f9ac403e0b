"""Benchmark: the S3 copy engine's peak memory stays flat as the object count grows.

The engine streams both listings through a sorted merge and spools each
partition's manifest to a bounded temporary file, so a no-op re-run should need
the same memory for 10,000 objects as for 100,000. This measures that claim on
the listing-only scenario (nothing to copy), which is where a growing structure
(a dict of keys, a list of steps, an in-memory manifest) would show first.

For each object count a fresh moto server is started by ``bench/seeded_moto.py``,
which seeds a source bucket and a DR bucket holding the same keys directly
through moto's backend (seeding 100,000 objects over HTTP takes about ten
minutes), with every DR copy newer than its source. Then, each in its own
process, so wall time, client CPU and peak memory are that step's alone:

- the engine's no-op re-run, called as the DAG's copy task calls it
  (``back_up_partition`` over the bucket's partitions), which must report every
  object unchanged and copy nothing;
- simply listing both buckets with ``list_objects_v2``, the floor any sync tool
  pays.

Each engine run also reports its own high-water mark (``VmHWM``), a cross-check
of the peak RSS that ``bench.measure`` reads from the kernel.

Run with ``make bench-s3-memory`` (it does not need the local stack);
``BENCH_MEMORY_OBJECTS=10000,100000`` sets the counts, ``BENCH_MEMORY_PORT``
the server's port (4610).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from bench.measure import measure_command
from include.dr.project import PROJECT_ROOT, state_dir

OBJECTS = [
    int(count)
    for count in os.environ.get("BENCH_MEMORY_OBJECTS", "10000,100000").split(",")
    if count.strip()
]
PORT = int(os.environ.get("BENCH_MEMORY_PORT", "4610"))
RESULTS = PROJECT_ROOT / "bench" / "results" / "s3_listing_memory.json"
WORK = state_dir() / "bench-s3-memory"
SERVER = PROJECT_ROOT / "bench" / "seeded_moto.py"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
# Nothing is copied in a no-op re-run, so the key only labels the manifests' encryption.
KMS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/bench-memory"

ENGINE = """
import json
import os
import sys
import boto3
from include.dr.s3.engine import CopyTarget, back_up_partition
from include.dr.s3.listing import folders
from include.dr.s3.partitions import split
endpoint, source, dr, key, objects, report = sys.argv[1:7]
src = boto3.client("s3", region_name="eu-west-2", endpoint_url=endpoint)
dst = boto3.client("s3", region_name="eu-west-1", endpoint_url=endpoint)
target = CopyTarget(source, dr, key, threads=int(os.environ.get("BENCH_THREADS", "32")))
found = folders(src, source, "") | folders(dst, dr, "")
totals = {"partitions": 0, "listed": 0, "copied": 0, "unchanged": 0, "deleted_at_source": 0}
for index, part in enumerate(split("", found, 8)):
    manifest = f".backup/manifests/bench-memory/part-{index}.jsonl.gz"
    result = back_up_partition(src, dst, target, part, manifest)
    assert not result.failures, result.failures[:3]
    totals["partitions"] += 1
    for name in ("listed", "copied", "unchanged", "deleted_at_source"):
        totals[name] += getattr(result, name)
assert totals["copied"] == 0, totals
assert totals["unchanged"] == int(objects), totals
with open("/proc/self/status") as status:
    hwm = next(line for line in status if line.startswith("VmHWM:"))
totals["vm_hwm_mb"] = round(int(hwm.split()[1]) / 1024, 1)
with open(report, "w") as out:
    json.dump(totals, out)
"""

LIST_BOTH = """
import sys
import boto3
endpoint, source, dr, objects = sys.argv[1:5]
for region, bucket in (("eu-west-2", source), ("eu-west-1", dr)):
    client = boto3.client("s3", region_name=region, endpoint_url=endpoint)
    listed = 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        listed += len(page.get("Contents", []))
    assert listed >= int(objects), (bucket, listed)
"""


def start_server(objects: int) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """Start and seed a moto server; returns it once it prints ``ready``."""
    log = open(WORK / f"seeded-moto-{objects}.log", "w")  # noqa: SIM115 - the server keeps it
    server = subprocess.Popen(
        [sys.executable, str(SERVER), "--port", str(PORT), "--objects", str(objects)],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        cwd=PROJECT_ROOT,
    )
    log.close()
    assert server.stdout is not None
    seeded: dict[str, Any] = {}
    for line in server.stdout:
        if line.startswith("seeded "):
            seeded = json.loads(line.removeprefix("seeded "))
        if line.strip() == "ready":
            return server, seeded
    stop_server(server)
    raise RuntimeError(f"the seeded moto server exited early; see {log.name}")


def stop_server(server: subprocess.Popen[str]) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def run(objects: int, env: dict[str, str]) -> dict[str, Any]:
    server, seeded = start_server(objects)
    try:
        endpoint, source, dr = seeded["endpoint"], seeded["source_bucket"], seeded["dr_bucket"]
        print(f"{objects} objects seeded in {seeded['seconds']} s", flush=True)
        listing = measure_command(
            [sys.executable, "-c", LIST_BOTH, endpoint, source, dr, str(objects)], env
        )
        print(objects, "list_both_buckets", listing, flush=True)
        report = WORK / f"engine-{objects}.json"
        report.unlink(missing_ok=True)
        argv = [sys.executable, "-c", ENGINE, endpoint, source, dr, KMS_KEY, str(objects)]
        engine = measure_command([*argv, str(report)], env)
        totals = json.loads(report.read_text())
        print(objects, "engine_noop", engine, totals, flush=True)
    finally:
        stop_server(server)
    return {
        "seeding_seconds": seeded["seconds"],
        "engine_noop": engine.as_dict() | {"vm_hwm_mb": totals.pop("vm_hwm_mb")},
        "engine_totals": totals,
        "list_both_buckets": listing.as_dict(),
        "engine_noop_vs_listing": round(engine.seconds / listing.seconds, 2),
    }


def main() -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    env = dict(
        os.environ,
        **CREDENTIALS,
        AWS_DEFAULT_REGION="eu-west-1",
        AWS_REGION="eu-west-1",
        PYTHONPATH=str(PROJECT_ROOT),
    )
    runs = {str(objects): run(objects, env) for objects in OBJECTS}
    report: dict[str, Any] = {"objects": OBJECTS, "runs": runs}
    if len(OBJECTS) > 1:
        smallest, largest = runs[str(min(OBJECTS))], runs[str(max(OBJECTS))]
        report["engine_peak_rss_ratio"] = round(
            largest["engine_noop"]["peak_rss_mb"] / smallest["engine_noop"]["peak_rss_mb"], 2
        )
        report["engine_vm_hwm_ratio"] = round(
            largest["engine_noop"]["vm_hwm_mb"] / smallest["engine_noop"]["vm_hwm_mb"], 2
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
