"""Bundle encryption at rest: AES-256-GCM in fixed-size chunks (the STREAM construction).

One GCM message has a size limit and must be held whole to be authenticated, so
a bundle is cut into 1 MiB chunks, each sealed with AES-256-GCM under a nonce
made of a random per-file prefix, the chunk's counter and a last-chunk flag.
Chunks cannot be reordered, dropped or cut off without decryption failing. The
file's header (magic, nonce prefix, chunk size and a label naming the repository
and day) is authenticated with every chunk, so a bundle renamed to pose as
another repository's, or another day's, fails to decrypt.

The key is 32 random bytes, base64 in an Airflow connection's password; only
its fingerprint (a SHA-256 prefix) ever goes into evidence.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import struct
from collections.abc import Iterator
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from include.dr.errors import Permanent

MAGIC = b"SWLGITB1"
CHUNK = 1024 * 1024
MAX_CHUNK = 64 * 1024 * 1024
_TAG = 16
_PREFIX = 7
_URLSAFE = str.maketrans("-_", "+/")
_HEADER = struct.Struct(f">{len(MAGIC)}s{_PREFIX}sIH")


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class Writable(Protocol):
    def write(self, data: bytes, /) -> int: ...


class BundleKeyError(Permanent):
    """The bundle key is missing or malformed; the message says how to make one."""


class BundleDecryptError(Permanent):
    """The file is not a bundle sealed with this key, or it was altered or cut short
    (retrying cannot mend either)."""


def load_key(encoded: str | None, conn_id: str) -> bytes:
    """The 32-byte key from a connection's password (standard or URL-safe base64)."""
    hint = (
        f"set the password of the Airflow connection {conn_id!r} to 32 random bytes in base64, "
        'e.g. the output of: python -c "import os, base64; print(base64.b64encode(os.urandom(32))'
        '.decode())"'
    )
    if not encoded:
        raise BundleKeyError(f"no bundle encryption key: {hint}")
    try:
        key = base64.b64decode(encoded.strip().translate(_URLSAFE), validate=True)
    except (binascii.Error, ValueError):
        raise BundleKeyError(f"the bundle key is not base64: {hint}") from None
    if len(key) != 32:
        raise BundleKeyError(f"the bundle key is {len(key)} bytes, AES-256 needs 32: {hint}")
    return key


def fingerprint(key: bytes) -> str:
    """Names the key in evidence without revealing it (rotation shows as a new fingerprint)."""
    return hashlib.sha256(b"bundle-key:" + key).hexdigest()[:16]


def encrypt(
    source: Readable, target: Writable, key: bytes, label: str, chunk_size: int = CHUNK
) -> int:
    """Seal everything read from ``source`` into ``target``; returns the bytes written."""
    aead = AESGCM(key)
    prefix = os.urandom(_PREFIX)
    label_bytes = label.encode()
    header = _HEADER.pack(MAGIC, prefix, chunk_size, len(label_bytes)) + label_bytes
    target.write(header)
    written = len(header)
    counter = 0
    chunk = _read_full(source, chunk_size)
    while True:
        following = _read_full(source, chunk_size) if len(chunk) == chunk_size else b""
        last = not following
        sealed = aead.encrypt(_nonce(prefix, counter, last), chunk, header)
        target.write(sealed)
        written += len(sealed)
        if last:
            return written
        counter += 1
        chunk = following


def decrypt(source: Readable, key: bytes) -> tuple[str, Iterator[bytes]]:
    """The label, and the plaintext chunk by chunk; a chunk is yielded only once it is
    authenticated, and a cut-off or altered file raises before its end is reached."""
    fixed = _read_full(source, _HEADER.size)
    if len(fixed) != _HEADER.size:
        raise BundleDecryptError("too short to be an encrypted bundle")
    magic, prefix, chunk_size, label_length = _HEADER.unpack(fixed)
    if magic != MAGIC:
        raise BundleDecryptError("not an encrypted bundle (unknown header)")
    if not 0 < chunk_size <= MAX_CHUNK:
        raise BundleDecryptError(f"chunk size {chunk_size} is out of range; the header is damaged")
    label_bytes = _read_full(source, label_length)
    header = fixed + label_bytes

    def chunks() -> Iterator[bytes]:
        aead = AESGCM(key)
        counter = 0
        sealed = _read_full(source, chunk_size + _TAG)
        while True:
            following = (
                _read_full(source, chunk_size + _TAG) if len(sealed) == chunk_size + _TAG else b""
            )
            last = not following
            try:
                yield aead.decrypt(_nonce(prefix, counter, last), sealed, header)
            except InvalidTag:
                raise BundleDecryptError(
                    f"chunk {counter} does not authenticate: wrong key, or the file was "
                    "altered or cut short"
                ) from None
            if last:
                return
            counter += 1
            sealed = following

    return label_bytes.decode(errors="replace"), chunks()  # authenticated with chunk 0


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    return prefix + struct.pack(">I?", counter, last)


def _read_full(source: Readable, size: int) -> bytes:
    parts = []
    remaining = size
    while remaining:
        part = source.read(remaining)
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)
