"""The moto server the local stack runs: moto's own application, behind a correction
where moto is stricter than AWS in a way AWS is not.

- **CopyObject into an Object Lock bucket.** moto asks every PUT into a bucket with a
  default retention for ``Content-MD5`` or ``x-amz-sdk-checksum-algorithm``. S3 asks
  that of uploads (PutObject, UploadPart), which carry a body; a CopyObject carries
  none, and S3 takes it without (the copy's SHA-256 is what S3 computes, as
  ``x-amz-checksum-algorithm`` asks). The correction names the algorithm the copy
  already asked for, and only for a copy, so every other strictness stays.

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
