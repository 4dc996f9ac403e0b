"""make aws-smoke: what it asks AWS's evaluator, and that it skips plainly without
credentials."""

from __future__ import annotations

from typing import Any

import pytest

from include.dr.iam.actions import Grant
from include.dr.infra import smoke
from include.dr.policy.loader import load_policy


class Evaluator:
    """iam:SimulatePrincipalPolicy answering from a fixed set of allowed pairs."""

    def __init__(self, allowed: set[tuple[str, str]]) -> None:
        self.allowed, self.asked = allowed, []

    def simulate_principal_policy(self, **request: Any) -> dict[str, Any]:
        self.asked.append(request)
        (resource,) = request["ResourceArns"]
        return {
            "EvaluationResults": [
                {
                    "EvalActionName": action,
                    "EvalDecision": "allowed"
                    if (action, resource) in self.allowed
                    else "implicitDeny",
                }
                for action in request["ActionNames"]
            ]
        }


def test_each_refused_grant_is_named_with_its_resource() -> None:
    iam = Evaluator({("s3:GetObject", "arn:aws:s3:::b/smoke-test")})
    refused = smoke.simulate(
        iam,
        "arn:aws:iam::1:role/r",
        [Grant("s3:GetObject", "arn:aws:s3:::b/*"), Grant("s3:PutObject", "arn:aws:s3:::b/*")],
    )
    assert refused == ["s3:PutObject on arn:aws:s3:::b/smoke-test: implicitDeny"]
    assert iam.asked[0]["PolicySourceArn"] == "arn:aws:iam::1:role/r"


def test_a_dry_run_of_each_restore_writes_nothing() -> None:
    requests = smoke.dry_runs(load_policy())
    assert set(requests) == {"restore_s3", "restore_rds", "restore_git"}
    assert all(request["dry_run"] is True for request in requests.values())


def test_without_credentials_it_says_it_skipped(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(smoke, "credentials_present", lambda: False)
    assert smoke.main() == 0
    assert "skipped: no AWS credentials" in capsys.readouterr().out
