"""The bundles' DR copy: written once a day, never overwritten with another bundle, and a
missing object recognised by the errors module, not by reading AWS's error codes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from include.dr.errors import Permanent
from include.dr.git.bundle import BundleRecord, sidecar_path
from include.dr.git.plans import Batch
from include.dr.git.upload import DrCopyConflict, dr_prefix, upload_bundle

KEY_ARN = "arn:aws:kms:eu-west-1:111111111111:key/dr"
BATCH: Batch = {
    "organisation": "org",
    "day": "2026-11-26",
    "dr_bucket": "dr-bucket",
    "dr_region": "eu-west-1",
    "kms_key_arn": KEY_ARN,
    "repositories": [],
}


class FakeS3:
    """Enough of S3 for one object key: head answers from what was put."""

    def __init__(self, head_error: str = "404", existing: dict[str, Any] | None = None) -> None:
        self.head_error, self.objects = head_error, dict(existing or {})
        self.calls: list[str] = []

    def head_object(self, Bucket: str, Key: str) -> dict[str, Any]:  # noqa: N803 - boto3's names
        self.calls.append(f"head {Key}")
        if Key not in self.objects:
            answer: Any = {"Error": {"Code": self.head_error}, "ResponseMetadata": {}}
            raise ClientError(answer, "HeadObject")
        return self.objects[Key]

    def upload_file(
        self,
        path: str,
        bucket: str,
        key: str,
        ExtraArgs: dict[str, Any],  # noqa: N803
        Callback: Any = None,  # noqa: N803
    ) -> None:
        self.calls.append(f"upload {key}")
        if Callback is not None:  # boto3 reports each chunk sent
            size = Path(path).stat().st_size
            Callback(size // 2)
            Callback(size - size // 2)
        self.objects[key] = {
            "ContentLength": Path(path).stat().st_size,
            "SSEKMSKeyId": ExtraArgs["SSEKMSKeyId"],
            "Metadata": ExtraArgs["Metadata"],
            "VersionId": "v1",
        }

    def put_object(self, **kwargs: Any) -> None:
        self.calls.append(f"put {kwargs['Key']}")


@pytest.fixture
def bundle(tmp_path: Path) -> tuple[Path, BundleRecord]:
    path = tmp_path / "2026-11-26.bundle.enc"
    path.write_bytes(b"sealed")
    sidecar_path(path).write_text("{}")
    record = BundleRecord(
        "org/app", "2026-11-26", path.name, 6, "abc", "def", {}, "fp", "t", True, 0
    )
    return path, record


def test_a_new_day_is_uploaded_under_the_dr_key(bundle: tuple[Path, BundleRecord]) -> None:
    s3 = FakeS3()
    copy = upload_bundle(s3, BATCH, "app", *bundle)  # type: ignore[arg-type]
    prefix = dr_prefix("org", "app", "2026-11-26")
    assert prefix == "git/org/app/2026-11-26/"
    assert copy == {
        "bucket": "dr-bucket",
        "key": f"{prefix}bundle.enc",
        "version_id": "v1",
        "uploaded": True,
    }
    assert s3.calls == [
        f"head {prefix}bundle.enc",
        f"upload {prefix}bundle.enc",
        f"head {prefix}bundle.enc",
        f"head {prefix}bundle.json",
        f"put {prefix}bundle.json",
    ]


def test_the_same_bundle_is_kept_and_another_is_never_overwritten(
    bundle: tuple[Path, BundleRecord],
) -> None:
    key = f"{dr_prefix('org', 'app', '2026-11-26')}bundle.enc"
    same = FakeS3(existing={key: {"Metadata": {"sha256": "abc"}, "VersionId": "v0"}})
    assert upload_bundle(same, BATCH, "app", *bundle)["uploaded"] is False  # type: ignore[arg-type]
    other = FakeS3(existing={key: {"Metadata": {"sha256": "zzz"}}})
    with pytest.raises(DrCopyConflict, match="already holds another bundle") as conflict:
        upload_bundle(other, BATCH, "app", *bundle)  # type: ignore[arg-type]
    assert isinstance(conflict.value, Permanent)
    assert other.calls == [f"head {key}"]  # nothing written


def test_a_head_refused_for_another_reason_is_not_taken_for_a_missing_object(
    bundle: tuple[Path, BundleRecord],
) -> None:
    s3 = FakeS3(head_error="AccessDenied")
    with pytest.raises(ClientError, match="AccessDenied"):
        upload_bundle(s3, BATCH, "app", *bundle)  # type: ignore[arg-type]
    assert not any(call.startswith("upload") for call in s3.calls)


def test_an_upload_logs_its_bytes_of_the_bundle_s_size(
    bundle: tuple[Path, BundleRecord],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from include.dr.progress import human_bytes
    from tests.progress_lines import progress_lines

    with progress_lines(caplog, monkeypatch) as lines:
        upload_bundle(FakeS3(), BATCH, "app", *bundle)  # type: ignore[arg-type]
    size = human_bytes(bundle[1].size)
    assert len(lines) == 4  # two chunks, the file, and the closing line
    assert lines[-1].startswith("uploading the bundle of ") and " done: 1 files" in lines[-1]
    assert f"{size} of {size}" in lines[-1]
