"""Whether a fault is retried is answered by its class, at one boundary."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from include.dr.errors import Permanent, Transient, from_client_error, is_not_found
from include.dr.task_boundary import PermanentFailure, at_boundary, task_boundary


def client_error(code: str, status: int = 400) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "Op",
    )


@pytest.mark.parametrize("code", ["404", "NoSuchKey", "NotFound", "DBSnapshotNotFound"])
def test_not_found_answers_are_recognised_across_services(code: str) -> None:
    assert is_not_found(client_error(code))


@pytest.mark.parametrize("code", ["AccessDenied", "SlowDown", "KMSInvalidStateException"])
def test_other_answers_are_not_not_found(code: str) -> None:
    assert not is_not_found(client_error(code))


@pytest.mark.parametrize(
    ("code", "status", "kind"),
    [
        ("SlowDown", 503, Transient),
        ("ThrottlingException", 400, Transient),
        ("InternalError", 500, Transient),
        ("AccessDenied", 403, Permanent),
        ("KMSInvalidStateException", 400, Permanent),  # a disabled key: retrying cannot mend it
        ("NoSuchBucket", 404, Permanent),
    ],
)
def test_aws_answers_are_classified(code: str, status: int, kind: type[Exception]) -> None:
    error = from_client_error(client_error(code, status), "copying swl-uploads")
    assert type(error) is kind
    assert "copying swl-uploads" in str(error) and code in str(error)


def test_a_permanent_error_fails_the_task_without_retries() -> None:
    with pytest.raises(PermanentFailure, match="key disabled"), task_boundary():
        raise Permanent("key disabled")


def test_a_transient_error_is_raised_as_it_is_so_airflow_retries() -> None:
    with pytest.raises(Transient), task_boundary():
        raise Transient("throttled")


def test_an_aws_error_is_classified_at_the_boundary() -> None:
    @at_boundary
    def copy() -> None:
        raise client_error("SlowDown", 503)

    @at_boundary
    def encrypt() -> None:
        raise client_error("AccessDeniedException", 400)

    with pytest.raises(Transient):
        copy()
    with pytest.raises(PermanentFailure, match="encrypt"):
        encrypt()
