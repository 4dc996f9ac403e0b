"""Background servers that the local stack starts, tracks by pid file and stops.

Each server runs in its own session, so stopping it stops its children too, and
only processes whose pid file this stack wrote are ever signalled.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


class StackError(RuntimeError):
    """A local-stack service could not be started or reached; the message says what to do."""


@dataclass(frozen=True)
class ManagedProcess:
    """One server: how to start it, where it logs, and the pid file that proves it is ours."""

    name: str
    argv: Sequence[str]
    state_dir: Path

    @property
    def pidfile(self) -> Path:
        return self.state_dir / "pids" / f"{self.name}.pid"

    @property
    def log(self) -> Path:
        return self.state_dir / "logs" / f"{self.name}.log"

    def pid(self) -> int | None:
        """The pid of our running server, or None (a stale pid file is removed)."""
        try:
            pid = int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None
        if _alive(pid):
            return pid
        self.pidfile.unlink(missing_ok=True)
        return None

    def start(self, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> bool:
        """Start the server unless ours already runs; return True when it was started."""
        if self.pid() is not None:
            return False
        self.pidfile.parent.mkdir(parents=True, exist_ok=True)
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            process = subprocess.Popen(  # noqa: S603 - argv is built by this package
                list(self.argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=dict(env) if env is not None else None,
                cwd=cwd,
            )
        self.pidfile.write_text(f"{process.pid}\n")
        return True

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop our server and its children; return True when something was stopped."""
        pid = self.pid()
        if pid is None:
            return False
        _signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            _signal_group(pid, signal.SIGKILL)
        self.pidfile.unlink(missing_ok=True)
        return True

    def wait_until(self, ready: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
        """Poll ``ready`` until it holds; fail with the log's tail if the server dies or stalls."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready():
                return
            if self.pid() is None:
                raise StackError(f"{self.name} exited while starting. {self._tail()}")
            time.sleep(0.2)
        raise StackError(f"{self.name} was not {what} after {timeout:.0f}s. {self._tail()}")

    def _tail(self, lines: int = 15) -> str:
        try:
            text = self.log.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return f"No log at {self.log}."
        return f"Last lines of {self.log}:\n" + "\n".join(text)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of this process counts as gone.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except (OSError, IndexError):
        return True


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def refuse_foreign_port(process: ManagedProcess, port: int) -> None:
    """Fail clearly when another program already holds the port our server needs."""
    if process.pid() is None and port_open(port):
        raise StackError(
            f"port {port} is in use by a process this stack did not start, so {process.name} "
            f"cannot listen there; stop that process or change the port in airflow_settings.yaml"
        )
