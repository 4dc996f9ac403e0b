"""The policy's KMS key resolved to an ARN: a missing or disabled key is permanent
everywhere (never retried); KMS asking to try again later is transient."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from include.dr.errors import Permanent, Transient
from include.dr.kms import KeyUnavailable, resolve_key


class Kms:
    def __init__(self, answer: dict[str, Any] | None = None, error: str = "", status: int = 400):
        self.answer, self.error, self.status = answer, error, status

    def describe_key(self, KeyId: str) -> dict[str, Any]:  # noqa: N803
        if self.error:
            raise ClientError(
                {
                    "Error": {"Code": self.error},
                    "ResponseMetadata": {"HTTPStatusCode": self.status},
                },
                "DescribeKey",
            )
        return {"KeyMetadata": self.answer}


ARN = "arn:aws:kms:eu-west-1:1:key/k"


def test_an_enabled_key_resolves_to_its_arn() -> None:
    assert resolve_key(Kms({"Arn": ARN, "KeyState": "Enabled"}), "alias/dr", "eu-west-1") == ARN  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kms", "problem"),
    [
        (Kms(error="NotFoundException"), r"was not found in eu-west-1 \(NotFoundException\)"),
        (Kms(error="AccessDeniedException"), "was not found"),
        (Kms({"Arn": ARN, "KeyState": "Disabled"}), "is Disabled; enable it"),
        (Kms({"Arn": ARN, "KeyState": "PendingDeletion"}), "is PendingDeletion"),
    ],
)
def test_a_missing_or_disabled_key_is_permanent(kms: Kms, problem: str) -> None:
    with pytest.raises(KeyUnavailable, match=problem) as unavailable:
        resolve_key(kms, "alias/dr", "eu-west-1")  # type: ignore[arg-type]
    assert isinstance(unavailable.value, Permanent)


def test_kms_throttling_is_transient_not_a_missing_key() -> None:
    with pytest.raises(Transient, match="ThrottlingException"):
        resolve_key(Kms(error="ThrottlingException"), "alias/dr", "eu-west-1")  # type: ignore[arg-type]
