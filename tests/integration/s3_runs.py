"""Shared by the S3 DAG tests: a fresh source bucket (with demo objects) and DR bucket as
the policy's only S3 asset, and an s3_backup run for a chosen day."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from include.dr.local_stack.seed_aws import aws_client, demo_objects
from include.dr.local_stack.settings import LocalSettings
from tests.integration.dag_runs import run_daily


def run_backup(dag_bag: Any, day: datetime) -> Any:
    return run_daily(dag_bag, "s3_backup", day)


@pytest.fixture
def fresh_buckets(
    settings: LocalSettings, use_policy: Callable[..., dict[str, Any]]
) -> dict[str, Any]:
    """A new source bucket (with the demo objects) and DR bucket, as the policy's only S3 asset."""
    src, dst = aws_client(settings, "s3", "eu-west-2"), aws_client(settings, "s3", "eu-west-1")
    name = f"s3dag-{uuid.uuid4().hex[:8]}"
    src.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    dst.create_bucket(
        Bucket=f"{name}-dr", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    for key, body in demo_objects(name)[:60]:
        src.put_object(Bucket=name, Key=key, Body=body)

    def change(policy: dict[str, Any]) -> None:
        policy["assets"]["s3"] = [{"source": name, "dr_bucket": f"{name}-dr", "fix_settings": True}]

    use_policy(change)
    return {"source": name, "dr": f"{name}-dr", "src": src, "dst": dst}
