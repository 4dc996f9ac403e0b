"""The local stack's connections, read from ``airflow_settings.yaml``.

That file is the one source for the local connections: astro-cli loads it into
Airflow, and this module turns it into ``AIRFLOW_CONN_*`` environment variables
for ``make demo`` and the tests, and reads the loopback ports from it so the
servers start where the connections point.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from include.dr.project import PROJECT_ROOT

SETTINGS_FILE = PROJECT_ROOT / "airflow_settings.yaml"
# The bucket of the shared store when it is on S3 (the distributed stack's S3 mode): on
# the DR side, versioned, SSE-KMS with the DR key, like the DR buckets.
STORE_BUCKET = "swl-backup-store"

TLS_FILES = ("ca", "cert", "key")
_FIELDS = {
    "conn_type": "conn_type",
    "conn_host": "host",
    "conn_port": "port",
    "conn_schema": "schema",
    "conn_login": "login",
    "conn_password": "password",
    "conn_description": "description",
}


@dataclass(frozen=True)
class LocalSettings:
    """Connections (as Airflow's JSON form), variables and pools of the local stack."""

    connections: dict[str, dict[str, Any]]
    variables: dict[str, str]
    pools: dict[str, int]

    def airflow_env(self) -> dict[str, str]:
        """``AIRFLOW_CONN_*`` and ``AIRFLOW_VAR_*`` variables for Airflow processes."""
        env = {
            f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(conn)
            for conn_id, conn in self.connections.items()
        }
        env.update({f"AIRFLOW_VAR_{key.upper()}": value for key, value in self.variables.items()})
        return env

    def connection(self, conn_id: str) -> dict[str, Any]:
        return self.connections[conn_id]

    @property
    def moto_port(self) -> int:
        return _port_of(self.connections["aws_default"]["extra"]["endpoint_url"])

    @property
    def mysql_port(self) -> int:
        return int(self.connections["mysql_default"]["port"])

    def mysql_arguments(self, conn_id: str, **overrides: Any) -> dict[str, Any]:
        """PyMySQL's arguments for a local MySQL connection, with its verified TLS."""
        from include.dr.rds.transport import tls_options

        conn = self.connections[conn_id]
        return {
            "host": conn["host"],
            "port": int(conn["port"]),
            "user": conn["login"],
            "password": conn["password"],
            "ssl": tls_options(conn_id, conn.get("extra") or {}),
            **overrides,
        }

    @property
    def mysql_ca(self) -> Path:
        """The CA the MySQL connections trust: the local server's certificates sit beside it."""
        return Path(self.connections["mysql_default"]["extra"]["ssl"]["ca"])

    @property
    def git_daemon_port(self) -> int:
        return _port_of(self.connections["github_default"]["extra"]["git_url"])


def _port_of(url: str) -> int:
    port = urlsplit(url).port
    if port is None:
        raise ValueError(f"{SETTINGS_FILE}: {url!r} names no port; write it as scheme://host:port")
    return port


def _rooted(extra: dict[str, Any]) -> dict[str, Any]:
    """A relative TLS file path (``ssl.ca``) made absolute from the project, as astro-cli
    reads it from the project folder; Airflow's processes may run anywhere."""
    ssl = extra.get("ssl")
    if not isinstance(ssl, dict):
        return extra
    files = {key: str(PROJECT_ROOT / value) for key, value in ssl.items() if key in TLS_FILES}
    return {**extra, "ssl": {**ssl, **files}}


def load_settings(path: Path = SETTINGS_FILE) -> LocalSettings:
    """Parse the astro-cli settings file."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    section = document.get("airflow") or {}
    connections: dict[str, dict[str, Any]] = {}
    for entry in section.get("connections") or []:
        conn: dict[str, Any] = {
            target: entry[source]
            for source, target in _FIELDS.items()
            if entry.get(source) not in (None, "")
        }
        if entry.get("conn_extra"):
            conn["extra"] = _rooted(entry["conn_extra"])
        connections[entry["conn_id"]] = conn
    variables = {
        entry["variable_name"]: str(entry["variable_value"])
        for entry in section.get("variables") or []
    }
    pools = {entry["pool_name"]: int(entry["pool_slot"]) for entry in section.get("pools") or []}
    return LocalSettings(connections=connections, variables=variables, pools=pools)
