"""Benchmark: the S3 copy engine against aws s3 sync, s5cmd and a 16-thread boto3 script.

All four copy the same source bucket into their own versioned DR bucket on the
same local moto server, in one run, for three scenarios: the full copy, a no-op
re-run, and a re-run after 1% of the objects changed. The engine is called as
the DAG's copy task calls it (``back_up_partition`` over the bucket's
partitions) but without the scheduler. Each step runs in its own process, so
wall time, client CPU and peak memory are that tool's alone. The re-runs are
repeated ``BENCH_ROUNDS`` times (3), every tool in each round, a different 1%
changed each round; the median round of each is reported (single runs on a
shared 2-core machine vary by several per cent). The no-op re-run is also
compared with simply listing both buckets.

Run with the local stack up: ``make bench-s3`` (``BENCH_OBJECTS`` sets the count).
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.measure import Measurement, measure_command
from include.dr.local_stack.seed_aws import aws_client, open_to_dr
from include.dr.local_stack.settings import load_settings
from include.dr.policy.loader import load_policy
from include.dr.project import PROJECT_ROOT

OBJECTS = int(os.environ.get("BENCH_OBJECTS", "10000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))  # of each re-run scenario; medians reported
RESULTS = PROJECT_ROOT / "bench" / "results" / "s3_copy.json"
BIN = Path(sys.executable).parent

# The steps' S3 clients, made as include.dr.local_stack.seed_aws.aws_client makes them
# (the DR region's with the DR account's keys), without importing the policy model and
# the rest of the local stack, which cost each Python step about 0.15 s.
CLIENTS = """
import boto3
from include.dr.local_stack.settings import load_settings
settings = load_settings()
def aws_client(settings, service, region):
    dr_region = settings.connection("aws_dr")["extra"]["region_name"]
    conn = settings.connection("aws_dr" if region == dr_region else "aws_default")
    return boto3.client(service, region_name=region, endpoint_url=conn["extra"]["endpoint_url"],
                        aws_access_key_id=conn["login"], aws_secret_access_key=conn["password"])
"""

# The engine's copy of one bucket, given ``src``/``dst`` clients and ``source, dr, key,
# tag``; each benchmark puts its own clients in front (bench/s3_cost.py through its proxy).
ENGINE_COPY = """
import os
from concurrent.futures import ThreadPoolExecutor
from include.dr.s3.engine import CopyTarget, back_up_partition
from include.dr.s3.listing import folders
from include.dr.s3.partitions import split
target = CopyTarget(source, dr, key, threads=int(os.environ.get("BENCH_THREADS", "32")))
found = folders(src, source, "") | folders(dst, dr, "")
def copy(numbered):
    index, part = numbered
    manifest = f".backup/manifests/bench/{tag}/part-{index}.jsonl.gz"
    result = back_up_partition(src, dst, target, part, manifest)
    assert not result.failures, result.failures[:3]
# Four partitions at a time, as the DAG runs its copy tasks (PARALLEL_PARTITIONS).
with ThreadPoolExecutor(int(os.environ.get("BENCH_PARTITIONS", "4"))) as pool:
    list(pool.map(copy, enumerate(split("", found, 8))))
"""

ENGINE = (
    CLIENTS
    + """
import sys
source, dr, key, tag = sys.argv[1:5]
src, dst = aws_client(settings, "s3", "eu-west-2"), aws_client(settings, "s3", "eu-west-1")
"""
    + ENGINE_COPY
)

BOTO3 = (
    CLIENTS
    + """
import sys
from concurrent.futures import ThreadPoolExecutor
source, dr, key = sys.argv[1:4]
src, dst = aws_client(settings, "s3", "eu-west-2"), aws_client(settings, "s3", "eu-west-1")
def listing(client, bucket):
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {o["Key"]: o for p in pages for o in p.get("Contents", [])}
have, want = listing(dst, dr), listing(src, source)
def stale(k, o):
    mine = have.get(k)
    return mine is None or mine["Size"] != o["Size"] or o["LastModified"] > mine["LastModified"]
todo = [k for k, o in want.items() if stale(k, o)]
def copy(k):
    dst.copy_object(Bucket=dr, Key=k, CopySource={"Bucket": source, "Key": k},
                    ServerSideEncryption="aws:kms", SSEKMSKeyId=key)
with ThreadPoolExecutor(16) as pool:
    list(pool.map(copy, todo))
"""
)

LIST_BOTH = (
    CLIENTS
    + """
import sys
for region, bucket in (("eu-west-2", sys.argv[1]), ("eu-west-1", sys.argv[2])):
    client = aws_client(settings, "s3", region)
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        pass
"""
)


def commands(tool: str, source: str, dr: str, key: str, tag: str, endpoint: str) -> list[str]:
    if tool == "engine":
        return [sys.executable, "-c", ENGINE, source, dr, key, tag]
    if tool == "boto3-16":
        return [sys.executable, "-c", BOTO3, source, dr, key]
    if tool == "aws-s3-sync":
        return [
            str(BIN / "aws"),
            "s3",
            "sync",
            f"s3://{source}",
            f"s3://{dr}",
            "--endpoint-url",
            endpoint,
            "--region",
            "eu-west-1",
            "--sse",
            "aws:kms",
            "--sse-kms-key-id",
            key,
            "--only-show-errors",
        ]
    return [
        str(BIN / "s5cmd"),
        "--endpoint-url",
        endpoint,
        "sync",
        "--sse",
        "aws:kms",
        "--sse-kms-key-id",
        key,
        f"s3://{source}/*",
        f"s3://{dr}/",
    ]


def median(steps: list[Measurement]) -> Measurement:
    """The step of median wall time (the lower middle of an even count)."""
    return sorted(steps, key=lambda step: step.seconds)[(len(steps) - 1) // 2]


def vs_fastest_peer(results: dict[str, dict[str, Any]], scenario: str) -> dict[str, Any]:
    """The engine's time in ``scenario`` over the fastest other tool's, and which that was."""
    peers = {
        tool: steps[scenario]["seconds"] for tool, steps in results.items() if tool != "engine"
    }
    fastest = min(peers, key=peers.__getitem__)
    return {
        "ratio": round(results["engine"][scenario]["seconds"] / peers[fastest], 2),
        "fastest_peer": fastest,
    }


def main() -> None:
    load_at_start = list(os.getloadavg())  # other work on the machine slows every tool
    settings = load_settings()
    conn = settings.connection("aws_dr")  # every tool copies as the DR side does
    endpoint = conn["extra"]["endpoint_url"]
    env = dict(
        os.environ,
        AWS_ACCESS_KEY_ID=conn["login"],
        AWS_SECRET_ACCESS_KEY=conn["password"],
        AWS_DEFAULT_REGION="eu-west-1",
        AWS_REGION="eu-west-1",
        PYTHONPATH=str(PROJECT_ROOT),
    )
    policy = load_policy()
    key = aws_client(settings, "kms", "eu-west-1").describe_key(KeyId=policy.kms_key("eu-west-1"))[
        "KeyMetadata"
    ]["Arn"]
    src, dst = aws_client(settings, "s3", "eu-west-2"), aws_client(settings, "s3", "eu-west-1")
    run = uuid.uuid4().hex[:6]
    source = f"bench-src-{run}"
    src.create_bucket(Bucket=source, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    open_to_dr(settings, source)
    keys = [f"{'abcdefghij'[i % 10]}/{i // 10 % 100:02d}/object-{i:06d}" for i in range(OBJECTS)]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda k: src.put_object(Bucket=source, Key=k, Body=os.urandom(1024)), keys))
    tools = ["engine", "aws-s3-sync", "s5cmd", "boto3-16"]
    buckets = {tool: f"bench-{tool.replace('-', '')[:10]}-{run}" for tool in tools}
    for bucket in buckets.values():
        dst.create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        dst.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    results: dict[str, dict[str, Any]] = {tool: {} for tool in tools}
    for tool in tools:
        step: Measurement = measure_command(
            commands(tool, source, buckets[tool], key, "full", endpoint), env
        )
        results[tool]["full"] = step.as_dict()
        print(tool, "full", step, flush=True)
    reruns: dict[str, dict[str, list[Measurement]]] = {
        tool: {"noop": [], "one_percent": []} for tool in tools
    }
    listings = []
    for round_ in range(ROUNDS):  # each round runs every tool, so drift slows them alike
        for tool in tools:
            step = measure_command(
                commands(tool, source, buckets[tool], key, f"noop-{round_}", endpoint), env
            )
            reruns[tool]["noop"].append(step)
            print(tool, "noop", round_, step, flush=True)
        listings.append(
            measure_command([sys.executable, "-c", LIST_BOTH, source, buckets["engine"]], env)
        )
        changed = keys[round_ % 100 :: 100]  # a different 1% each round
        with ThreadPoolExecutor(16) as pool:
            list(
                pool.map(
                    lambda k: src.put_object(Bucket=source, Key=k, Body=os.urandom(1024)), changed
                )
            )
        for tool in tools:
            step = measure_command(
                commands(tool, source, buckets[tool], key, f"changed-{round_}", endpoint), env
            )
            reruns[tool]["one_percent"].append(step)
            print(tool, "one_percent", round_, step, flush=True)
    for tool, scenarios in reruns.items():
        for scenario, steps in scenarios.items():
            results[tool][scenario] = median(steps).as_dict() | {
                "rounds_seconds": [step.seconds for step in steps]
            }
    listing = median(listings)
    report = {
        "objects": OBJECTS,
        "threads": int(os.environ.get("BENCH_THREADS", "32")),
        "rounds": ROUNDS,
        "load_average_at_start": load_at_start,
        "load_average_at_end": list(os.getloadavg()),
        "results": results,
        "list_both_buckets": listing.as_dict(),
        **{
            f"engine_{scenario}_vs_fastest_peer": vs_fastest_peer(results, scenario)
            for scenario in ("full", "noop", "one_percent")
        },
        "engine_noop_vs_listing": round(results["engine"]["noop"]["seconds"] / listing.seconds, 2),
        "engine_cpu_per_object_ms": round(
            1000 * results["engine"]["full"]["cpu_seconds"] / OBJECTS, 3
        ),
        "aws_cpu_per_object_ms": round(
            1000 * results["aws-s3-sync"]["full"]["cpu_seconds"] / OBJECTS, 3
        ),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
