"""Every SSE-KMS write the product makes asks for an S3 Bucket Key, which cuts the KMS
requests per object (moto ignores Bucket Keys, so the requests themselves are checked)."""

from __future__ import annotations

import ast
from pathlib import Path

from include.dr.project import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "include" / "dr"
# The S3 calls that take BucketKeyEnabled. upload_file (s3transfer) does not accept it
# among its ExtraArgs; the git bundle it uploads is covered by the DR bucket's default.
WRITES = {"put_object", "copy_object", "create_multipart_upload"}


def sse_kms_writes_without_a_bucket_key(path: Path, root: Path = PACKAGE) -> list[str]:
    missing = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in WRITES:
            continue
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        sse = keywords.get("ServerSideEncryption")
        if isinstance(sse, ast.Constant) and sse.value == "aws:kms":
            bucket_key = keywords.get("BucketKeyEnabled")
            if not (isinstance(bucket_key, ast.Constant) and bucket_key.value is True):
                missing.append(f"{path.relative_to(root)}:{node.lineno} {node.func.attr}")
    return missing


def test_every_sse_kms_write_asks_for_a_bucket_key() -> None:
    paths = [p for p in sorted(PACKAGE.rglob("*.py")) if "local_stack" not in p.parts]
    missing = [m for path in paths for m in sse_kms_writes_without_a_bucket_key(path)]
    assert missing == []


def test_the_check_sees_a_write_without_one(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('s3.put_object(Bucket="b", Key="k", ServerSideEncryption="aws:kms")\n')
    assert sse_kms_writes_without_a_bucket_key(sample, tmp_path) == ["sample.py:1 put_object"]
