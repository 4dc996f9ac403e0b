"""PostgreSQL on loopback: the metadata database of the distributed Airflow.

SQLite takes one writer at a time, which suits ``airflow standalone`` but not a
scheduler, a DAG processor, a triggerer, an API server and two Celery workers writing
at once. The cluster is made once with ``initdb`` under the stack's state folder, its
unix socket too. PostgreSQL refuses to run as root, so when we are root its programs run
as the ``postgres`` user (``setpriv``), which then owns the cluster's folders.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from pathlib import Path

import psycopg2

from include.dr.local_stack.processes import ManagedProcess, StackError, refuse_foreign_port

POSTGRES_PORT = 5433  # beside a system PostgreSQL on 5432
SUPERUSER = "postgres"
OWNER = "postgres"  # the operating-system user the server runs as when we are root


def _bin_dir() -> Path | None:
    """The newest installed PostgreSQL's programs (Debian keeps them out of PATH)."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"),
        key=lambda path: int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1].parent
    on_path = shutil.which("postgres")
    return Path(on_path).resolve().parent if on_path else None


def _program(name: str) -> str:
    """A PostgreSQL program's path (its bare name when none is installed: stopping a server
    needs only its pid file)."""
    folder = _bin_dir()
    return str(folder / name) if folder else name


def _require_postgres() -> None:
    if _bin_dir() is None:
        raise StackError(
            "PostgreSQL is not installed (no postgres program found). On Debian or Ubuntu "
            "run 'apt-get install -y postgresql' (make setup does this); elsewhere install "
            "PostgreSQL 13 or newer from your package manager"
        )


def _as_owner(argv: list[str]) -> list[str]:
    """``argv`` as the ``postgres`` user when we are root; unchanged otherwise."""
    if os.geteuid() != 0:
        return argv
    return ["setpriv", f"--reuid={OWNER}", f"--regid={OWNER}", "--init-groups", "--", *argv]


def _folders(state_dir: Path) -> tuple[Path, Path]:
    """The cluster's data folder and the folder of its unix socket."""
    root = state_dir / "postgres"
    return root / "data", root / "run"


def postgres_process(state_dir: Path, port: int = POSTGRES_PORT) -> ManagedProcess:
    data, run = _folders(state_dir)
    return ManagedProcess(
        name="postgres",
        argv=_as_owner(
            [
                _program("postgres"),
                "-D",
                str(data),
                "-p",
                str(port),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                f"unix_socket_directories={run}",
                "-c",
                "shared_buffers=64MB",
                # Throwaway data: a crash may lose the last commits, never the cluster.
                "-c",
                "synchronous_commit=off",
            ]
        ),
        state_dir=state_dir,
    )


def _initialise(state_dir: Path) -> None:
    """Make the cluster once: passwords over TCP, the socket only for its owner."""
    data, run = _folders(state_dir)
    if (data / "PG_VERSION").is_file():
        return
    for folder in (data, run):
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o700)
        if os.geteuid() == 0:
            owner = pwd.getpwnam(OWNER)
            os.chown(folder, owner.pw_uid, owner.pw_gid)
    subprocess.run(  # noqa: S603 - fixed argv
        _as_owner(
            [
                _program("initdb"),
                "-D",
                str(data),
                f"--username={SUPERUSER}",
                "--auth-local=trust",  # the socket's folder is open to its owner only
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
            ]
        ),
        check=True,
        capture_output=True,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"},
    )


def _admin(state_dir: Path, port: int) -> psycopg2.extensions.connection:
    _, run = _folders(state_dir)
    connection = psycopg2.connect(
        host=str(run), port=port, user=SUPERUSER, dbname="postgres", connect_timeout=3
    )
    connection.autocommit = True  # CREATE DATABASE refuses to run in a transaction
    return connection


def _answers(state_dir: Path, port: int) -> bool:
    try:
        _admin(state_dir, port).close()
    except psycopg2.Error:
        return False
    return True


def start_postgres(state_dir: Path, port: int = POSTGRES_PORT) -> bool:
    """Initialise the cluster once, start it unless ours runs, wait until it answers."""
    _require_postgres()
    process = postgres_process(state_dir, port)
    refuse_foreign_port(process, port)
    _initialise(state_dir)
    started = process.start()
    process.wait_until(lambda: _answers(state_dir, port), "accepting connections", timeout=60)
    return started


def ensure_database(state_dir: Path, port: int, name: str, password: str) -> str:
    """A login role and a database, both called ``name``, with ``password`` (set anew each
    time, so it always matches the caller's); return its SQLAlchemy URL for psycopg2."""
    admin = _admin(state_dir, port)
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,))
            verb = "ALTER" if cursor.fetchone() else "CREATE"
            cursor.execute(f'{verb} ROLE "{name}" LOGIN PASSWORD %s', (password,))
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{name}" OWNER "{name}"')
    finally:
        admin.close()
    return f"postgresql+psycopg2://{name}:{password}@127.0.0.1:{port}/{name}"
