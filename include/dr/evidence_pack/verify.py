"""Checking a pack without the product: every file against the manifest, and the
manifest against its signature by a public key the checker trusts.

Standard library and ``cryptography`` only, so an auditor runs it from a checkout with
neither Airflow nor the product's settings. The public key inside the pack is never
trusted on its own (whoever could edit the pack could replace key and signature): the
trusted key comes from KMS or from the auditor, or its fingerprint does.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any

MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
MANIFEST_SIG = "manifest.sig"
SUMS_SIG = "SHA256SUMS.sig"
SIGNATURE = "signature.json"
# The files the manifest cannot list: itself and what signs it.
UNLISTED = frozenset({MANIFEST, MANIFEST_SIG, SUMS_SIG, SIGNATURE})


@dataclass
class Verification:
    """What was found: problems (each naming a file), which key was trusted and why."""

    problems: list[str] = field(default_factory=list)
    files: int = 0
    key_arn: str = ""
    trusted: str = ""  # how the key was trusted; empty when it was not

    @property
    def verified(self) -> bool:
        return not self.problems and bool(self.trusted)


def public_key_sha256(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


def _load_public(der_or_pem: bytes) -> Any:
    from cryptography.hazmat.primitives import serialization

    if der_or_pem.lstrip().startswith(b"-----BEGIN"):
        return serialization.load_pem_public_key(der_or_pem)
    return serialization.load_der_public_key(der_or_pem)


def der_of(der_or_pem: bytes) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return bytes(
        _load_public(der_or_pem).public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def signature_holds(public_der: bytes, algorithm: str, data: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is ``algorithm``'s signature of ``data`` by the key."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding

    key = _load_public(public_der)
    digest = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}[
        algorithm[-3:]
    ]
    try:
        if algorithm.startswith("ECDSA_"):
            key.verify(signature, data, ec.ECDSA(digest))
        elif algorithm.startswith("RSASSA_PKCS1_V1_5_"):
            key.verify(signature, data, padding.PKCS1v15(), digest)
        elif algorithm.startswith("RSASSA_PSS_"):
            pss = padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
            key.verify(signature, data, pss, digest)
        else:
            return False
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def verify_pack(
    pack: bytes,
    *,
    trusted_key: bytes | None = None,
    trusted_by: str = "",
    fingerprint: str | None = None,
) -> Verification:
    """Check ``pack``: every file against the manifest, nothing added or missing, and both
    signatures by ``trusted_key`` (DER or PEM, e.g. from KMS), or by the embedded key when
    its SHA-256 equals ``fingerprint``. Without either nothing is called verified."""
    result = Verification()
    try:
        archive = zipfile.ZipFile(io.BytesIO(pack))
    except zipfile.BadZipFile:
        result.problems.append("not a zip archive")
        return result
    with archive:
        names = [i.filename for i in archive.infolist() if not i.is_dir()]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        result.problems += [f"{n}: appears more than once in the archive" for n in duplicates]
        present = {n: archive.read(n) for n in names}
    for required in (MANIFEST, SIGNATURE, MANIFEST_SIG):
        if required not in present:
            result.problems.append(f"{required}: missing")
    if result.problems:
        return result
    try:
        manifest = json.loads(present[MANIFEST])
        listed = {entry["path"]: entry for entry in manifest["files"]}
        signature = json.loads(present[SIGNATURE])
    except (ValueError, KeyError, TypeError) as exc:
        result.problems.append(f"{MANIFEST} or {SIGNATURE}: unreadable ({exc})")
        return result
    result.files = len(listed)
    for path, entry in sorted(listed.items()):
        if path not in present:
            result.problems.append(f"{path}: removed (listed in the manifest, not in the pack)")
            continue
        body = present[path]
        if hashlib.sha256(body).hexdigest() != entry["sha256"] or len(body) != entry["size"]:
            result.problems.append(f"{path}: edited (its SHA-256 differs from the manifest's)")
    for path in sorted(set(present) - set(listed) - UNLISTED):
        result.problems.append(f"{path}: added (in the pack, not in the manifest)")
    if SUMS in present and _sums(present[SUMS]) != {
        p: e["sha256"] for p, e in listed.items() if p != SUMS
    }:
        result.problems.append(f"{SUMS}: differs from {MANIFEST}")
    result.key_arn = str(signature.get("key_arn", ""))
    algorithm = str(signature.get("algorithm", ""))
    embedded = str(signature.get("public_key_pem", "")).encode()
    if trusted_key is not None:
        key, result.trusted = der_of(trusted_key), trusted_by or "the public key given"
    elif fingerprint is not None:
        key = der_of(embedded) if embedded else b""
        found = public_key_sha256(key) if key else "none"
        if found != fingerprint.lower().replace(":", ""):
            result.problems.append(
                f"{SIGNATURE}: its public key's SHA-256 is {found}, not the fingerprint given"
            )
            return result
        result.trusted = f"the embedded key, whose SHA-256 equals the fingerprint {found}"
    else:
        key = der_of(embedded) if embedded else b""
    if not key:
        result.problems.append(f"{SIGNATURE}: names no public key")
        return result
    checks = [(MANIFEST, MANIFEST_SIG)] + ([(SUMS, SUMS_SIG)] if SUMS_SIG in present else [])
    for signed, sig in checks:
        if not signature_holds(key, algorithm, present[signed], present[sig]):
            result.problems.append(
                f"{sig}: not a valid {algorithm or 'unnamed'} signature of {signed} by "
                + ("the trusted key" if result.trusted else "the key the pack names")
            )
    return result


def _sums(text: bytes) -> dict[str, str]:
    found = {}
    for line in text.decode(errors="replace").splitlines():
        digest, _, path = line.partition("  ")
        found[path] = digest
    return found
