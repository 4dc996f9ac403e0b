"""The local moto's corrections (include/dr/local_stack/moto_app.py): a CopyObject names
its checksum algorithm the way an upload would, so a locked bucket takes it as S3 does;
a bucket of another account lets a caller in only when its policy does; a snapshot of
another account is found only when it was shared. First as pure WSGI, then on the
running server."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from include.dr.local_stack.accounts import DR_ACCOUNT, PRODUCTION_ACCOUNT, admin_client
from include.dr.local_stack.moto_app import corrected
from include.dr.local_stack.seed_aws import aws_client
from include.dr.local_stack.settings import LocalSettings
from include.dr.policy.loader import load_policy

POLICY = load_policy()
DR = POLICY.regions.dr


def seen(environ: dict[str, Any]) -> dict[str, Any]:
    received: dict[str, Any] = {}

    def app(env: dict[str, Any], start_response: Any) -> list[bytes]:
        received.update(env)
        return [b""]

    corrected(app)(dict(environ), lambda *args: None)
    return received


def test_a_copy_names_the_algorithm_it_asked_for() -> None:
    copy = {"REQUEST_METHOD": "PUT", "HTTP_X_AMZ_COPY_SOURCE": "/src/key"}
    assert seen(copy)["HTTP_X_AMZ_SDK_CHECKSUM_ALGORITHM"] == "SHA256"
    crc = {**copy, "HTTP_X_AMZ_CHECKSUM_ALGORITHM": "CRC32"}
    assert seen(crc)["HTTP_X_AMZ_SDK_CHECKSUM_ALGORITHM"] == "CRC32"


def test_uploads_and_part_copies_keep_moto_strict() -> None:
    upload = {"REQUEST_METHOD": "PUT"}
    part_copy = {
        "REQUEST_METHOD": "PUT",
        "HTTP_X_AMZ_COPY_SOURCE": "/src/key",
        "QUERY_STRING": "partNumber=1&uploadId=abc",
    }
    for environ in (upload, part_copy, {"REQUEST_METHOD": "GET"}):
        assert "HTTP_X_AMZ_SDK_CHECKSUM_ALGORITHM" not in seen(environ)


def answered(environ: dict[str, Any], owner: Any, grants: Any) -> tuple[str, dict[str, Any]]:
    received: dict[str, Any] = {}
    status: list[str] = []

    def app(env: dict[str, Any], start_response: Any) -> list[bytes]:
        received.update(env)
        start_response("200 OK", [])
        return [b""]

    corrected(app, owner, grants)(dict(environ), lambda code, headers: status.append(code))
    return status[0], received


SIGNED = "AWS4-HMAC-SHA256 Credential=AKIDPROD/20261130/eu-west-1/s3/aws4_request, Signed..."


def test_a_bucket_of_another_account_needs_its_policy_to_let_the_caller_in() -> None:
    owners = {"dr-bucket": "210987654321", "source": "123456789012"}
    granted = {("source", "AKIDPROD")}

    def grants(bucket: str, key: str) -> bool:
        return (bucket, key) in granted or owners[bucket] == "123456789012"

    def ask(path: str, copy_source: str = "") -> str:
        environ = {"REQUEST_METHOD": "PUT", "PATH_INFO": path, "HTTP_AUTHORIZATION": SIGNED}
        if copy_source:
            environ["HTTP_X_AMZ_COPY_SOURCE"] = copy_source
        return answered(environ, owners.get, grants)[0]

    assert ask("/source/key") == "200 OK"
    assert ask("/dr-bucket/key").startswith("403")
    assert ask("/source/key", copy_source="/dr-bucket/key").startswith("403")
    granted.add(("dr-bucket", "AKIDPROD"))
    assert ask("/dr-bucket/key", copy_source="dr-bucket/other%20key") == "200 OK"
    assert ask("/no-such-bucket/key") == "200 OK"  # moto answers NoSuchBucket itself


def test_other_services_and_unsigned_requests_are_not_judged() -> None:
    def refuse(bucket: str, key: str) -> bool:
        return False

    sts = {"PATH_INFO": "/dr-bucket", "HTTP_AUTHORIZATION": SIGNED.replace("/s3/", "/sts/")}
    assert answered(sts, lambda bucket: "210987654321", refuse)[0] == "200 OK"
    assert answered({"PATH_INFO": "/moto-api/"}, lambda bucket: None, refuse)[0] == "200 OK"


@pytest.fixture
def dr_bucket(local_stack: Path, settings: LocalSettings) -> str:
    """A bucket the DR account owns, with nothing granted to production."""
    bucket = f"dr-only-{uuid.uuid4().hex[:8]}"
    s3 = admin_client(settings, DR_ACCOUNT, "s3", DR)
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": DR})
    s3.put_object(Bucket=bucket, Key="backup", Body=b"kept")
    return bucket


def test_production_cannot_reach_a_dr_account_bucket_its_policy_does_not_open(
    dr_bucket: str, settings: LocalSettings
) -> None:
    production = admin_client(settings, PRODUCTION_ACCOUNT, "s3", DR)
    for request in (
        lambda: production.get_object(Bucket=dr_bucket, Key="backup"),
        lambda: production.delete_object(Bucket=dr_bucket, Key="backup"),
        lambda: production.put_bucket_policy(Bucket=dr_bucket, Policy="{}"),
    ):
        with pytest.raises(ClientError, match="AccessDenied"):
            request()
    grant = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{PRODUCTION_ACCOUNT}:root"},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{dr_bucket}/*",
            }
        ],
    }
    owner = admin_client(settings, DR_ACCOUNT, "s3", DR)
    owner.put_bucket_policy(Bucket=dr_bucket, Policy=json.dumps(grant))
    assert production.get_object(Bucket=dr_bucket, Key="backup")["Body"].read() == b"kept"


def test_the_dr_account_copies_a_snapshot_only_once_production_shares_it(
    local_stack: Path, settings: LocalSettings
) -> None:
    prod_region, name = POLICY.regions.production, f"shared-{uuid.uuid4().hex[:8]}"
    production = aws_client(settings, "rds", prod_region)
    production.create_db_snapshot(
        DBInstanceIdentifier=POLICY.assets.rds[0].instance, DBSnapshotIdentifier=name
    )
    source = f"arn:aws:rds:{prod_region}:{PRODUCTION_ACCOUNT}:snapshot:{name}"
    dr = admin_client(settings, DR_ACCOUNT, "rds", DR)

    def copy() -> Any:
        return dr.copy_db_snapshot(
            SourceDBSnapshotIdentifier=source,
            TargetDBSnapshotIdentifier=name,
            SourceRegion=prod_region,
        )

    with pytest.raises(ClientError, match="DBSnapshotNotFound"):
        copy()
    production.modify_db_snapshot_attribute(
        DBSnapshotIdentifier=name, AttributeName="restore", ValuesToAdd=["999999999999"]
    )
    with pytest.raises(ClientError, match="DBSnapshotNotFound"):
        copy()  # shared, but with another account
    production.modify_db_snapshot_attribute(
        DBSnapshotIdentifier=name, AttributeName="restore", ValuesToAdd=[DR_ACCOUNT]
    )
    assert copy()["DBSnapshot"]["DBSnapshotIdentifier"] == name
    assert dr.describe_db_snapshots(DBSnapshotIdentifier=name)["DBSnapshots"]
    production_dr_region = admin_client(settings, PRODUCTION_ACCOUNT, "rds", DR)
    with pytest.raises(ClientError, match="DBSnapshotNotFound"):  # the copy is DR's alone
        production_dr_region.describe_db_snapshots(DBSnapshotIdentifier=name)
