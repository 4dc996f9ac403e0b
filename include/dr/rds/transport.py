"""TLS to MySQL: required of every connection the product opens, and recorded.

A dump or a manifest read in clear text would put the customer data on the network
unencrypted, and a client that does not check the server's certificate can be led to
an impostor. So a MySQL connection must name a CA (on AWS the RDS CA bundle) and ask
for the server's name to be checked (``ssl_mode`` ``VERIFY_IDENTITY``) before the
product opens it; the negotiated protocol and cipher are then read from the session
itself and go into the evidence as "encrypted in transit".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypedDict

from include.dr.errors import Permanent

RDS_CA_BUNDLE = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"
VERIFYING_MODES = ("VERIFY_IDENTITY", "VERIFY_CA")
_FIX = (
    'set its extra to {"ssl": {"ca": "/opt/airflow/rds-ca/global-bundle.pem"}, '
    f'"ssl_mode": "VERIFY_IDENTITY"}} with the RDS CA bundle ({RDS_CA_BUNDLE}; the image '
    "has it at that path)"
)


class TlsRequired(Permanent):
    """A MySQL connection that would not be encrypted, or not checked, is never opened."""


class InTransit(TypedDict):
    """How a session with the database was protected, as the server reported it."""

    encrypted: bool
    protocol: str
    cipher: str
    server_verified: bool  # the client checked the certificate against the CA and name


def tls_options(conn_id: str, extra: Mapping[str, Any]) -> dict[str, str]:
    """The connection's TLS files (``ca``, and ``cert``/``key`` for client certificates);
    refused by field, naming the fix, when TLS or the server check is not asked for."""
    ssl = extra.get("ssl") or {}
    if isinstance(ssl, str):
        ssl = json.loads(ssl)
    if not isinstance(ssl, Mapping) or not ssl.get("ca"):
        raise TlsRequired(
            f"the {conn_id} connection names no TLS CA (extra ssl.ca), and the product never "
            f"reads a database in clear text: {_FIX}"
        )
    mode = str(extra.get("ssl_mode") or "").upper()
    if mode not in VERIFYING_MODES:
        raise TlsRequired(
            f"the {conn_id} connection's extra ssl_mode is {mode or 'unset'}, so the server's "
            f"certificate would not be checked: {_FIX}"
        )
    return {key: str(value) for key, value in ssl.items() if key in ("ca", "cert", "key")}


def session_tls(cursor: Any, conn_id: str) -> InTransit:
    """The open session's TLS, as the server sees it; refused when it is not encrypted."""
    cursor.execute("SHOW SESSION STATUS WHERE Variable_name IN ('Ssl_version', 'Ssl_cipher')")
    status = {str(name): str(value or "") for name, value in cursor.fetchall()}
    if not status.get("Ssl_cipher"):
        raise TlsRequired(
            f"the session on {conn_id} is not encrypted although TLS was asked for; check "
            "that the server has TLS enabled (on RDS, require_secure_transport = 1)"
        )
    return {
        "encrypted": True,
        "protocol": status.get("Ssl_version", ""),
        "cipher": status["Ssl_cipher"],
        "server_verified": True,
    }


def open_mysql(conn_id: str, schema: str | None = None) -> Any:
    """A DB-API connection through the provider's hook, only once the connection asks
    for verified TLS."""
    from airflow.providers.mysql.hooks.mysql import MySqlHook

    hook = MySqlHook(mysql_conn_id=conn_id, **({"schema": schema} if schema else {}))
    tls_options(conn_id, hook.get_connection(conn_id).extra_dejson)
    return hook.get_conn()
