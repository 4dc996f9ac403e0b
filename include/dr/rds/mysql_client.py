"""The MySQL command-line clients, streamed: what the dump and the dump's load share.

``mysqldump`` writes a dump to its standard output and ``mysql`` reads one from
its standard input; neither is held whole in memory or on disk. Both get their
credentials from a private options file, never the command line or the
environment; both keep their standard error in a temporary file, are killed if
the caller fails, and end with their exit status and the tail of that error.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from queue import Queue
from typing import IO, Any

from include.dr.errors import Permanent

READ_SIZE = 1024 * 1024
READ_AHEAD_CHUNKS = 16
STDERR_TAIL = 2000


class ClientMissing(Permanent):
    """No MySQL or MariaDB client is installed on the worker."""


@dataclass(frozen=True)
class ClientExit:
    """How a client ended: its exit status and the tail of what it wrote to standard error."""

    status: int
    message: str

    @property
    def ok(self) -> bool:
        return self.status == 0


def find_client(*names: str) -> str:
    """The first of ``names`` on the PATH (e.g. ``mariadb-dump``, then ``mysqldump``)."""
    for name in names:
        if found := shutil.which(name):
            return found
    raise ClientMissing(
        f"neither {' nor '.join(names)} is installed; install the MariaDB or MySQL client "
        "(Debian: apt-get install mariadb-client; the image gets it from packages.txt)"
    )


def connection_settings(conn_id: str) -> dict[str, Any]:
    """An Airflow MySQL connection, as :func:`options_file` needs it; refused unless it
    asks for verified TLS."""
    from airflow.providers.mysql.hooks.mysql import MySqlHook

    from include.dr.rds.transport import tls_options

    conn = MySqlHook.get_connection(conn_id)
    tls_options(conn_id, conn.extra_dejson)
    return {
        "host": conn.host,
        "port": conn.port,
        "login": conn.login,
        "password": conn.password,
        "extra": conn.extra_dejson,
    }


def options_file(folder: Path, connection: Mapping[str, Any]) -> Path:
    """A ``[client]`` options file readable only by us, with the TLS settings the
    connection asks for (extra ``ssl``: ``ca``, ``cert``, ``key``)."""
    lines = [
        "[client]",
        f"host={connection['host']}",
        f"port={int(connection.get('port') or 3306)}",
        f"user={connection['login']}",
        f"password={connection.get('password') or ''}",
    ]
    ssl = (connection.get("extra") or {}).get("ssl") or {}
    for option in ("ca", "cert", "key"):
        if ssl.get(option):
            lines.append(f"ssl-{option}={ssl[option]}")
    if ssl:
        # MariaDB and MySQL clients name certificate checking differently; loose- skips
        # the option a client does not know.
        lines += ["loose-ssl-verify-server-cert", "loose-ssl-mode=VERIFY_IDENTITY"]
    path = folder / "client.cnf"
    path.touch(mode=0o600)
    path.write_text("\n".join(lines) + "\n")
    return path


class Output:
    """A running client's standard output, in chunks, and how it ended."""

    def __init__(self, process: subprocess.Popen[bytes], stderr: IO[bytes]) -> None:
        self._process, self._stderr = process, stderr
        assert process.stdout is not None
        self.chunks: Iterator[bytes] = _read_ahead(process.stdout)

    def finish(self) -> ClientExit:
        """Wait for the client to exit (after its output was read to the end)."""
        return _exit(self._process, self._stderr)


@contextmanager
def reading(argv: list[str]) -> Iterator[Output]:
    """Run ``argv`` and read its output; kill it if the caller fails while reading."""
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=stderr)  # noqa: S603
        try:
            yield Output(process, stderr)
        except BaseException:
            process.kill()
            process.wait()
            raise


def feeding(argv: list[str], chunks: Iterable[bytes]) -> tuple[ClientExit, BaseException | None]:
    """Run ``argv`` with ``chunks`` as its input (written by a thread, so reading the source
    never waits on the client); how it ended, and the error reading ``chunks`` raised."""
    failed: list[BaseException] = []
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(argv, stdin=subprocess.PIPE, stderr=stderr)  # noqa: S603
        assert process.stdin is not None

        def feed(stdin: IO[bytes]) -> None:
            try:
                for chunk in chunks:
                    stdin.write(chunk)
            except BaseException as exc:  # noqa: BLE001 - reported after the client exits
                failed.append(exc)
            finally:
                stdin.close()

        feeder = threading.Thread(target=feed, args=(process.stdin,), daemon=True)
        feeder.start()
        try:
            ended = _exit(process, stderr)
        except BaseException:
            process.kill()
            process.wait()
            raise
        feeder.join()
    return ended, (failed[0] if failed else None)


def _exit(process: subprocess.Popen[bytes], stderr: IO[bytes]) -> ClientExit:
    status = process.wait()
    stderr.seek(0)
    message = stderr.read()[-STDERR_TAIL:].decode(errors="replace").strip()
    return ClientExit(status, message)


def _read_ahead(stream: IO[bytes]) -> Iterator[bytes]:
    """Chunks of ``stream``, read by a thread into a bounded queue so reading never waits
    on the consumer (and the client never stalls on a full pipe)."""
    queue: Queue[bytes | BaseException | None] = Queue(maxsize=READ_AHEAD_CHUNKS)

    def reader() -> None:
        try:
            while chunk := stream.read(READ_SIZE):
                queue.put(chunk)
            queue.put(None)
        except BaseException as exc:  # handed to the consumer
            queue.put(exc)

    threading.Thread(target=reader, name="client-reader", daemon=True).start()
    while (item := queue.get()) is not None:
        if isinstance(item, BaseException):
            raise item
        yield item
