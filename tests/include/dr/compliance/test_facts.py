"""Facts behind the clauses: an empty repository has no bundle to encrypt, and a check
that could not be made is named n/a, never counted a pass."""

from __future__ import annotations

from datetime import UTC, datetime

from include.dr.compliance import clauses
from include.dr.compliance.facts import encryption
from include.dr.evidence import EvidenceRecord

KEY = "arn:aws:kms:eu-west-1:123456789012:key/dr"


def git_record(repository: str, details: dict[str, object]) -> EvidenceRecord:
    return EvidenceRecord(
        "git_backup",
        f"git/social-workshop/{repository}",
        "git_backup",
        "scheduled__1",
        "pass",
        details,
        datetime(2026, 11, 27, 2, tzinfo=UTC),
    )


def test_an_empty_repository_does_not_fail_the_encryption_clause() -> None:
    good = {
        "git/social-workshop/empty": [git_record("empty", {"verdict": "empty", "refs": {}})],
        "git/social-workshop/web": [
            git_record("web", {"verdict": "bundled", "bundle": {"key_fingerprint": "ab12"}})
        ],
    }
    verdict = encryption(good, KEY, [])
    assert verdict.status == "pass" and verdict.text == "1 checks hold"


def test_a_bundle_without_its_key_still_fails_the_encryption_clause() -> None:
    good = {"git/social-workshop/web": [git_record("web", {"verdict": "bundled", "bundle": {}})]}
    verdict = encryption(good, KEY, [])
    assert verdict.status == "fail" and "git/social-workshop/web bundle" in verdict.text


def test_a_check_not_made_is_named_n_a_and_neither_passes_nor_fails() -> None:
    checks: list[clauses.CheckFact] = [
        ("s3://dr dr_bucket_encryption", True, KEY),
        ("s3://dr dr_bucket_tls_only", None, "not checked: the local stack"),
    ]
    verdict = clauses.checks_held("encryption", "Encrypted; TLS only", checks)
    assert verdict.status == "pass"
    assert verdict.text == (
        "1 checks hold; n/a: s3://dr dr_bucket_tls_only: not checked: the local stack"
    )
    failing = clauses.checks_held("e", "t", [*checks, ("s3://dr other", False, "off")])
    assert failing.status == "fail" and failing.text == "s3://dr other: off"


def test_a_clause_whose_every_check_was_n_a_is_never_a_pass() -> None:
    verdict = clauses.checks_held("tls", "TLS only", [("s3://dr tls", None, "not checked")])
    assert verdict.status == "warn"
    assert verdict.text.startswith("nothing could be checked here")
