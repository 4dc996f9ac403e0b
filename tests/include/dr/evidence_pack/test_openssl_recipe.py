"""The README's recipe (openssl, sha256sum and the AWS CLI only) verifies a good pack and
fails a tampered one, naming the file."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from include.dr.project import PROJECT_ROOT
from tests.include.dr.evidence_pack.conftest import CREDENTIALS, REGION, Kms
from tests.include.dr.evidence_pack.test_verify import RECORD, pack, rewritten

RECIPE = PROJECT_ROOT / "include/dr/evidence_pack/verify-with-openssl.sh"
AWS_CLI = PROJECT_ROOT / ".venv/bin/aws"
__all__ = ["pack"]  # the fixture, shared

pytestmark = pytest.mark.skipif(
    not (shutil.which("openssl") and AWS_CLI.exists()), reason="needs openssl and the AWS CLI"
)


def recipe(pack: Path, kms: Kms) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        **CREDENTIALS,
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": kms.endpoint,
        "PATH": f"{AWS_CLI.parent}:{os.environ['PATH']}",
    }
    return subprocess.run(
        ["bash", str(RECIPE), str(pack)], env=env, capture_output=True, text=True, check=False
    )


def test_the_recipe_verifies_a_good_pack(pack: Path, kms: Kms) -> None:
    done = recipe(pack, kms)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("Verified OK") == 2 and done.stdout.rstrip().endswith("VERIFIED")


def test_the_recipe_fails_an_edited_record_naming_it(pack: Path, kms: Kms) -> None:
    edited = rewritten(pack, lambda f: f.__setitem__(RECORD, f[RECORD] + b" "))
    done = recipe(edited, kms)
    assert done.returncode != 0 and f"{RECORD}: FAILED" in done.stdout + done.stderr


def test_the_recipe_fails_an_added_file_naming_it(pack: Path, kms: Kms) -> None:
    added = rewritten(pack, lambda f: f.__setitem__("evidence/planted.json", b"{}"))
    done = recipe(added, kms)
    assert done.returncode != 0 and "added: evidence/planted.json" in done.stderr


def test_the_recipe_fails_a_resigned_manifest(pack: Path, kms: Kms) -> None:
    with zipfile.ZipFile(pack) as archive:
        manifest = archive.read("manifest.json")
    forged = rewritten(
        pack,
        lambda f: f.__setitem__("manifest.json", manifest.replace(b"2026-11-01", b"2026-10-01")),
    )
    done = recipe(forged, kms)
    assert done.returncode != 0 and "Verification failure" in done.stdout + done.stderr
