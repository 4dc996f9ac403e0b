"""A check is pass, fail or n/a: one that could not be made never reads as a pass."""

from __future__ import annotations

from include.dr.checks import Check, failed_checks, status_of


def test_a_check_not_made_is_n_a_never_pass_and_never_failed() -> None:
    check = Check.not_checked(
        "dr_bucket_tls_only", "b", "TLS only", "the local stack cannot deny plain HTTP"
    )
    assert check.status == "n/a" and not check.passed and not check.failed
    record = check.as_dict()
    assert record["status"] == "n/a" and record["passed"] is False
    assert "not checked" in record["found"]


def test_pass_and_fail_keep_their_meaning() -> None:
    held = Check("kms_key", "k", True, "enabled", "Enabled")
    broken = Check("kms_key", "k", False, "enabled", "Disabled", "enable it")
    assert (held.status, held.failed) == ("pass", False)
    assert (broken.status, broken.failed) == ("fail", True)


def test_only_checks_made_that_did_not_hold_are_failures_in_evidence() -> None:
    records = [
        Check("a", "r", True, "e", "f").as_dict(),
        Check("b", "r", False, "e", "f").as_dict(),
        Check.not_checked("c", "r", "e", "why").as_dict(),
        {"name": "d", "passed": False},  # a record written before checks had a status
    ]
    assert [c["name"] for c in failed_checks(records)] == ["b", "d"]
    assert status_of({"passed": True}) == "pass"
