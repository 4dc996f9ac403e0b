"""Every server the local stack starts listens on loopback only.

The demo prints the admin login of its Airflow UI, so a server bound to every interface
would put that UI (and moto, MariaDB and the git daemon) on the network of the laptop
running ``make demo``. This reads the listening sockets of each server the stack started
and of all their descendants (Airflow's scheduler, triggerer, API server, workers, ...).
"""

from __future__ import annotations

from pathlib import Path

import psutil

from include.dr.local_stack import stack
from include.dr.local_stack.airflow_standalone import TEST_AIRFLOW, Standalone
from include.dr.local_stack.settings import LocalSettings

LOOPBACK = {"127.0.0.1", "::1"}


def listening_sockets(pid: int) -> list[tuple[str, str, int]]:
    """(process, address, port) of each TCP socket that ``pid`` or a descendant listens on."""
    root = psutil.Process(pid)
    found = []
    for process in [root, *root.children(recursive=True)]:
        try:
            sockets = process.net_connections(kind="tcp")
            name = " ".join(process.cmdline()[:3]) or process.name()
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            continue  # a worker that ended while we looked
        found += [
            (f"{name} (pid {process.pid})", sock.laddr.ip, sock.laddr.port)
            for sock in sockets
            if sock.status == psutil.CONN_LISTEN
        ]
    return found


def test_every_server_the_stack_started_listens_on_loopback_only(
    local_stack: Path, running_airflow: Standalone, settings: LocalSettings
) -> None:
    pids = {process.name: process.pid() for process in stack.processes(local_stack)}
    required = {"moto", "mariadb", "git-daemon", TEST_AIRFLOW}
    assert required <= {name for name, pid in pids.items() if pid is not None}, pids
    sockets = {name: listening_sockets(pid) for name, pid in pids.items() if pid is not None}
    ports = {name: {port for _, _, port in found} for name, found in sockets.items()}
    # The servers the connections point at are among what was read, so none was missed.
    assert settings.moto_port in ports["moto"]
    assert settings.mysql_port in ports["mariadb"]
    assert settings.git_daemon_port in ports["git-daemon"]
    assert running_airflow.port in ports[TEST_AIRFLOW]
    exposed = [
        f"{server}: {process} listens on {address}:{port}"
        for server, found in sockets.items()
        for process, address, port in found
        if address not in LOOPBACK
    ]
    assert exposed == [], "reachable from the network:\n" + "\n".join(exposed)
