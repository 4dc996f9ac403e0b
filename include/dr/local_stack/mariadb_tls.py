"""The local MariaDB's TLS: a throwaway certificate authority and a server certificate.

RDS requires TLS when its ``require_secure_transport`` parameter is on, and the product
always asks for it with the RDS CA bundle and checks the server's name. The local
server is started the same way (``--require-secure-transport``), so a client that
forgets TLS, or does not check the certificate, fails here as it would on AWS. The CA
sits where the ``mysql_default`` connection's ``ssl.ca`` says; the server's key never
leaves the state folder.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

VALID_DAYS = 825  # the longest a server certificate may live for clients that check


@dataclass(frozen=True)
class ServerTls:
    """The files ``mariadbd`` needs for TLS."""

    ca: Path
    cert: Path
    key: Path

    def server_options(self) -> list[str]:
        return [
            f"--ssl-ca={self.ca}",
            f"--ssl-cert={self.cert}",
            f"--ssl-key={self.key}",
            "--require-secure-transport=ON",
        ]


def server_tls(ca: Path) -> ServerTls:
    """Where the server's certificate and key sit, beside the CA the clients trust."""
    return ServerTls(ca, ca.with_name("server-cert.pem"), ca.with_name("server-key.pem"))


def ensure_server_tls(ca: Path) -> ServerTls:
    """Make the CA and a server certificate for 127.0.0.1 and localhost, once."""
    tls = server_tls(ca)
    if tls.ca.is_file() and tls.cert.is_file() and tls.key.is_file():
        return tls
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Local stack MySQL CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    tls.ca.parent.mkdir(parents=True, exist_ok=True)
    tls.key.touch(mode=0o600)
    tls.key.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    tls.cert.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    tls.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    return tls
