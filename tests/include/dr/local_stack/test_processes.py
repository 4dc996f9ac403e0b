"""Managed background processes: started once, tracked by pid file, stopped with children."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from include.dr.local_stack.processes import ManagedProcess, StackError, refuse_foreign_port

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


def test_start_is_idempotent_and_stop_ends_the_process(tmp_path: Path) -> None:
    process = ManagedProcess("sleeper", SLEEPER, tmp_path)
    assert process.start() is True
    pid = process.pid()
    assert pid is not None
    assert process.start() is False and process.pid() == pid
    assert process.stop() is True
    assert process.pid() is None and not process.pidfile.exists()
    assert process.stop() is False


def test_stale_pid_file_is_forgotten(tmp_path: Path) -> None:
    process = ManagedProcess("gone", SLEEPER, tmp_path)
    process.pidfile.parent.mkdir(parents=True)
    process.pidfile.write_text("999999999\n")
    assert process.pid() is None
    assert not process.pidfile.exists()


def test_a_server_that_dies_while_starting_shows_its_log(tmp_path: Path) -> None:
    process = ManagedProcess(
        "crasher", [sys.executable, "-c", "print('bad flag'); raise SystemExit(3)"], tmp_path
    )
    process.start()
    with pytest.raises(StackError, match="(?s)crasher exited while starting.*bad flag"):
        process.wait_until(lambda: False, "ready", timeout=10)


def test_port_held_by_someone_else_is_refused(tmp_path: Path) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        with pytest.raises(StackError, match=f"port {port} is in use"):
            refuse_foreign_port(ManagedProcess("moto", SLEEPER, tmp_path), port)
