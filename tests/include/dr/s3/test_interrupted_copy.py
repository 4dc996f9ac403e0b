"""A copy cut off partway (the DR endpoint goes away) is finished by the next run.

The DR side is reached through a real TCP proxy in front of the moto server. The proxy
paces the requests, so the first run's 150 copies take seconds instead of a fraction of
one, and the fault (the proxy cut, or moto paused) always lands while copies are still
in flight: each test checks that the first run really was interrupted.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import uuid
from typing import Any

import boto3
import pytest
from botocore.config import Config

from include.dr.local_stack.seed_aws import aws_client, open_to_dr
from include.dr.local_stack.settings import LocalSettings
from include.dr.s3.engine import CopyTarget, back_up_partition
from include.dr.s3.listing import folders
from include.dr.s3.partitions import split

pytestmark = pytest.mark.usefixtures("local_stack")


class CuttableProxy:
    """Forwards loopback TCP connections to ``port`` until :meth:`cut`, holding each
    chunk sent upstream for ``pace`` seconds (so each request takes at least that)."""

    def __init__(self, port: int, pace: float = 0.2) -> None:
        self.target = port
        self.pace = pace
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.open = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while self.open:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            self.sockets += [client, upstream]
            for a, b, pace in ((client, upstream, self.pace), (upstream, client, 0.0)):
                threading.Thread(target=self._pump, args=(a, b, pace), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket, pace: float) -> None:
        try:
            while data := source.recv(65536):
                time.sleep(pace)
                sink.sendall(data)
        except OSError:
            pass

    def cut(self) -> None:
        self.open = False
        self.server.close()
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


def seeded_buckets(settings: LocalSettings, tag: str) -> tuple[Any, Any, CopyTarget, list[str]]:
    """A fresh source bucket of 150 small objects, an empty versioned DR bucket, the target."""
    src, dst = aws_client(settings, "s3", "eu-west-2"), aws_client(settings, "s3", "eu-west-1")
    name = f"{tag}-{uuid.uuid4().hex[:8]}"
    src.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    open_to_dr(settings, name)
    dst.create_bucket(
        Bucket=f"{name}-dr", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    dst.put_bucket_versioning(Bucket=f"{name}-dr", VersioningConfiguration={"Status": "Enabled"})
    keys = [f"{'xyz'[i % 3]}/object-{i:04d}" for i in range(150)]
    for key in keys:
        src.put_object(Bucket=name, Key=key, Body=key.encode())
    kms = aws_client(settings, "kms", "eu-west-1")
    arn = kms.describe_key(KeyId="alias/swl-backup-dr")["KeyMetadata"]["Arn"]
    return src, dst, CopyTarget(name, f"{name}-dr", arn, threads=16), keys


def impatient_client(settings: LocalSettings, endpoint: str, read_timeout: int) -> Any:
    """A DR-side S3 client (the DR writer's keys) that gives up fast: one attempt, short
    timeouts."""
    conn = settings.connection("aws_dr")
    return boto3.client(
        "s3",
        region_name="eu-west-1",
        endpoint_url=endpoint,
        aws_access_key_id=conn["login"],
        aws_secret_access_key=conn["password"],
        config=Config(retries={"max_attempts": 1}, connect_timeout=1, read_timeout=read_timeout),
    )


def dr_versions(dst: Any, bucket: str) -> dict[str, list[str]]:
    """Every version id of every backed-up key in the DR bucket (manifests left out)."""
    found: dict[str, list[str]] = {}
    for page in dst.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for version in page.get("Versions", []):
            if not version["Key"].startswith(".backup/"):
                found.setdefault(version["Key"], []).append(version["VersionId"])
    return found


def copied_by(before: dict[str, list[str]], after: dict[str, list[str]]) -> dict[str, int]:
    """Key -> how many versions a run added, for the keys it wrote."""
    return {
        key: len(ids) - len(before.get(key, []))
        for key, ids in after.items()
        if len(ids) > len(before.get(key, []))
    }


def first_run_in_flight(
    src: Any, dr_client: Any, dst: Any, target: CopyTarget, manifest: str
) -> tuple[threading.Thread, Any, dict[str, Any]]:
    """The first run, started in a thread and returned once 20 copies have landed: the
    worker, the partition and where the run's result (or exception) will be. Fails if
    that does not happen within a minute (the run ended or stalled first)."""
    [part] = split("", folders(src, target.source_bucket, ""), 1)
    outcome: dict[str, Any] = {}

    def first_run() -> None:
        try:
            outcome["result"] = back_up_partition(src, dr_client, target, part, manifest)
        except Exception as exc:  # noqa: BLE001 - the fault may surface as an exception
            outcome["error"] = exc

    worker = threading.Thread(target=first_run)
    worker.start()
    deadline = time.monotonic() + 60
    landed = 0
    while (landed := dst.list_objects_v2(Bucket=target.dr_bucket).get("KeyCount", 0)) < 20:
        if not worker.is_alive() or time.monotonic() > deadline:
            raise AssertionError(
                f"the first run was to be interrupted with copies in flight, but only {landed} "
                f"of its copies landed in 60 s (run {'ended' if not worker.is_alive() else 'stalled'}:"
                f" {outcome})"
            )
        time.sleep(0.05)
    return worker, part, outcome


def test_a_cut_off_copy_is_completed_by_the_rerun_without_duplicates(
    settings: LocalSettings,
) -> None:
    src, dst, target, keys = seeded_buckets(settings, "cut")
    proxy = CuttableProxy(settings.moto_port)
    flaky_dst = impatient_client(settings, f"http://127.0.0.1:{proxy.port}", read_timeout=5)
    worker, part, outcome = first_run_in_flight(
        src, flaky_dst, dst, target, ".backup/manifests/cut/1.jsonl.gz"
    )
    proxy.cut()
    worker.join(timeout=300)
    assert not worker.is_alive()
    before = dr_versions(dst, target.dr_bucket)
    # It really was cut off partway: objects are missing and the run did not succeed.
    assert 20 <= len(before) < len(keys), f"{len(before)} of {len(keys)} copied before the cut"
    assert "error" in outcome or outcome["result"].failures, outcome

    rerun = back_up_partition(src, dst, target, part, ".backup/manifests/cut/2.jsonl.gz")
    assert rerun.failures == []
    # The re-run copies exactly what the cut-off run did not, once each: no object is redone.
    after = dr_versions(dst, target.dr_bucket)
    assert copied_by(before, after) == {key: 1 for key in keys if key not in before}
    assert rerun.copied == len(keys) - len(before)
    assert sorted(after) == sorted(keys)
    for key in keys[::10]:  # and every copy holds the right bytes
        assert dst.get_object(Bucket=target.dr_bucket, Key=key)["Body"].read() == key.encode()


def test_a_moto_server_paused_mid_copy_loses_nothing_and_the_rerun_completes(
    settings: LocalSettings, local_stack: Any
) -> None:
    """The server itself stops (SIGSTOP) with copies in flight, keeping its state, and comes
    back (SIGCONT): requests time out, are retried, and are reported once the retries are
    spent; the re-run finishes."""
    import os
    import signal

    from include.dr.local_stack.moto_server import moto_process

    src, dst, target, keys = seeded_buckets(settings, "pause")
    paced = CuttableProxy(settings.moto_port)  # never cut: it only keeps copies in flight
    impatient = impatient_client(settings, f"http://127.0.0.1:{paced.port}", read_timeout=1)
    pid = moto_process(local_stack, settings.moto_port).pid()
    assert pid is not None
    worker, part, outcome = first_run_in_flight(
        src, impatient, dst, target, ".backup/manifests/pause/1.jsonl.gz"
    )
    landed_before_pause = dst.list_objects_v2(Bucket=target.dr_bucket)["KeyCount"]
    os.kill(pid, signal.SIGSTOP)
    try:
        # Longer than a copy's whole retry budget (3 tries, 1 s timeouts, 1.4 s of backoff),
        # so the copies held by the pause are reported as failures, not quietly retried.
        time.sleep(8)
    finally:
        os.kill(pid, signal.SIGCONT)
    worker.join(timeout=300)
    assert not worker.is_alive()
    # The pause came mid-copy, and the requests it held timed out: the first run reports them.
    assert landed_before_pause < len(keys)
    assert "error" in outcome or outcome["result"].failures, outcome

    before = dr_versions(dst, target.dr_bucket)
    rerun = back_up_partition(src, dst, target, part, ".backup/manifests/pause/2.jsonl.gz")
    assert rerun.failures == []
    # The re-run copies only what is missing, once each (a held request that moto carried
    # out after it resumed already counts as copied).
    after = dr_versions(dst, target.dr_bucket)
    assert copied_by(before, after) == {key: 1 for key in keys if key not in before}
    assert sorted(after) == sorted(keys)
    for key in keys:
        assert dst.get_object(Bucket=target.dr_bucket, Key=key)["Body"].read() == key.encode()
    settled = back_up_partition(src, dst, target, part, ".backup/manifests/pause/3.jsonl.gz")
    assert (settled.copied, settled.unchanged) == (0, len(keys))
