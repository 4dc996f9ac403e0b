"""Shared by the S3 DAG tests: a fresh source bucket (with demo objects) and DR bucket as
the policy's only S3 asset, and an s3_backup run for a chosen day."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from include.dr.local_stack.seed_aws import aws_client, demo_objects, open_to_dr
from include.dr.local_stack.settings import LocalSettings
from include.dr.policy.loader import DEFAULT_POLICY_FILE
from tests.integration.dag_runs import run_daily


def run_backup(dag_bag: Any, day: datetime) -> Any:
    return run_daily(dag_bag, "s3_backup", day)


def make_buckets(settings: LocalSettings) -> dict[str, Any]:
    """A new source bucket (with the demo objects) and DR bucket, and the clients of both."""
    src, dst = aws_client(settings, "s3", "eu-west-2"), aws_client(settings, "s3", "eu-west-1")
    name = f"s3dag-{uuid.uuid4().hex[:8]}"
    src.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    open_to_dr(settings, name)
    dst.create_bucket(
        Bucket=f"{name}-dr", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    for key, body in demo_objects(name)[:60]:
        src.put_object(Bucket=name, Key=key, Body=body)
    return {"source": name, "dr": f"{name}-dr", "src": src, "dst": dst}


def only_s3_asset(buckets: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    """A policy change making ``buckets`` the policy's only S3 asset."""

    def change(policy: dict[str, Any]) -> None:
        source, dr = buckets["source"], buckets["dr"]
        policy["assets"]["s3"] = [{"source": source, "dr_bucket": dr, "fix_settings": True}]

    return change


@pytest.fixture
def fresh_buckets(
    settings: LocalSettings, use_policy: Callable[..., dict[str, Any]]
) -> dict[str, Any]:
    """A new source bucket (with the demo objects) and DR bucket, as the policy's only S3 asset."""
    buckets = make_buckets(settings)
    use_policy(only_s3_asset(buckets))
    return buckets


@pytest.fixture(scope="module")
def module_buckets(
    settings: LocalSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """Like ``fresh_buckets``, shared by a module's tests (for an expensive backup made
    once): each test restores into a target of its own and leaves the DR side alone. A
    test's own ``use_policy`` overrides it for that test only."""
    buckets = make_buckets(settings)
    policy = copy.deepcopy(yaml.safe_load(DEFAULT_POLICY_FILE.read_text()))
    only_s3_asset(buckets)(policy)
    path: Path = tmp_path_factory.mktemp("policy") / "policy.yaml"
    path.write_text(yaml.safe_dump(policy))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BACKUP_POLICY_FILE", str(path))
        yield buckets
