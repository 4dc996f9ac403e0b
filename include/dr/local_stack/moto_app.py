"""The moto server the local stack runs: moto's own application, with corrections where
moto departs from AWS in a way that matters to a backup.

- **A multipart upload into an Object Lock bucket** (a streamed dump, a large copy): S3
  gives the completed object the bucket's default retention, as it does a PutObject;
  moto gives it none, so it could be purged at once. Corrected: moto now locks it.
- **CopyObject into an Object Lock bucket.** moto asks every PUT into a bucket with a
  default retention for ``Content-MD5`` or ``x-amz-sdk-checksum-algorithm``. S3 asks
  that of uploads (PutObject, UploadPart), which carry a body; a CopyObject carries
  none, and S3 takes it without (the copy's SHA-256 is what S3 computes, as
  ``x-amz-checksum-algorithm`` asks). The correction names the algorithm the copy
  already asked for, and only for a copy, so every other strictness stays.

tests/include/dr/s3/test_object_lock.py proves both against the running server.

Run as ``python -m include.dr.local_stack.moto_app -H 127.0.0.1 -p PORT``.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterable
from typing import Any

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def corrected(app: WsgiApp) -> WsgiApp:
    """``app`` with the corrections of the module docstring."""

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if (
            environ.get("REQUEST_METHOD") == "PUT"
            and "HTTP_X_AMZ_COPY_SOURCE" in environ
            and "uploadId" not in environ.get("QUERY_STRING", "")
        ):
            algorithm = environ.get("HTTP_X_AMZ_CHECKSUM_ALGORITHM") or "SHA256"
            environ.setdefault("HTTP_X_AMZ_SDK_CHECKSUM_ALGORITHM", algorithm)
        return app(environ, start_response)

    return serve


def lock_completed_uploads() -> None:
    """Give an object completed from parts its bucket's default retention, as S3 does."""
    from moto.s3.models import S3Backend

    complete = S3Backend.complete_multipart_upload

    def completed_and_locked(
        backend: S3Backend, bucket_name: str, multipart_id: str, body: Any
    ) -> Any:
        key = complete(backend, bucket_name, multipart_id, body)
        bucket = backend.get_bucket(bucket_name)
        if key is not None and bucket.has_default_lock and not key.lock_mode:
            key.lock_mode = bucket.default_lock_mode
            key.lock_until = bucket.default_retention()
        return key

    S3Backend.complete_multipart_upload = completed_and_locked  # type: ignore[method-assign,assignment]


def main(argv: list[str] | None = None) -> None:
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import run_simple

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))  # as moto's own main does
    lock_completed_uploads()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        args.host,
        args.port,
        corrected(app),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
