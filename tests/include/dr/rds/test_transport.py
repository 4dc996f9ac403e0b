"""TLS to MySQL: refused unless asked for and checked; real against the local server,
which, like RDS with require_secure_transport, refuses clear text."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pymysql
import pytest

from include.dr.local_stack.settings import LocalSettings
from include.dr.rds.mysql_client import find_client, options_file
from include.dr.rds.transport import TlsRequired, open_mysql, session_tls, tls_options

VERIFIED = {"ssl": {"ca": "/ca.pem"}, "ssl_mode": "VERIFY_IDENTITY"}


@pytest.mark.parametrize(
    ("extra", "names"),
    [
        ({}, "extra ssl.ca"),
        ({"ssl": {"cert": "/c.pem"}, "ssl_mode": "VERIFY_IDENTITY"}, "extra ssl.ca"),
        ({"ssl": {"ca": "/ca.pem"}}, "ssl_mode is unset"),
        ({"ssl": {"ca": "/ca.pem"}, "ssl_mode": "REQUIRED"}, "ssl_mode is REQUIRED"),
        ({"ssl": {"ca": "/ca.pem"}, "ssl_mode": "PREFERRED"}, "ssl_mode is PREFERRED"),
    ],
)
def test_a_connection_without_verified_tls_is_refused_naming_the_field_and_the_fix(
    extra: dict[str, Any], names: str
) -> None:
    with pytest.raises(TlsRequired, match=names) as refused:
        tls_options("mysql_default", extra)
    message = str(refused.value)
    assert "mysql_default" in message
    assert "global-bundle.pem" in message and "VERIFY_IDENTITY" in message


def test_verified_tls_gives_the_files_the_clients_need() -> None:
    assert tls_options("mysql_default", VERIFIED) == {"ca": "/ca.pem"}
    as_text = {"ssl": json.dumps({"ca": "/ca.pem"}), "ssl_mode": "verify_ca"}
    assert tls_options("mysql_default", as_text) == {"ca": "/ca.pem"}


def test_a_clear_text_session_is_never_recorded_as_encrypted() -> None:
    class ClearText:
        def execute(self, sql: str) -> None:
            self.sql = sql

        def fetchall(self) -> list[tuple[str, str]]:
            return [("Ssl_cipher", ""), ("Ssl_version", "")]

    with pytest.raises(TlsRequired, match="not encrypted"):
        session_tls(ClearText(), "mysql_default")


@pytest.mark.usefixtures("local_stack")
class TestTheLocalServer:
    def test_refuses_a_client_without_tls(self, settings: LocalSettings) -> None:
        """MariaDB answers clear text as access denied; the same login over TLS gets in."""
        clear = settings.mysql_arguments("mysql_default", ssl=None, ssl_disabled=True)
        with pytest.raises(pymysql.err.OperationalError) as refused:
            pymysql.connect(**clear)
        assert refused.value.args[0] == 1045
        pymysql.connect(**settings.mysql_arguments("mysql_default")).close()

    def test_a_verified_session_is_encrypted_and_recorded(self, settings: LocalSettings) -> None:
        with pymysql.connect(**settings.mysql_arguments("mysql_default")) as db:
            tls = session_tls(db.cursor(), "mysql_default")
        assert tls["encrypted"] and tls["protocol"].startswith("TLSv1.")
        assert tls["cipher"]

    def test_the_hook_connection_verifies_the_server(self) -> None:
        """Through the provider's hook (mysqlclient), as the tasks connect."""
        db = open_mysql("mysql_default")
        try:
            assert session_tls(db.cursor(), "mysql_default")["encrypted"]
        finally:
            db.close()

    def test_a_server_certificate_the_ca_did_not_sign_is_refused(
        self, settings: LocalSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        import MySQLdb

        from include.dr.local_stack.mariadb_tls import ensure_server_tls

        stranger = ensure_server_tls(tmp_path / "other-ca.pem").ca
        arguments = settings.mysql_arguments("mysql_default")
        with pytest.raises(pymysql.err.OperationalError, match="CERTIFICATE_VERIFY_FAILED"):
            pymysql.connect(**{**arguments, "ssl": {"ca": str(stranger)}})
        # The tasks' hook (mysqlclient) checks it too.
        conn = settings.connection("mysql_default")
        trusting_a_stranger = {**conn, "extra": {**conn["extra"], "ssl": {"ca": str(stranger)}}}
        monkeypatch.setenv("AIRFLOW_CONN_MYSQL_STRANGER", json.dumps(trusting_a_stranger))
        with pytest.raises(MySQLdb.OperationalError):
            open_mysql("mysql_stranger")
        # The dump's client too, through the same options file it is run with.
        conn = settings.connection("mysql_default")
        options = options_file(
            tmp_path, {**conn, "extra": {**conn["extra"], "ssl": {"ca": str(stranger)}}}
        )
        client = find_client("mariadb", "mysql")
        done = subprocess.run(  # noqa: S603 - fixed argv
            [client, f"--defaults-extra-file={options}", "-e", "SELECT 1"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode != 0
        assert "certificate" in done.stderr.lower() or "tls" in done.stderr.lower()
