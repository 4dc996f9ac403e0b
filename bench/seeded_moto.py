"""A moto S3 server whose buckets are seeded in-process, for the listing benchmarks.

Putting 100,000 objects through moto's HTTP interface takes about ten minutes, so
this script starts its own ``ThreadedMotoServer`` and seeds the buckets through
moto's in-process S3 backend (the same backend the server answers from): a
versioned source bucket in eu-west-2 and a versioned DR bucket in eu-west-1,
each with the same N objects of 1 KiB under the key layout of
``bench/s3_copy.py``. The DR objects are put after the source ones, so a
size-and-LastModified diff sees every object as unchanged (a no-op re-run).

Usage: ``python bench/seeded_moto.py [--port 4610] [--objects 10000]``. Prints
``seeded {...}`` (a JSON object with the seeding time), then ``ready``, and
serves until killed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import sys
import threading
import time

SOURCE_BUCKET = "bench-memory-src"
DR_BUCKET = "bench-memory-dr"
SOURCE_REGION = "eu-west-2"
DR_REGION = "eu-west-1"
OBJECT_SIZE = 1024


def object_key(index: int) -> str:
    return f"{'abcdefghij'[index % 10]}/{index // 10 % 100:02d}/object-{index:06d}"


def seed(objects: int) -> float:
    """Create and fill both buckets through moto's backend; returns the seconds it took."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    started = time.perf_counter()
    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    for bucket, region in ((SOURCE_BUCKET, SOURCE_REGION), (DR_BUCKET, DR_REGION)):
        backend.create_bucket(bucket, region)
        backend.put_bucket_versioning(bucket, "Enabled")
    body = os.urandom(OBJECT_SIZE)  # listing-only scenarios: the bytes are never read
    for bucket in (SOURCE_BUCKET, DR_BUCKET):  # the DR copies are newer than their sources
        for index in range(objects):
            backend.put_object(bucket, object_key(index), body, disable_notification=True)
    return time.perf_counter() - started


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the server binds: a previous run's connections in TIME_WAIT do not count.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=4610)
    parser.add_argument("--objects", type=int, default=10_000)
    args = parser.parse_args(argv)
    if not port_is_free(args.port):
        sys.exit(f"port {args.port} is in use; pass a free one with --port")

    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=args.port, verbose=False)
    server.start()
    seconds = seed(args.objects)
    report = {
        "objects": args.objects,
        "seconds": round(seconds, 2),
        "endpoint": f"http://127.0.0.1:{args.port}",
        "source_bucket": SOURCE_BUCKET,
        "dr_bucket": DR_BUCKET,
    }
    print("seeded", json.dumps(report), flush=True)
    print("ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    server.stop()
    # Tearing down 2N moto objects at interpreter exit takes seconds: nothing needs it.
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
