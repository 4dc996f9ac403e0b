"""The pack's signature: KMS signs the SHA-256 of a file with the DR account's asymmetric
key, whose private half never leaves KMS; anyone may check it with the public key.

The key is part of the estate (``infra/dr.json``: :data:`SIGNING_ALIAS`); only the DR
writer role may sign with it, and every principal of the production account is denied.
KMS signs a message over 4 KiB only as its digest, so the manifest's SHA-256 is sent
(``MessageType=DIGEST``): the signature is the one ``openssl dgst -sha256 -verify``
checks over the file itself.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Protocol

SIGNING_ALIAS = "alias/backup-evidence-signing"
KEY_SPEC = "ECC_NIST_P256"
ALGORITHM = "ECDSA_SHA_256"


class Signer(Protocol):
    """What signs a pack: a key with a name, an algorithm and a public half."""

    key_arn: str
    algorithm: str
    public_key_der: bytes

    def sign(self, data: bytes) -> bytes: ...


def fingerprint(public_key_der: bytes) -> str:
    """The public key's SHA-256 over its DER SubjectPublicKeyInfo, as ``sha256sum`` of
    the bytes ``aws kms get-public-key`` returns."""
    return hashlib.sha256(public_key_der).hexdigest()


def pem(public_key_der: bytes) -> str:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_der_public_key(public_key_der)
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


@dataclass
class KmsSigner:
    """Signs with a KMS key (by alias or ARN); the public key is read once from KMS."""

    kms: Any
    key_id: str = SIGNING_ALIAS
    algorithm: str = ALGORITHM
    key_arn: str = ""
    public_key_der: bytes = b""

    def __post_init__(self) -> None:
        answer = self.kms.get_public_key(KeyId=self.key_id)
        self.key_arn = str(answer["KeyId"])
        if not self.key_arn.startswith("arn:"):  # KMS answers the ARN; moto the bare id
            self.key_arn = str(self.kms.describe_key(KeyId=self.key_id)["KeyMetadata"]["Arn"])
        self.public_key_der = bytes(answer["PublicKey"])
        if self.algorithm not in answer.get("SigningAlgorithms", [self.algorithm]):
            from include.dr.errors import Permanent

            raise Permanent(
                f"the key {self.key_arn} ({self.key_id}) does not sign with {self.algorithm}; "
                f"it offers {answer.get('SigningAlgorithms')}. Deploy infra/dr.json, which "
                f"makes it {KEY_SPEC}, SIGN_VERIFY"
            )

    def sign(self, data: bytes) -> bytes:
        answer = self.kms.sign(
            KeyId=self.key_id,  # by alias: what the IAM policy names
            Message=hashlib.sha256(data).digest(),
            MessageType="DIGEST",
            SigningAlgorithm=self.algorithm,
        )
        return bytes(answer["Signature"])
