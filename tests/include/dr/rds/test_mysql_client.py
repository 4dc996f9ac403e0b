"""The MySQL clients, streamed (shared by the dump and the dump's load), with stand-in
commands: output read in chunks, input fed by a thread, the exit and its error kept."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from include.dr.errors import Permanent
from include.dr.rds.mysql_client import ClientMissing, feeding, find_client, options_file, reading


def python(script: str) -> list[str]:
    return [sys.executable, "-c", script]


def test_the_password_goes_to_a_private_options_file(tmp_path: Path) -> None:
    path = options_file(
        tmp_path,
        {
            "host": "db",
            "port": 3306,
            "login": "backup",
            "password": "s3cret",
            "extra": {"ssl": {"ca": "/ca.pem"}},
        },
    )
    assert path.stat().st_mode & 0o777 == 0o600
    text = path.read_text()
    assert "password=s3cret" in text and "ssl-ca=/ca.pem" in text


def test_a_missing_client_is_permanent_and_says_what_to_install() -> None:
    with pytest.raises(ClientMissing, match="apt-get install mariadb-client") as missing:
        find_client("no-such-client-1", "no-such-client-2")
    assert isinstance(missing.value, Permanent)


def test_output_is_read_whole_and_the_exit_kept() -> None:
    script = "import sys\nsys.stdout.write('x' * 3_000_000)\nsys.stderr.write('done')\nsys.exit(3)"
    with reading(python(script)) as output:
        data = b"".join(output.chunks)
        ended = output.finish()
    assert len(data) == 3_000_000
    assert (ended.status, ended.message, ended.ok) == (3, "done", False)


def test_a_reader_that_fails_kills_the_client() -> None:
    with pytest.raises(RuntimeError), reading(python("import time\ntime.sleep(60)")) as output:
        raise RuntimeError("the upload failed")
    assert output._process.poll() is not None  # killed, not left running


def test_input_is_fed_whole_and_a_failing_source_is_reported() -> None:
    count = "import sys\nn = len(sys.stdin.buffer.read())\nsys.stderr.write(str(n))"
    ended, failed = feeding(python(count), [b"a" * 1_000_000, b"b" * 500])
    assert ended.ok and ended.message == "1000500" and failed is None

    def broken() -> object:
        yield b"abc"
        raise OSError("the dump's download broke")

    ended, failed = feeding(python(count), broken())  # type: ignore[arg-type]
    assert ended.message == "3" and isinstance(failed, OSError)
