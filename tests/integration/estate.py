"""A backed-up estate for end-to-end tests: the three daily backups of the shipped policy,
once, with a fresh S3 bucket, a fresh git DR bucket, a fresh cache and (optionally) a fresh
store."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml

from include.dr.local_stack.seed_aws import aws_client, demo_objects, ensure_dr_bucket, open_to_dr
from include.dr.local_stack.settings import LocalSettings
from include.dr.policy.loader import DEFAULT_POLICY_FILE, load_policy
from tests.integration.dag_runs import a_day


@contextmanager
def backed_up_estate(
    dag_bag: Any,
    tmp_path_factory: pytest.TempPathFactory,
    settings: LocalSettings,
    fresh_evidence: bool = False,
    day: datetime | None = None,
) -> Iterator[datetime]:
    """The S3 asset is a fresh bucket (each S3 DAG version declares its buckets as assets;
    a fresh name keeps them active in Airflow's database whatever other tests ran)."""
    source = f"rtest-{uuid.uuid4().hex[:8]}"
    src = aws_client(settings, "s3", "eu-west-2")
    src.create_bucket(Bucket=source, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    open_to_dr(settings, source)
    for key, body in demo_objects(source)[:60]:
        src.put_object(Bucket=source, Key=key, Body=body)
    policy = yaml.safe_load(DEFAULT_POLICY_FILE.read_text())
    policy["assets"]["s3"] = [{"source": source, "dr_bucket": f"{source}-dr", "fix_settings": True}]
    # The estate's own bundles of record: the restore test checks the newest bundle of each
    # repository against this estate's evidence, not another test's upload of the same day.
    policy["assets"]["github"]["dr_bucket"] = f"{source}-git"
    policy_file = tmp_path_factory.mktemp("policy") / "policy.yaml"
    policy_file.write_text(yaml.safe_dump(policy))
    for bucket in (f"{source}-dr", f"{source}-git"):  # locked, as the DR stack makes them
        ensure_dr_bucket(settings, load_policy(policy_file), bucket)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BACKUP_CACHE_DIR", str(tmp_path_factory.mktemp("store")))
        patch.setenv("BACKUP_POLICY_FILE", str(policy_file))
        if fresh_evidence:
            patch.setenv("BACKUP_STORE_URL", f"file://{tmp_path_factory.mktemp('evidence')}")
        if day is None:
            day = a_day(first=datetime(2026, 10, 22, 12, tzinfo=UTC))
        for dag_id in ("rds_backup", "s3_backup", "git_backup"):
            dag = dag_bag.get_dag(dag_id)
            dag.deadline = None
            assert dag.test(logical_date=day, run_conf={"override_window": True}).state == "success"
        yield day


def lock_ran_out(s3: Any, bucket: str, key: str, version: str) -> None:
    """Stand in for a version whose Object Lock has run out, so a test can delete it as an
    attacker then could: moto lets the retention move into the past, which S3 refuses in
    compliance mode (a lock that has not run out is never shortened there)."""
    s3.put_object_retention(
        Bucket=bucket,
        Key=key,
        VersionId=version,
        Retention={"Mode": "COMPLIANCE", "RetainUntilDate": datetime(2000, 1, 1, tzinfo=UTC)},
    )
