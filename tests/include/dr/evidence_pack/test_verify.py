"""A pack built, signed by KMS and verified without the product; every tampering fails,
naming the file, and a pack re-signed with another key fails against KMS."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from include.dr.evidence import EvidenceStore
from include.dr.evidence_pack import __main__ as cli
from include.dr.evidence_pack.archive import build_archive
from include.dr.evidence_pack.build import build_and_store
from include.dr.evidence_pack.signing import KmsSigner, fingerprint
from include.dr.evidence_pack.stored import EVIDENCE_KIND, read_pack
from include.dr.evidence_pack.verify import verify_pack
from include.dr.policy.loader import load_policy
from include.dr.run_info import RunInfo
from include.dr.store import store_root
from tests.include.dr.evidence_pack.conftest import CREDENTIALS, REGION, Kms, seed_period

RUN = RunInfo("compliance_evidence_pack", "manual__2026-12-01", datetime(2026, 12, 1, tzinfo=UTC))
NOVEMBER = {"start": "2026-11-01", "end": "2026-11-30", "clauses": ["freshness", "window"]}
RECORD = "evidence/git/social-workshop_webapp/git_backup/scheduled__2026-11-13/0001.json"


@pytest.fixture
def pack(store_dir: Path, kms: Kms, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    store = seed_period(store_dir)
    info = build_and_store(
        store_root(),
        NOVEMBER,
        load_policy(),
        lambda: KmsSigner(kms.client),
        RUN,
        store,
        datetime(2026, 12, 1, tzinfo=UTC),
    )
    data = read_pack(info["name"])
    assert data is not None
    path = tmp_path / info["name"]
    path.write_bytes(data)
    return path


def rewritten(pack: Path, change: Callable[[dict[str, bytes]], None]) -> Path:
    with zipfile.ZipFile(pack) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    change(files)
    out = pack.with_name("tampered.zip")
    with zipfile.ZipFile(out, "w") as archive:
        for name, body in files.items():
            archive.writestr(name, body)
    return out


def check(pack: Path, kms: Kms, *extra: str) -> tuple[int, str]:
    buffer = io.StringIO()
    import contextlib

    with contextlib.redirect_stdout(buffer):
        code = cli.main(
            ["verify", str(pack), "--endpoint-url", kms.endpoint, "--region", REGION, *extra]
        )
    return code, buffer.getvalue()


def test_a_built_pack_verifies_against_kms(pack: Path, kms: Kms) -> None:
    code, said = check(pack, kms, "--kms")
    assert code == 0 and said.startswith("VERIFIED"), said
    with zipfile.ZipFile(pack) as archive:
        names = set(archive.namelist())
        signature = json.loads(archive.read("signature.json"))
    assert {
        "summary.pdf",
        "summary.json",
        "manifest.json",
        "manifest.sig",
        "SHA256SUMS",
        "signature.json",
        RECORD,
        "reports/restore-test/2026-11-15-0123456789.html",
    } <= names
    assert signature["key_arn"] == kms.key_arn
    assert signature["algorithm"] == "ECDSA_SHA_256"
    public = kms.client.get_public_key(KeyId=kms.key_arn)["PublicKey"]
    assert signature["public_key_sha256"] == fingerprint(public)


def test_a_key_kms_does_not_know_fails_naming_it_without_a_traceback(pack: Path, kms: Kms) -> None:
    unknown = kms.key_arn.rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000"
    code, said = check(pack, kms, "--key-id", unknown)
    assert code == 1 and said.startswith("FAILED") and f"no public key for {unknown}" in said


def test_a_rerun_finds_its_pack_and_announces_it_once(pack: Path, kms: Kms) -> None:
    store = EvidenceStore(store_root() / "evidence")
    again = build_and_store(
        store_root(),
        NOVEMBER,
        load_policy(),
        lambda: pytest.fail("signed twice"),
        RUN,
        store,
        datetime(2026, 12, 2, tzinfo=UTC),
    )
    assert again["name"] == pack.name and read_pack(pack.name) == pack.read_bytes()
    [record] = store.read(EVIDENCE_KIND, "all")
    details = record.details["pack"]
    assert details["sha256"] == again["sha256"] and details["signing_key_arn"] == kms.key_arn
    assert details["period"]["start"] == "2026-11-01" and details["clauses"] == [
        "freshness",
        "window",
    ]
    assert details["counts"]["exceptions.window breach"] == 1
    assert len(list((store_root() / "evidence-packs").iterdir())) == 1


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda f: f.__setitem__(RECORD, f[RECORD].replace(b"fail", b"pass")), f"{RECORD}: edited"),
        (lambda f: f.__setitem__("evidence/extra.json", b"{}"), "evidence/extra.json: added"),
        (lambda f: f.pop(RECORD), f"{RECORD}: removed"),
        (lambda f: f.__setitem__("summary.pdf", f["summary.pdf"] + b" "), "summary.pdf: edited"),
    ],
    ids=["edited", "added", "removed", "pdf-edited"],
)
def test_tampering_fails_naming_the_file(
    pack: Path, kms: Kms, change: Callable, named: str
) -> None:  # type: ignore[type-arg]
    code, said = check(rewritten(pack, change), kms, "--kms")
    assert code == 1 and said.startswith("FAILED") and named in said, said


def test_a_pack_resigned_with_another_key_fails_against_kms(pack: Path, kms: Kms) -> None:
    """The attacker edits a record, rebuilds manifest and signatures with a key of their
    own and puts its public key in the pack: consistent in itself, refused by KMS's key."""
    with zipfile.ZipFile(pack) as archive:
        files = {n: archive.read(n) for n in archive.namelist()}
        about = {k: v for k, v in json.loads(files["manifest.json"]).items() if k != "files"}
    content = {
        n: b
        for n, b in files.items()
        if n
        not in {"manifest.json", "manifest.sig", "SHA256SUMS", "SHA256SUMS.sig", "signature.json"}
    }
    content[RECORD] = content[RECORD].replace(b"fail", b"pass")
    forged_signer = KmsSigner(kms.client, kms.new_key())
    forged = pack.with_name("forged.zip")
    forged.write_bytes(build_archive(content, forged_signer, about))
    forged_sig = json.loads(zipfile.ZipFile(forged).read("signature.json"))
    forged.write_bytes(
        rewritten(
            forged,
            lambda f: f.__setitem__(
                "signature.json", json.dumps({**forged_sig, "key_arn": kms.key_arn}).encode()
            ),
        ).read_bytes()
    )
    assert verify_pack(forged.read_bytes()).problems == []  # fine by its own embedded key
    code, said = check(forged, kms, "--kms")
    assert code == 1 and "manifest.sig: not a valid ECDSA_SHA_256 signature" in said, said
    code, said = check(
        forged,
        kms,
        "--fingerprint",
        json.loads(zipfile.ZipFile(pack).read("signature.json"))["public_key_sha256"],
    )
    assert code == 1 and "not the fingerprint given" in said, said


def test_nothing_is_called_verified_without_a_trusted_key(
    pack: Path, kms: Kms, tmp_path: Path
) -> None:
    code, said = check(pack, kms)
    assert code == 2 and said.startswith("NOT VERIFIED") and "--public-key" in said
    public = tmp_path / "key.der"
    public.write_bytes(kms.client.get_public_key(KeyId=kms.key_arn)["PublicKey"])
    assert check(pack, kms, "--public-key", str(public))[0] == 0
    print_ = json.loads(zipfile.ZipFile(pack).read("signature.json"))["public_key_sha256"]
    assert check(pack, kms, "--fingerprint", print_)[0] == 0


def test_verifying_loads_nothing_of_airflow(pack: Path, kms: Kms, tmp_path: Path) -> None:
    """An auditor's machine needs the standard library and cryptography, not the product."""
    import subprocess
    import sys

    public = tmp_path / "key.der"
    public.write_bytes(kms.client.get_public_key(KeyId=kms.key_arn)["PublicKey"])
    probe = (
        "import sys; from include.dr.evidence_pack.__main__ import main; "
        f"code = main(['verify', {str(pack)!r}, '--public-key', {str(public)!r}]); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('airflow', 'pydantic', 'boto3'))); "
        "sys.exit(code)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == "[]"
