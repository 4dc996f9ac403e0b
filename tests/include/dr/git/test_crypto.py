"""Bundle encryption: what goes in comes out, and any change to the file is refused."""

from __future__ import annotations

import base64
import io
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from include.dr.git import crypto

KEY = bytes(range(32))
CHUNK = 64


def seal(data: bytes, label: str = "org/repo@2026-11-27", key: bytes = KEY) -> bytes:
    out = io.BytesIO()
    crypto.encrypt(io.BytesIO(data), out, key, label, chunk_size=CHUNK)
    return out.getvalue()


def unseal(sealed: bytes, key: bytes = KEY) -> tuple[str, bytes]:
    found, chunks = crypto.decrypt(io.BytesIO(sealed), key)
    return found, b"".join(chunks)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=5 * CHUNK) | st.integers(0, 5).map(lambda n: os.urandom(n * CHUNK)))
def test_any_content_round_trips_including_chunk_boundaries(data: bytes) -> None:
    assert unseal(seal(data)) == ("org/repo@2026-11-27", data)


def test_the_ciphertext_does_not_contain_the_plaintext() -> None:
    data = b"refs/heads/main secret-sauce " * 20
    assert b"secret-sauce" not in seal(data)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_flipping_any_byte_is_detected(data: st.DataObject) -> None:
    sealed = bytearray(seal(os.urandom(3 * CHUNK + 7)))
    index = data.draw(st.integers(0, len(sealed) - 1))
    sealed[index] ^= 1 << data.draw(st.integers(0, 7))
    with pytest.raises(crypto.BundleDecryptError):
        unseal(bytes(sealed))


def test_a_file_cut_at_a_chunk_boundary_is_refused() -> None:
    sealed = seal(os.urandom(3 * CHUNK))
    header = len(sealed) - 3 * (CHUNK + 16) - 16  # three full chunks, then an empty last one
    for cut in (header + CHUNK + 16, header + 2 * (CHUNK + 16), len(sealed) - 16):
        with pytest.raises(crypto.BundleDecryptError, match="cut short"):
            unseal(sealed[:cut])


def test_the_wrong_key_is_refused() -> None:
    with pytest.raises(crypto.BundleDecryptError, match="wrong key"):
        unseal(seal(b"data"), key=os.urandom(32))


def test_the_label_is_authenticated() -> None:
    sealed = bytearray(seal(b"data", label="org/repo@2026-11-27"))
    at = sealed.index(b"2026-11-27")
    sealed[at : at + 10] = b"2026-11-28"  # pose as the next day's bundle
    with pytest.raises(crypto.BundleDecryptError):
        unseal(bytes(sealed))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "no bundle encryption key"),
        ("", "no bundle encryption key"),
        ("not base64!", "not base64"),
        (base64.b64encode(b"short").decode(), "is 5 bytes, AES-256 needs 32"),
    ],
)
def test_a_missing_or_bad_key_says_how_to_make_one(value: str | None, message: str) -> None:
    with pytest.raises(crypto.BundleKeyError, match=message) as error:
        crypto.load_key(value, "git_bundle_key")
    assert "git_bundle_key" in str(error.value) and "os.urandom(32)" in str(error.value)


def test_keys_load_from_standard_and_url_safe_base64_and_only_fingerprints_are_shown() -> None:
    key = bytes([251] * 32)  # encodes with + and / (standard) or - and _ (URL-safe)
    assert crypto.load_key(base64.b64encode(key).decode(), "k") == key
    assert crypto.load_key(base64.urlsafe_b64encode(key).decode(), "k") == key
    shown = crypto.fingerprint(key)
    assert len(shown) == 16 and shown not in base64.b64encode(key).decode()
