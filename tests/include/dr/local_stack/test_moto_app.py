"""The local moto's one correction: a CopyObject names its checksum algorithm the way an
upload would, so a bucket with a default Object Lock retention takes it as S3 does; no
other request is touched."""

from __future__ import annotations

from typing import Any

from include.dr.local_stack.moto_app import corrected


def seen(environ: dict[str, Any]) -> dict[str, Any]:
    received: dict[str, Any] = {}

    def app(env: dict[str, Any], start_response: Any) -> list[bytes]:
        received.update(env)
        return [b""]

    corrected(app)(dict(environ), lambda *args: None)
    return received


def test_a_copy_names_the_algorithm_it_asked_for() -> None:
    copy = {"REQUEST_METHOD": "PUT", "HTTP_X_AMZ_COPY_SOURCE": "/src/key"}
    assert seen(copy)["HTTP_X_AMZ_SDK_CHECKSUM_ALGORITHM"] == "SHA256"
    crc = {**copy, "HTTP_X_AMZ_CHECKSUM_ALGORITHM": "CRC32"}
    assert seen(crc)["HTTP_X_AMZ_SDK_CHECKSUM_ALGORITHM"] == "CRC32"


def test_uploads_and_part_copies_keep_moto_strict() -> None:
    upload = {"REQUEST_METHOD": "PUT"}
    part_copy = {
        "REQUEST_METHOD": "PUT",
        "HTTP_X_AMZ_COPY_SOURCE": "/src/key",
        "QUERY_STRING": "partNumber=1&uploadId=abc",
    }
    for environ in (upload, part_copy, {"REQUEST_METHOD": "GET"}):
        assert "HTTP_X_AMZ_SDK_CHECKSUM_ALGORITHM" not in seen(environ)
