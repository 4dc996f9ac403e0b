"""The streaming dump against the moto server: whole dumps land, broken ones leave nothing."""

from __future__ import annotations

import gzip
import hashlib
import sys
import uuid
from typing import Any

import pytest

from include.dr.errors import Transient
from include.dr.local_stack.seed_aws import aws_client
from include.dr.local_stack.settings import LocalSettings
from include.dr.policy.loader import load_policy
from include.dr.rds.dump import DumpFailed, stream_dump

pytestmark = pytest.mark.usefixtures("local_stack")
POLICY = load_policy()
BUCKET = POLICY.assets.rds[0].dr_bucket


@pytest.fixture
def s3(settings: LocalSettings) -> Any:
    return aws_client(settings, "s3", POLICY.regions.dr)


@pytest.fixture
def dr_key(settings: LocalSettings) -> str:
    kms = aws_client(settings, "kms", POLICY.regions.dr)
    return str(kms.describe_key(KeyId=POLICY.kms_key(POLICY.regions.dr))["KeyMetadata"]["Arn"])


def fake_dump(script: str) -> list[str]:
    return [sys.executable, "-c", script]


def dump(
    s3: Any, dr_key: str, command: list[str], part_size: int = 5 * 1024 * 1024, **more: Any
) -> tuple[str, Any]:
    key = f"tests/{uuid.uuid4().hex}.sql.gz"
    run = lambda: stream_dump(  # noqa: E731
        s3,
        connection={},
        database="customers",
        bucket=BUCKET,
        key=key,
        kms_key_arn=dr_key,
        tags="managed-by=policy-backup",
        part_size=part_size,
        command=command,
        **more,
    )
    return key, run


def no_trace(s3: Any, key: str) -> bool:
    objects = s3.list_objects_v2(Bucket=BUCKET, Prefix=key).get("KeyCount", 0)
    uploads = [
        u for u in s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) if u["Key"] == key
    ]
    return objects == 0 and not uploads


def test_a_large_dump_streams_in_parts_and_reads_back(s3: Any, dr_key: str) -> None:
    script = (
        "import sys\n"
        "for i in range(200_000): sys.stdout.write(f'INSERT INTO t VALUES ({i}, \"row {i} {i*7919 % 10007}\");\\n')\n"
        "print('-- Dump completed on 2026-11-27')"
    )
    key, run = dump(s3, dr_key, fake_dump(script), part_size=5 * 1024 * 1024)
    result = run()
    stored = s3.get_object(Bucket=BUCKET, Key=key)
    body = stored["Body"].read()
    assert stored["ServerSideEncryption"] == "aws:kms" and stored["SSEKMSKeyId"] == dr_key
    assert hashlib.sha256(body).hexdigest() == result.sha256
    assert len(body) == result.bytes_compressed
    text = gzip.decompress(body)
    assert len(text) == result.bytes_raw and text.rstrip().endswith(
        b"-- Dump completed on 2026-11-27"
    )


def test_a_dump_that_fails_halfway_leaves_no_object(s3: Any, dr_key: str) -> None:
    script = "import os, sys\nsys.stdout.buffer.write(os.urandom(7_000_000))\nsys.stdout.flush()\nsys.exit(2)"
    key, run = dump(s3, dr_key, fake_dump(script))
    with pytest.raises(DumpFailed, match="exited with status 2") as failed:
        run()
    assert no_trace(s3, key)
    assert isinstance(failed.value, Transient)  # the server may come back: retried


def test_a_cut_dump_is_refused_even_with_a_clean_exit(s3: Any, dr_key: str) -> None:
    key, run = dump(s3, dr_key, fake_dump("print('CREATE TABLE t (id INT);')"))
    with pytest.raises(DumpFailed, match="Dump completed"):
        run()
    assert no_trace(s3, key)


def test_the_dump_logs_tables_begun_of_the_total_and_compressed_bytes_uploaded(
    s3: Any, dr_key: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from include.dr.progress import Progress, human_bytes
    from tests.progress_lines import done_of, progress_lines

    script = (
        "import sys\n"
        "for t in range(3):\n"
        "    print(f'--\\n-- Table structure for table `t{t}`\\n--')\n"
        "    for i in range(60_000): print(f'INSERT INTO t{t} VALUES ({i}, {i*7919 % 10007});')\n"
        "print('-- Dump completed on 2026-11-27')"
    )
    with progress_lines(caplog, monkeypatch) as lines:
        progress = Progress("dumping customers", total=3, unit="tables")  # the interval now 0
        _, run = dump(s3, dr_key, fake_dump(script), progress=progress)
        result = run()
    assert done_of(lines[-1]) == (3, 3, "tables") and " done: " in lines[-1]
    # the bytes are the compressed stream's, counted as each part's upload finished
    assert f"(100.0%), {human_bytes(result.bytes_compressed)} in " in lines[-1]
