"""Git's smart HTTP protocol on loopback (``git http-backend`` behind a small server)
that, like GitHub, answers only requests carrying the right token."""

from __future__ import annotations

import base64
import os
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit


def _token_of(authorization: str) -> str | None:
    """The token of a ``Basic x-access-token:<token>`` header, as GitHub reads it."""
    scheme, _, encoded = authorization.partition(" ")
    try:
        user, _, token = base64.b64decode(encoded, validate=True).decode().partition(":")
    except ValueError:
        return None
    return token if scheme == "Basic" and user == "x-access-token" else None


@contextmanager
def git_http(
    root: Path, token: str | Callable[[str], bool], requests: list[str] | None = None
) -> Iterator[tuple[str, list[str]]]:
    """Serve the bare repositories under ``root``; yields (base URL, headers seen).

    ``token`` is the one token accepted, or a test of each token (an App's installation
    tokens are valid only until they expire); ``requests`` collects "METHOD path body-bytes"."""
    accepts = token if callable(token) else token.__eq__
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self._serve(b"")

        def do_POST(self) -> None:  # noqa: N802
            self._serve(self._body())

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding") == "chunked":
                data = b""
                while size := int(self.rfile.readline().strip(), 16):
                    data += self.rfile.read(size)
                    self.rfile.readline()
                self.rfile.readline()
                return data
            return self.rfile.read(int(self.headers.get("Content-Length", 0)))

        def _serve(self, body: bytes) -> None:
            authorization = self.headers.get("Authorization", "")
            seen.append(authorization)
            if requests is not None:
                requests.append(f"{self.command} {self.path} {len(body)}")
            presented = _token_of(authorization)
            if presented is None or not accepts(presented):
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="GitHub"')
                self.end_headers()
                return
            url = urlsplit(self.path)
            env = {
                **os.environ,
                "GIT_PROJECT_ROOT": str(root),
                "GIT_HTTP_EXPORT_ALL": "1",
                "PATH_INFO": url.path,
                "QUERY_STRING": url.query,
                "REQUEST_METHOD": self.command,
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(len(body)),
                "HTTP_GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
                "REMOTE_ADDR": "127.0.0.1",
                "REMOTE_USER": "x-access-token",  # authenticated: http-backend lets it push
            }
            done = subprocess.run(  # noqa: S603
                ["git", "http-backend"],
                input=body,
                env=env,
                capture_output=True,
                check=False,  # noqa: S607
            )
            head, _, payload = done.stdout.partition(b"\r\n\r\n")
            status = 200
            headers = []
            for line in head.decode().split("\r\n"):
                name, _, value = line.partition(": ")
                if name.lower() == "status":
                    status = int(value.split()[0])
                elif name:
                    headers.append((name, value))
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
