"""The GitHub REST API's recorded answers, served over HTTP on loopback for discovery tests.

Pages come with GitHub's ``Link`` header and each answer with the rate-limit
headers the test sets, so the provider's hook and PyGithub do their real work. With an
:class:`AppInstallations`, it also issues a GitHub App's installation tokens as GitHub
does (``POST /app/installations/{id}/access_tokens``, the App's JWT checked against its
public key), each valid until its ``expires_at`` by the test's clock.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

RECORDED = Path(__file__).parent / "fixtures" / "github_api"
ORG = "social-workshop"


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class AppInstallations:
    """One GitHub App and its one installation, as the API sees them."""

    app_id: str
    installation_id: int
    public_key: str  # PEM: the App's JWT must be signed by its private key
    lifetime: timedelta = timedelta(hours=1)
    clock: Callable[[], datetime] = _utc_now
    issued: dict[str, datetime] = field(default_factory=dict)  # token: expires_at

    def valid(self, token: str) -> bool:
        """Whether git would accept ``token`` now: issued here and not yet expired."""
        expires = self.issued.get(token)
        return expires is not None and self.clock() < expires

    def answer(self, path: str, authorization: str) -> tuple[int, dict[str, object]]:
        import jwt

        scheme, _, token = authorization.partition(" ")
        try:
            claims = jwt.decode(token, self.public_key, algorithms=["RS256"])
        except jwt.PyJWTError:
            claims = {}
        if scheme != "Bearer" or str(claims.get("iss")) != self.app_id:
            return 401, {"message": "A JSON web token could not be decoded"}
        if path != f"/app/installations/{self.installation_id}/access_tokens":
            return 404, {"message": "Not Found"}
        issued = f"ghs_{secrets.token_hex(18)}"
        expires = self.clock() + self.lifetime
        self.issued[issued] = expires
        stamp = expires.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return 201, {"token": issued, "expires_at": stamp, "permissions": {"contents": "read"}}


@dataclass
class ApiState:
    base: str = ""
    remaining: int = 4999
    reset_in: float = 3600.0
    after_reset: int = 5000
    reset_at: float = 0.0
    requests: list[str] = field(default_factory=list)
    authorizations: set[str] = field(default_factory=set)
    refusal: tuple[int, str] | None = None  # every /orgs request answered so, as GitHub does
    app: AppInstallations | None = None

    def quota(self) -> tuple[int, int]:
        if self.reset_at and time.time() >= self.reset_at:
            self.remaining, self.reset_at = self.after_reset, 0.0
        if not self.reset_at:
            self.reset_at = time.time() + self.reset_in
        return self.remaining, int(self.reset_at)


def _handler(state: ApiState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            url = urlsplit(self.path)
            state.requests.append(self.path)
            state.authorizations.add(self.headers.get("Authorization", ""))
            remaining, reset = state.quota()
            headers = {
                "X-RateLimit-Limit": "5000",
                "X-RateLimit-Remaining": str(remaining),
                "X-RateLimit-Reset": str(reset),
            }
            if url.path == "/rate_limit":
                core = {"limit": 5000, "remaining": remaining, "reset": reset, "used": 0}
                body: object = {"resources": {"core": core}, "rate": core}
            elif state.refusal and url.path.startswith("/orgs/"):
                status, message = state.refusal
                payload = json.dumps({"message": message}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            elif url.path == f"/orgs/{ORG}":
                body = self._recorded("org.json")
            elif url.path == f"/orgs/{ORG}/repos":
                page = int(parse_qs(url.query).get("page", ["1"])[0])
                body = self._recorded(f"repos_page_{page}.json")
                link = f"{state.base}/orgs/{ORG}/repos?type=all&sort=full_name&per_page=100"
                parts = [f'<{link}&page=2>; rel="last"']
                if page == 1:
                    parts.insert(0, f'<{link}&page=2>; rel="next"')
                headers["Link"] = ", ".join(parts)
            else:
                self.send_response(404)
                self.end_headers()
                return
            payload = json.dumps(body).replace("https://api.github.com", state.base).encode()
            if remaining <= 0:
                self.send_response(403)
                payload = b'{"message": "API rate limit exceeded"}'
            else:
                self.send_response(200)
            for name, value in {**headers, "Content-Type": "application/json"}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            state.remaining = max(0, state.remaining - 1)

        def do_POST(self) -> None:  # noqa: N802
            state.requests.append(f"POST {self.path}")
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status: int
            body: dict[str, object]
            if state.app is None or not self.path.startswith("/app/installations/"):
                status, body = 404, {"message": "Not Found"}
            else:
                status, body = state.app.answer(self.path, self.headers.get("Authorization", ""))
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _recorded(self, name: str) -> object:
            return json.loads((RECORDED / name).read_text())

    return Handler


@contextmanager
def github_api(state: ApiState) -> Iterator[ApiState]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
