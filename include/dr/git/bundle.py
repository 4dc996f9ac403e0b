"""One dated, encrypted ``git bundle --all`` per repository per day, made on the worker.

A mirror follows upstream's force-pushes and branch deletions; yesterday's bundle
does not. The bundle is streamed from ``git bundle create -`` through the cipher
straight into a hidden partial file, so plaintext never touches the disk. It is
then proved before it is named: decrypted back in full (every chunk
authenticates and the plaintext's SHA-256 equals what git wrote), checked by
``git bundle verify``, renamed into place, and described by a sidecar JSON
written last. A day that already has a sidecar is never written again, so a
re-run cannot replace a good bundle, and a full disk leaves only a partial
file that is removed, never a truncated bundle. The bundle is then uploaded to the
DR bucket, whose copy is the bundle of record (:mod:`include.dr.git.bundle_store`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from include.dr.git import crypto
from include.dr.git.remote import GitFailed, git_binary
from include.dr.progress import Progress
from include.dr.store import cache_dir
from include.dr.tags import OWNER_VALUE

SIDECAR_SUFFIX = ".json"


@dataclass(frozen=True)
class BundleRecord:
    """The sidecar of one bundle, and its evidence."""

    repository: str
    day: str
    file: str
    size: int
    sha256: str
    plaintext_sha256: str
    refs: dict[str, str]
    key_fingerprint: str
    completed_at: str
    verified: bool
    seconds: float
    managed_by: str = OWNER_VALUE

    @classmethod
    def read(cls, sidecar: Path) -> BundleRecord:
        return cls(**json.loads(sidecar.read_text()))


def bundles_dir() -> Path:
    """This worker's cache of dated bundles: ``<org>/<repository>/<day>.bundle.enc``. The
    bundles of record are in the DR bucket (:mod:`include.dr.git.bundle_store`)."""
    return cache_dir() / "git" / "bundles"


def bundle_path(bundles: Path, organisation: str, name: str, day: str) -> Path:
    return bundles / organisation / name / f"{day}.bundle.enc"


def sidecar_path(bundle: Path) -> Path:
    return bundle.with_name(bundle.name.removesuffix(".bundle.enc") + SIDECAR_SUFFIX)


def label(repository: str, day: str) -> str:
    """Bound into the ciphertext: a bundle renamed to another repository or day fails."""
    return f"{repository}@{day}"


def write_bundle(
    mirror: Path, target: Path, key: bytes, repository: str, day: str
) -> tuple[BundleRecord, bool]:
    """The day's verified bundle, and whether this call made it (False: it existed)."""
    sidecar = sidecar_path(target)
    if sidecar.exists():
        return BundleRecord.read(sidecar), False
    started = time.monotonic()
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if target.exists():
        # Renamed but never described: an earlier attempt stopped in between. Keep it aside.
        target.rename(target.with_name(f".{target.name}.unverified-{uuid.uuid4().hex[:8]}"))
    partial = target.with_name(f".{target.name}.partial-{uuid.uuid4().hex[:8]}")
    try:
        progress = Progress(
            f"writing the bundle of {repository} for {day}",
            total_bytes=packed_size(mirror) or None,  # an estimate: the bundle is about its pack
            unit="bytes",
        )
        with progress:
            plain_digest = _create_encrypted(mirror, partial, key, label(repository, day), progress)
        refs = verify_bundle(mirror, partial, key, label(repository, day), plain_digest)
        partial.rename(target)
    finally:
        partial.unlink(missing_ok=True)
    record = BundleRecord(
        repository=repository,
        day=day,
        file=target.name,
        size=target.stat().st_size,
        sha256=file_sha256(target),
        plaintext_sha256=plain_digest,
        refs=refs,
        key_fingerprint=crypto.fingerprint(key),
        completed_at=datetime.now(UTC).isoformat(),
        verified=True,
        seconds=round(time.monotonic() - started, 3),
    )
    _write_atomically(sidecar, json.dumps(asdict(record), indent=2, sort_keys=True))
    return record, True


def packed_size(mirror: Path) -> int:
    """The mirror's packs and loose objects in bytes: near what ``git bundle --all`` writes."""
    objects = mirror / "objects"
    if not objects.is_dir():
        return 0
    return sum(f.stat().st_size for f in objects.rglob("*") if f.is_file())


def _create_encrypted(
    mirror: Path,
    partial: Path,
    key: bytes,
    bundle_label: str,
    progress: Progress | None = None,
) -> str:
    """Stream ``git bundle create`` through the cipher into ``partial``; the plaintext digest."""
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(  # noqa: S603 - fixed argv
            [git_binary(), "--git-dir", str(mirror), "bundle", "create", "--quiet", "-", "--all"],
            stdout=subprocess.PIPE,
            stderr=errors,
        )
        assert process.stdout is not None
        hashing = _HashingReader(process.stdout, progress)
        try:
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                crypto.encrypt(hashing, out, key, bundle_label)
                out.flush()
                os.fsync(out.fileno())
        finally:
            process.stdout.close()
            code = process.wait()
        if code != 0:
            errors.seek(0)
            raise GitFailed(f"git bundle create failed ({code}): {errors.read().decode().strip()}")
    return hashing.digest.hexdigest()


def verify_bundle(
    mirror: Path, bundle: Path, key: bytes, expected_label: str, plaintext_sha256: str
) -> dict[str, str]:
    """Decrypt in full and let ``git bundle verify`` read it; return the bundle's refs.

    Raises :class:`crypto.BundleDecryptError` or :class:`GitFailed` when it does not hold.
    """
    digest = hashlib.sha256()
    header = bytearray()
    with bundle.open("rb") as sealed, tempfile.TemporaryFile() as errors:
        found_label, chunks = crypto.decrypt(sealed, key)
        if found_label != expected_label:
            raise crypto.BundleDecryptError(
                f"{bundle.name} is sealed as {found_label!r}, not {expected_label!r}"
            )
        process = subprocess.Popen(  # noqa: S603 - fixed argv
            [git_binary(), "--git-dir", str(mirror), "bundle", "verify", "--quiet", "/dev/stdin"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
        assert process.stdin is not None
        feeding = True
        try:
            for chunk in chunks:
                digest.update(chunk)
                if b"\n\n" not in header:
                    header += chunk[: 1024 * 1024]
                if feeding:
                    try:
                        process.stdin.write(chunk)
                    except BrokenPipeError:
                        feeding = False  # verify has read what it needs
        finally:
            with contextlib.suppress(BrokenPipeError):
                process.stdin.close()
            code = process.wait()
        if code != 0:
            errors.seek(0)
            raise GitFailed(f"git bundle verify failed: {errors.read().decode().strip()}")
    if digest.hexdigest() != plaintext_sha256:
        raise crypto.BundleDecryptError(
            f"{bundle.name} decrypts to other bytes than git wrote "
            f"(sha256 {digest.hexdigest()}, expected {plaintext_sha256})"
        )
    return bundle_refs(bytes(header))


def bundle_refs(header: bytes) -> dict[str, str]:
    """The refs a bundle's header lists (``<sha> <ref>`` lines after the signature)."""
    lines = header.split(b"\n\n", 1)[0].decode(errors="replace").splitlines()[1:]
    refs = {}
    for line in lines:
        if line and line[0] not in "-@":  # prerequisites and v3 capabilities
            sha, ref = line.split(" ", 1)
            refs[ref] = sha
    return refs


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    try:
        temporary.write_text(text)
        with temporary.open("rb") as handle:
            os.fsync(handle.fileno())
        temporary.rename(path)
    finally:
        temporary.unlink(missing_ok=True)


class _HashingReader:
    """A read-only stream that hashes what passes through it."""

    def __init__(self, source: IO[bytes], progress: Progress | None = None) -> None:
        self.source = source
        self.digest = hashlib.sha256()
        self.progress = progress

    def read(self, size: int = -1) -> bytes:
        data = self.source.read(size)
        self.digest.update(data)
        if self.progress is not None:
            self.progress.advance(bytes=len(data))
        return data
