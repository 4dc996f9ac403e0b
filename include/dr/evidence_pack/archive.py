"""The pack as one zip archive: the files, a manifest of their SHA-256 digests (JSON,
and ``SHA256SUMS`` for ``sha256sum -c``), both signed, and the signature's description.

Written byte for byte the same for the same files and signature (fixed timestamps,
sorted names), so a pack's digest depends only on what it holds.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Mapping
from typing import Any

from include.dr.errors import Permanent
from include.dr.evidence_pack.signing import Signer, fingerprint, pem
from include.dr.evidence_pack.verify import (
    MANIFEST,
    MANIFEST_SIG,
    SIGNATURE,
    SUMS,
    SUMS_SIG,
    UNLISTED,
)

EPOCH = (1980, 1, 1, 0, 0, 0)  # zip's earliest time: no build time leaks into the bytes


def sums(files: Mapping[str, bytes]) -> bytes:
    """``sha256sum`` lines, sorted by path."""
    return "".join(
        f"{hashlib.sha256(body).hexdigest()}  {path}\n" for path, body in sorted(files.items())
    ).encode()


def manifest(files: Mapping[str, bytes], about: Mapping[str, Any]) -> bytes:
    """Every file's path, size and SHA-256, with what the pack is about."""
    entries = [
        {"path": path, "size": len(body), "sha256": hashlib.sha256(body).hexdigest()}
        for path, body in sorted(files.items())
    ]
    return (json.dumps({**about, "files": entries}, indent=2, sort_keys=True) + "\n").encode()


def build_archive(files: Mapping[str, bytes], signer: Signer, about: Mapping[str, Any]) -> bytes:
    """The signed archive of ``files`` (path -> bytes)."""
    clash = sorted(set(files) & (UNLISTED | {SUMS}))
    if clash or any(p.startswith("/") or ".." in p.split("/") for p in files):
        raise Permanent(f"a pack cannot hold {clash or 'paths outside it'}")
    listed = {**files, SUMS: sums(files)}
    manifest_bytes = manifest(listed, about)
    signature = {
        "key_arn": signer.key_arn,
        "algorithm": signer.algorithm,
        "message_type": "DIGEST (the SHA-256 of the signed file)",
        "signed": {MANIFEST_SIG: MANIFEST, SUMS_SIG: SUMS},
        "manifest_sha256": hashlib.sha256(manifest_bytes).hexdigest(),
        "public_key_pem": pem(signer.public_key_der),
        "public_key_sha256": fingerprint(signer.public_key_der),
        "note": "Do not trust the public key above on its own: compare it with the key "
        "KMS returns for key_arn (aws kms get-public-key), or with a fingerprint you were given.",
    }
    everything = {
        **listed,
        MANIFEST: manifest_bytes,
        MANIFEST_SIG: signer.sign(manifest_bytes),
        SUMS_SIG: signer.sign(listed[SUMS]),
        SIGNATURE: (json.dumps(signature, indent=2, sort_keys=True) + "\n").encode(),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(everything):
            info = zipfile.ZipInfo(path, EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, everything[path])
    return buffer.getvalue()


def describe(pack: bytes) -> dict[str, Any]:
    """What the record announcing a pack says of it: digests, key, counts."""
    with zipfile.ZipFile(io.BytesIO(pack)) as archive:
        manifest_bytes = archive.read(MANIFEST)
        signature = json.loads(archive.read(SIGNATURE))
    listed = json.loads(manifest_bytes)["files"]
    return {
        "sha256": hashlib.sha256(pack).hexdigest(),
        "size": len(pack),
        "manifest_sha256": hashlib.sha256(manifest_bytes).hexdigest(),
        "signing_key_arn": signature["key_arn"],
        "algorithm": signature["algorithm"],
        "public_key_sha256": signature["public_key_sha256"],
        "files": len(listed),
    }
