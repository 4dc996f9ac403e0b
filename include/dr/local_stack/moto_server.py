"""The moto server that plays AWS (both regions) on loopback (:mod:`.moto_app`)."""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from include.dr.local_stack.moto_app import KEY_ACCOUNTS_ENV
from include.dr.local_stack.processes import ManagedProcess, refuse_foreign_port
from include.dr.project import PROJECT_ROOT

MOTO_APP = "include.dr.local_stack.moto_app"  # moto, with its corrections


def moto_process(state_dir: Path, port: int) -> ManagedProcess:
    return ManagedProcess(
        name="moto",
        argv=[sys.executable, "-m", MOTO_APP, "-H", "127.0.0.1", "-p", str(port)],
        state_dir=state_dir,
    )


def moto_healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def start_moto(state_dir: Path, port: int, key_accounts: Mapping[str, str]) -> bool:
    """Start the moto server unless ours runs already, with each static key placed in its
    account (:mod:`.accounts`); wait until it answers."""
    process = moto_process(state_dir, port)
    refuse_foreign_port(process, port)
    env = {**os.environ, KEY_ACCOUNTS_ENV: json.dumps(dict(key_accounts))}
    started = process.start(env=env, cwd=PROJECT_ROOT)  # where `include` imports from
    process.wait_until(lambda: moto_healthy(port), "answering HTTP", timeout=60)
    return started
