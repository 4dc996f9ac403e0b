"""The MariaDB server that plays the production customer database on loopback.

It runs from a throwaway data directory under the stack's state folder. The
``backup`` user of the ``mysql_default`` connection may read the customer
database and owns the ``restore_*`` scratch databases that restores write to.
"""

from __future__ import annotations

import csv
import getpass
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pymysql

from include.dr.local_stack.mariadb_tls import ServerTls, ensure_server_tls
from include.dr.local_stack.processes import ManagedProcess, StackError, refuse_foreign_port

DEMO_DATA = Path(__file__).resolve().parents[2] / "demo" / "customers"
# Parents before children, so foreign keys hold while loading.
DEMO_TABLES = ("customers", "orders", "order_items", "support_tickets")
SCRATCH_DATABASE_PATTERN = "restore\\_%"


def _binary(*names: str) -> str:
    for name in names:
        found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/usr/local/bin")
        if found:
            return found
    raise StackError(
        f"MariaDB is not installed (none of {', '.join(names)} found). On Debian or Ubuntu run "
        "'apt-get install -y mariadb-server' (make setup does this); elsewhere install MariaDB "
        "10.6 or newer from your package manager"
    )


def mariadb_process(state_dir: Path, port: int, tls: ServerTls | None = None) -> ManagedProcess:
    """The server; with ``tls``, it serves TLS and refuses every connection over TCP
    without it (the unix socket, used only by the stack's own admin, counts as secure)."""
    data = state_dir / "mariadb"
    return ManagedProcess(
        name="mariadb",
        argv=[
            _binary("mariadbd", "mysqld"),
            "--no-defaults",
            f"--datadir={data / 'data'}",
            f"--socket={data / 'mysqld.sock'}",
            f"--pid-file={data / 'mysqld.pid'}",
            f"--port={port}",
            "--bind-address=127.0.0.1",
            f"--user={getpass.getuser()}",
            "--skip-name-resolve",
            "--innodb-buffer-pool-size=64M",
            "--local-infile=1",
            # Binary logging, as on RDS with automated backups: each snapshot's position
            # is then in the evidence.
            f"--log-bin={data / 'binlog'}",
            "--server-id=1",
            "--binlog-format=ROW",
            "--expire-logs-days=2",
            # As an RDS parameter group must set it for a user without SUPER to create
            # (and so restore) triggers and routines while binary logging is on.
            "--log-bin-trust-function-creators=1",
            *(tls.server_options() if tls else []),
        ],
        state_dir=state_dir,
    )


def _socket(state_dir: Path) -> str:
    return str(state_dir / "mariadb" / "mysqld.sock")


def _admin(state_dir: Path) -> pymysql.Connection[Any]:
    """Root over the unix socket: the data directory was made with a password-less root."""
    return pymysql.connect(unix_socket=_socket(state_dir), user="root", autocommit=True)


def _answers(state_dir: Path) -> bool:
    try:
        _admin(state_dir).close()
    except pymysql.MySQLError:
        return False
    return True


def start_mariadb(state_dir: Path, port: int, ca: Path) -> bool:
    """Initialise the data directory once, start the server (TLS required, its certificate
    signed by the CA at ``ca``) unless ours runs, wait for it."""
    process = mariadb_process(state_dir, port, ensure_server_tls(ca))
    refuse_foreign_port(process, port)
    data = state_dir / "mariadb" / "data"
    if not (data / "mysql").is_dir():
        data.mkdir(parents=True, exist_ok=True)
        subprocess.run(  # noqa: S603 - fixed argv
            [
                _binary("mariadb-install-db", "mysql_install_db"),
                "--no-defaults",
                f"--datadir={data}",
                f"--user={getpass.getuser()}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ],
            check=True,
            capture_output=True,
        )
    started = process.start()
    process.wait_until(lambda: _answers(state_dir), "accepting connections", timeout=60)
    return started


def seed_customers(state_dir: Path, conn: dict[str, Any]) -> int:
    """Create the connection's user and the demo database once; return the demo row count."""
    database, user, password = conn["schema"], conn["login"], conn["password"]
    admin = _admin(state_dir)
    try:
        with admin.cursor() as cursor:
            cursor.execute(
                "CREATE USER IF NOT EXISTS %s@'127.0.0.1' IDENTIFIED BY %s", (user, password)
            )
            cursor.execute(
                "CREATE USER IF NOT EXISTS %s@'localhost' IDENTIFIED BY %s", (user, password)
            )
            for host in ("127.0.0.1", "localhost"):
                cursor.execute(
                    f"GRANT SELECT, SHOW VIEW, TRIGGER, LOCK TABLES, EVENT ON `{database}`.* "
                    "TO %s@%s",
                    (user, host),
                )
                cursor.execute(
                    # %% is a literal % once PyMySQL fills in the parameters.
                    f"GRANT ALL PRIVILEGES ON `{SCRATCH_DATABASE_PATTERN.replace('%', '%%')}`.* "
                    "TO %s@%s",
                    (user, host),
                )
            cursor.execute("SHOW DATABASES LIKE %s", (database,))
            if cursor.fetchone() is None:
                _load_demo(cursor, database)
            return sum(_count(cursor, database, table) for table in DEMO_TABLES)
    finally:
        admin.close()


def _load_demo(cursor: Any, database: str) -> None:
    cursor.execute(f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4")
    cursor.execute(f"USE `{database}`")
    lines = (DEMO_DATA / "schema.sql").read_text(encoding="utf-8").splitlines()
    sql = "\n".join(line for line in lines if not line.lstrip().startswith("--"))
    for statement in sql.split(";"):
        if statement.strip():
            cursor.execute(statement)
    for table in DEMO_TABLES:
        with (DEMO_DATA / f"{table}.csv").open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        placeholders = ", ".join(["%s"] * len(rows[0]))
        cursor.executemany(f"INSERT INTO `{table}` VALUES ({placeholders})", rows)


def _count(cursor: Any, database: str, table: str) -> int:
    cursor.execute(f"SELECT COUNT(*) FROM `{database}`.`{table}`")
    return int(cursor.fetchone()[0])
