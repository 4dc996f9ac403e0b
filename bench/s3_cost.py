"""Benchmark: what a backup run costs in API requests, the engine against aws s3 sync and s5cmd.

Every tool talks to the local stack's moto server through a counting reverse proxy
(:class:`CountingProxy`), which names each request's S3 operation from its method,
query and headers (:func:`operation`) and counts it under the step being measured.
Each tool copies the same source bucket (SSE-KMS with a Bucket Key, as production's
buckets are made) into its own versioned DR bucket, three times: the full copy, a
no-op re-run, and a re-run after 1% of the objects changed.

KMS is not called over HTTP here: on AWS, S3 calls KMS itself. The calls are derived
from the requests each tool sends (:func:`kms_calls`): an object written with SSE-KMS
costs one ``GenerateDataKey`` unless an S3 Bucket Key covers it (the request asks for
one, or, with ``dr_default_bucket_key``, the DR bucket's default encryption has one
and the request does not say otherwise); an object read or copied from costs one
``Decrypt`` unless it was written under a Bucket Key. A Bucket Key costs a few KMS
calls per bucket for a while, not per object: counted as none.

The monthly estimate (:func:`monthly_cost`) uses the list prices in :data:`PRICES`.

Run with the local stack up: ``make bench-s3-cost`` (``BENCH_COST_OBJECTS`` sets the
count, 10,000 by default). Writes ``bench/results/s3_cost.json``.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import sys
import threading
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.s3_copy import ENGINE_COPY

OBJECTS = int(os.environ.get("BENCH_COST_OBJECTS", "10000"))
OBJECT_SIZE = 1024
RESULTS = Path(__file__).resolve().parent / "results" / "s3_cost.json"
PAGE_KEYS = 1000  # the most keys a ListObjectsV2 page holds
TOOLS = ("engine", "aws-s3-sync", "s5cmd")
# The engine's run manifests stay while Object Lock holds them (the policy's 7 days) and
# the day's run: about eight a bucket at any time.
MANIFEST_DAYS = 8
SCENARIOS = ("full", "noop", "one_percent")

# List prices at the time of writing (eu-west-1 / eu-west-2, USD), as used for the estimate.
PRICES = {
    "tier1_per_1000": 0.005,  # PUT, COPY, POST, LIST
    "tier2_per_1000": 0.0004,  # GET, HEAD and every other request
    "kms_per_10000": 0.03,
    "transfer_per_gb": 0.02,  # between regions (eu-west-2 -> eu-west-1)
    "storage_per_gb_month": 0.023,  # S3 Standard
}
TIER1 = frozenset(
    {
        "PutObject",
        "CopyObject",
        "UploadPart",
        "UploadPartCopy",
        "CreateMultipartUpload",
        "CompleteMultipartUpload",
        "PutObjectTagging",
        "ListObjectsV2",
        "ListObjects",
        "ListObjectVersions",
        "ListMultipartUploads",
        "ListParts",
        "ListBuckets",
        "CreateBucket",
    }
)
FREE = frozenset({"DeleteObject", "DeleteObjects", "AbortMultipartUpload", "DeleteBucket"})
WRITES = frozenset({"PutObject", "CopyObject", "CreateMultipartUpload"})  # each makes an object
COPIES = frozenset({"CopyObject", "UploadPartCopy"})  # each reads its source's bytes
# GET subresources of a bucket, as S3's operation names.
BUCKET_GETS = {
    "location": "GetBucketLocation",
    "versioning": "GetBucketVersioning",
    "encryption": "GetBucketEncryption",
    "lifecycle": "GetBucketLifecycleConfiguration",
    "policy": "GetBucketPolicy",
    "tagging": "GetBucketTagging",
    "object-lock": "GetObjectLockConfiguration",
    "acl": "GetBucketAcl",
    "ownershipControls": "GetBucketOwnershipControls",
    "publicAccessBlock": "GetPublicAccessBlock",
    "uploads": "ListMultipartUploads",
    "versions": "ListObjectVersions",
}
OBJECT_GETS = {
    "tagging": "GetObjectTagging",
    "acl": "GetObjectAcl",
    "retention": "GetObjectRetention",
    "legal-hold": "GetObjectLegalHold",
    "attributes": "GetObjectAttributes",
    "uploadId": "ListParts",
}


def operation(method: str, target: str, headers: Mapping[str, str]) -> str:
    """S3's name for a path-style request (``target`` is its path and query)."""
    lowered = {name.lower(): value for name, value in headers.items()}
    if "x-amz-target" in lowered:  # a JSON API (KMS, STS, ...): its target names it
        return lowered["x-amz-target"].rsplit(".", 1)[-1]
    url = urllib.parse.urlsplit(target)
    query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
    parts = urllib.parse.unquote(url.path).lstrip("/").split("/", 1)
    if not parts[0]:
        return "ListBuckets"
    if len(parts) == 1 or not parts[1]:
        return _bucket_operation(method, query)
    return _object_operation(method, query, "x-amz-copy-source" in lowered)


def _bucket_operation(method: str, query: Mapping[str, Any]) -> str:
    sub = next((name for name in BUCKET_GETS if name in query), None)
    if method == "GET":
        if query.get("list-type") == ["2"]:
            return "ListObjectsV2"
        return BUCKET_GETS[sub] if sub else "ListObjects"
    if method == "HEAD":
        return "HeadBucket"
    if method == "POST" and "delete" in query:
        return "DeleteObjects"
    named = BUCKET_GETS.get(sub or "", "Bucket").removeprefix("Get")
    if method == "PUT":
        return f"Put{named}" if sub else "CreateBucket"
    if method == "DELETE":
        return f"Delete{named}" if sub else "DeleteBucket"
    return f"{method} bucket"


def _object_operation(method: str, query: Mapping[str, Any], copy: bool) -> str:
    if method == "GET":
        sub = next((name for name in OBJECT_GETS if name in query), None)
        return OBJECT_GETS[sub] if sub else "GetObject"
    if method == "HEAD":
        return "HeadObject"
    if method == "PUT":
        if "tagging" in query:
            return "PutObjectTagging"
        if "partNumber" in query and "uploadId" in query:
            return "UploadPartCopy" if copy else "UploadPart"
        return "CopyObject" if copy else "PutObject"
    if method == "POST":
        if "uploads" in query:
            return "CreateMultipartUpload"
        if "uploadId" in query:
            return "CompleteMultipartUpload"
        return "RestoreObject" if "restore" in query else "PostObject"
    if method == "DELETE":
        return "AbortMultipartUpload" if "uploadId" in query else "DeleteObject"
    return f"{method} object"


def price_class(name: str) -> str:
    """``tier1`` (PUT, COPY, POST, LIST), ``free`` (DELETE, abort) or ``tier2`` (the rest)."""
    if name in TIER1 or name.startswith(("Put", "Create")):
        return "tier1"
    return "free" if name in FREE else "tier2"


def asks_bucket_key(headers: Mapping[str, str]) -> bool | None:
    """Whether an object-writing request asks for an S3 Bucket Key: True or False where it
    says, None where it does not (the bucket's default then decides)."""
    lowered = {name.lower(): value.lower() for name, value in headers.items()}
    said = lowered.get("x-amz-server-side-encryption-bucket-key-enabled")
    return None if said is None else said == "true"


@dataclass
class StepCount:
    """One tool's requests in one step, with what KMS needs to know about its writes."""

    operations: Counter[str] = field(default_factory=Counter)
    writes_with_bucket_key: int = 0  # the request asked for one
    writes_without_bucket_key: int = 0  # the request said no
    writes_unsaid: int = 0  # the bucket's default encryption decides

    def add(self, name: str, bucket_key: bool | None) -> None:
        self.operations[name] += 1
        if name in WRITES:
            if bucket_key is None:
                self.writes_unsaid += 1
            elif bucket_key:
                self.writes_with_bucket_key += 1
            else:
                self.writes_without_bucket_key += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "operations": dict(sorted(self.operations.items())),
            "writes_with_bucket_key": self.writes_with_bucket_key,
            "writes_without_bucket_key": self.writes_without_bucket_key,
            "writes_unsaid": self.writes_unsaid,
        }


def kms_calls(
    step: Mapping[str, Any], dr_default_bucket_key: bool, source_bucket_key: bool
) -> dict[str, int]:
    """The KMS requests S3 makes on AWS for a step's requests (rule: module docstring)."""
    generate = step["writes_without_bucket_key"]
    if not dr_default_bucket_key:
        generate += step["writes_unsaid"]
    copies = sum(step["operations"].get(name, 0) for name in COPIES)
    reads = step["operations"].get("GetObject", 0)
    decrypt = 0 if source_bucket_key else copies + reads
    return {"GenerateDataKey": generate, "Decrypt": decrypt}


def request_cost(operations: Mapping[str, float], prices: Mapping[str, float] = PRICES) -> float:
    """USD for these requests at S3's request prices."""
    tiers: dict[str, float] = {"tier1": 0.0, "tier2": 0.0, "free": 0.0}
    for name, count in operations.items():
        tiers[price_class(name)] += count
    return (
        tiers["tier1"] * prices["tier1_per_1000"] / 1000
        + tiers["tier2"] * prices["tier2_per_1000"] / 1000
    )


@dataclass(frozen=True)
class Estate:
    """A bucket (or estate) to estimate: its size, and how much of it changes a day."""

    name: str
    objects: int
    gigabytes: float
    daily_change: float  # fraction of the objects overwritten each day
    runs_per_month: int = 30
    noncurrent_days: int = 30  # how long the DR bucket keeps overwritten versions


def monthly_cost(
    estate: Estate,
    per_copy: Mapping[str, float],
    per_listed: Mapping[str, float],
    per_run: Mapping[str, float],
    kms_per_copy: float,
    manifest_bytes_per_object: float = 0.0,
    manifest_days: int = 0,
    prices: Mapping[str, float] = PRICES,
) -> dict[str, float]:
    """USD a month for daily runs over ``estate``.

    Each run lists every object (``per_listed``: listing requests per object listed),
    makes its fixed requests (``per_run``: folders, manifests) and copies what changed
    (``per_copy``: requests per copied object; ``kms_per_copy``: KMS requests per copied
    object; the bytes cross regions). The DR bucket keeps the current copies, each
    overwritten version for ``noncurrent_days`` and each run's manifest for
    ``manifest_days``."""
    runs = estate.runs_per_month
    copied = estate.objects * estate.daily_change * runs
    listing = {name: n * estate.objects * runs for name, n in per_listed.items()}
    listing.update({name: listing.get(name, 0) + n * runs for name, n in per_run.items()})
    copying = {name: n * copied for name, n in per_copy.items()}
    gb_per_object = estate.gigabytes / estate.objects if estate.objects else 0.0
    manifest_gb = manifest_bytes_per_object * estate.objects / 1e9
    stored_gb = (
        estate.gigabytes
        + estate.gigabytes * estate.daily_change * estate.noncurrent_days
        + manifest_gb * manifest_days
    )
    cost = {
        "requests_listing": request_cost(listing, prices),
        "requests_copying": request_cost(copying, prices),
        "kms": kms_per_copy * copied * prices["kms_per_10000"] / 10_000,
        "transfer": copied * gb_per_object * prices["transfer_per_gb"],
        "storage": stored_gb * prices["storage_per_gb_month"],
    }
    cost["total"] = sum(cost.values())
    return {name: round(value, 4) for name, value in cost.items()}


def split_noop(
    operations: Mapping[str, int], objects: int
) -> tuple[dict[str, float], dict[str, int]]:
    """A no-op run's requests as (per object listed, per run). Listing both buckets takes
    a page of at most 1,000 keys per bucket, which grows with the objects; whatever a
    tool lists beyond those pages (folders, the scope's own objects) and every other
    request (the engine's manifests) is paid once a run."""
    pages = 2 * math.ceil(objects / PAGE_KEYS) if objects else 0
    listed = operations.get("ListObjectsV2", 0)
    per_listed = {"ListObjectsV2": min(listed, pages) / objects} if objects and listed else {}
    per_run = {name: n for name, n in operations.items() if name != "ListObjectsV2"}
    if listed > pages:
        per_run["ListObjectsV2"] = listed - pages
    return per_listed, per_run


class CountingProxy:
    """A threaded HTTP reverse proxy to ``upstream`` (host:port) that counts each request's
    S3 operation under :attr:`label`. Requests are forwarded byte for byte, the Host
    header included, so their signatures still hold."""

    HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "proxy-connection"})

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.label = "unlabelled"
        self.counts: dict[str, StepCount] = {}
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

            def forward(self) -> None:
                body = self._body()
                headers = {k: v for k, v in self.headers.items()}
                proxy.count(self.command, self.path, headers)
                status, reason, answer, payload = proxy.send(self, body, headers)
                self.send_response_only(status, reason)
                for name, value in answer:
                    if name.lower() in CountingProxy.HOP_BY_HOP:
                        continue
                    if name.lower() == "content-length" and self.command != "HEAD":
                        continue
                    self.send_header(name, value)
                if self.command != "HEAD":
                    self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            def _body(self) -> bytes:
                if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                    chunks = []
                    while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    while self.rfile.readline().strip():  # trailers
                        pass
                    return b"".join(chunks)
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = forward  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.upstreams = threading.local()
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def count(self, method: str, target: str, headers: Mapping[str, str]) -> None:
        name = operation(method, target, headers)
        bucket_key = asks_bucket_key(headers)
        with self.lock:
            self.counts.setdefault(self.label, StepCount()).add(name, bucket_key)

    def send(
        self, handler: BaseHTTPRequestHandler, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int, str, list[tuple[str, str]], bytes]:
        for attempt in range(2):  # an idle upstream connection may have been closed
            conn = getattr(self.upstreams, "conn", None)
            if conn is None:
                conn = self.upstreams.conn = http.client.HTTPConnection(self.upstream, timeout=300)
            try:
                conn.putrequest(
                    handler.command, handler.path, skip_host=True, skip_accept_encoding=True
                )
                for name, value in headers.items():
                    if name.lower() not in self.HOP_BY_HOP:
                        conn.putheader(name, value)
                if "content-length" not in {name.lower() for name in headers} and body:
                    conn.putheader("Content-Length", str(len(body)))
                conn.endheaders(body or None)
                response = conn.getresponse()
                payload = response.read()
                return response.status, response.reason, response.getheaders(), payload
            except (http.client.HTTPException, OSError):
                conn.close()
                self.upstreams.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    @contextmanager
    def counting(self, label: str) -> Iterator[None]:
        self.label = label
        try:
            yield
        finally:
            self.label = "unlabelled"

    def step(self, label: str) -> dict[str, Any]:
        return self.counts.get(label, StepCount()).as_dict()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


ENGINE = (
    """
import os
import sys
import boto3
endpoint, source, dr, key, tag = sys.argv[1:6]
def client(region, prefix):
    return boto3.client("s3", region_name=region, endpoint_url=endpoint,
                        aws_access_key_id=os.environ[prefix + "_KEY"],
                        aws_secret_access_key=os.environ[prefix + "_SECRET"])
src, dst = client("eu-west-2", "SOURCE"), client("eu-west-1", "DR")
"""
    + ENGINE_COPY
)


def _commands(tool: str, proxy: str, source: str, dr: str, key: str, tag: str) -> list[str]:
    from bench.s3_copy import commands

    if tool == "engine":
        return [sys.executable, "-c", ENGINE, proxy, source, dr, key, tag]
    return commands(tool, source, dr, key, tag, proxy)


def per_object(counts: Mapping[str, int], objects: int) -> dict[str, float]:
    return {name: round(n / objects, 4) for name, n in counts.items() if objects}


def main() -> None:
    from bench.measure import measure_command
    from include.dr.local_stack.seed_aws import aws_client, open_to_dr
    from include.dr.local_stack.settings import load_settings
    from include.dr.policy.loader import load_policy
    from include.dr.project import PROJECT_ROOT
    from include.dr.s3.guardrails import put_default_kms

    settings = load_settings()
    dr_conn, prod_conn = settings.connection("aws_dr"), settings.connection("aws_default")
    upstream = urllib.parse.urlsplit(dr_conn["extra"]["endpoint_url"]).netloc
    proxy = CountingProxy(upstream)
    env = dict(
        os.environ,
        AWS_ACCESS_KEY_ID=dr_conn["login"],
        AWS_SECRET_ACCESS_KEY=dr_conn["password"],
        AWS_DEFAULT_REGION="eu-west-1",
        AWS_REGION="eu-west-1",
        SOURCE_KEY=prod_conn["login"],
        SOURCE_SECRET=prod_conn["password"],
        DR_KEY=dr_conn["login"],
        DR_SECRET=dr_conn["password"],
        PYTHONPATH=str(PROJECT_ROOT),
    )
    policy = load_policy()
    kms = {
        region: aws_client(settings, "kms", region).describe_key(KeyId=policy.kms_key(region))[
            "KeyMetadata"
        ]["Arn"]
        for region in ("eu-west-1", "eu-west-2")
    }
    src, dst = aws_client(settings, "s3", "eu-west-2"), aws_client(settings, "s3", "eu-west-1")
    run = uuid.uuid4().hex[:6]
    source = f"cost-src-{run}"
    src.create_bucket(Bucket=source, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    put_default_kms(src, source, kms["eu-west-2"])  # as production's buckets: with a Bucket Key
    open_to_dr(settings, source)
    keys = [f"{'abcdefghij'[i % 10]}/{i // 10 % 100:02d}/object-{i:06d}" for i in range(OBJECTS)]

    def put(key: str) -> None:
        src.put_object(Bucket=source, Key=key, Body=os.urandom(OBJECT_SIZE))

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(put, keys))
    buckets = {tool: f"cost-{tool.replace('-', '')[:8]}-{run}" for tool in TOOLS}
    for bucket in buckets.values():  # as infra/dr.json makes them
        dst.create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        dst.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        put_default_kms(dst, bucket, kms["eu-west-1"])
    steps: dict[str, dict[str, Any]] = {tool: {} for tool in TOOLS}
    try:
        for scenario in SCENARIOS:
            if scenario == "one_percent":
                with ThreadPoolExecutor(16) as pool:
                    list(pool.map(put, keys[::100]))
            for tool in TOOLS:
                label = f"{tool}/{scenario}"
                with proxy.counting(label):
                    measure_command(
                        _commands(tool, proxy.url, source, buckets[tool], kms["eu-west-1"], label),
                        env,
                    )
                steps[tool][scenario] = proxy.step(label)
                print(label, json.dumps(steps[tool][scenario]), flush=True)
    finally:
        proxy.close()
    listed = dst.list_objects_v2(
        Bucket=buckets["engine"], Prefix=".backup/manifests/bench/engine/noop/"
    )
    manifest_bytes = sum(item["Size"] for item in listed.get("Contents", []))
    write_report(summarise(steps, OBJECTS, manifest_bytes, estates()))


def estates() -> list[Estate]:
    """The demo estate as the local stack seeds it (each policy bucket, its prefixes),
    assumed to change 1% a day, and a 1 TB bucket of 10 million objects."""
    from include.dr.local_stack.seed_aws import demo_objects
    from include.dr.policy.loader import load_policy

    demo = [
        body
        for bucket in load_policy().assets.s3
        for key, body in demo_objects(bucket.source)
        if not bucket.prefixes or key.startswith(tuple(bucket.prefixes))
    ]
    size = sum(map(len, demo))
    return [
        Estate(
            f"demo estate ({len(demo)} objects, {size / 1e6:.1f} MB)", len(demo), size / 1e9, 0.01
        ),
        Estate("1 TB, 10 million objects", 10_000_000, 1000.0, 0.01),
    ]


def write_report(report: dict[str, Any]) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report["summary"], indent=2))


def reprice() -> None:
    """Recompute the estimates from the counts of the last run (prices or model changed)."""
    last = json.loads(RESULTS.read_text())
    objects = last["summary"]["objects"]
    write_report(summarise(last["steps"], objects, last["manifest_bytes"], estates()))


def summarise(
    steps: Mapping[str, Mapping[str, Mapping[str, Any]]],
    objects: int,
    manifest_bytes: int,
    estates: list[Estate],
) -> dict[str, Any]:
    """Requests per copied object (the full copy's, less the no-op's listing) and per
    no-op run, KMS by the rule, and the monthly estimates, per tool."""
    summary: dict[str, Any] = {"objects": objects, "tools": {}}
    for tool, by_step in steps.items():
        full, noop = by_step["full"], by_step["noop"]
        copy_ops = Counter(full["operations"])
        copy_ops.subtract(noop["operations"])
        per_copy = per_object({k: v for k, v in copy_ops.items() if v > 0}, objects)
        per_listed, per_run = split_noop(noop["operations"], objects)
        manifest = manifest_bytes / objects if tool == "engine" else 0.0
        changed_ops = Counter(by_step["one_percent"]["operations"])
        changed_ops.subtract(noop["operations"])
        changed = len(range(0, objects, 100))
        entry: dict[str, Any] = {
            "per_copied_object": per_copy,
            "per_changed_object_in_the_one_percent_run": per_object(
                {k: v for k, v in changed_ops.items() if v > 0}, changed
            ),
            "per_noop_run": dict(noop["operations"]),
            "one_percent_run": dict(by_step["one_percent"]["operations"]),
            "kms_per_copied_object": {},
            "monthly": {},
        }
        for default_key in (True, False):
            case = "dr_default_bucket_key" if default_key else "no_default_bucket_key"
            calls = kms_calls(full, dr_default_bucket_key=default_key, source_bucket_key=True)
            without = kms_calls(full, dr_default_bucket_key=default_key, source_bucket_key=False)
            generate = calls["GenerateDataKey"] / objects
            entry["kms_per_copied_object"][case] = {
                "GenerateDataKey": round(generate, 4),
                "Decrypt (source under a Bucket Key)": round(calls["Decrypt"] / objects, 4),
                "Decrypt (source without)": round(without["Decrypt"] / objects, 4),
            }
            entry["monthly"][case] = {
                estate.name: monthly_cost(
                    estate, per_copy, per_listed, per_run, generate, manifest, MANIFEST_DAYS
                )
                for estate in estates
            }
        summary["tools"][tool] = entry
    return {"steps": steps, "summary": summary, "prices": PRICES, "manifest_bytes": manifest_bytes}


if __name__ == "__main__":
    reprice() if "--reprice" in sys.argv else main()
