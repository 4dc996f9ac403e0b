"""The manual S3 restore DAG on moto: after a ransomware-style overwrite and delete, a
restore "as of" before it is byte-identical to the original; dry run; a refusal, recorded.

The attacked estate (two backups) is made once per module and shared: each test restores
into a target of its own and leaves the DR bucket alone. The test that deletes DR
versions has an estate of its own. Every refusal by field is a unit test of the pure
request check (tests/include/dr/s3/test_restore_request.py)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from include.dr.evidence import evidence_store
from include.dr.local_stack.seed_aws import demo_objects, open_to_dr
from include.dr.local_stack.settings import load_settings
from tests.integration.dag_runs import a_day
from tests.integration.s3_runs import module_buckets, run_backup

__all__ = ["module_buckets"]  # a fixture

pytestmark = pytest.mark.usefixtures("local_stack")


def attack(dag_bag: Any, buckets: dict[str, Any]) -> dict[str, Any]:
    """Backed up; then one object overwritten with garbage and one deleted, and backed up
    again: ``as_of`` is a moment between the two backups."""
    source, src = buckets["source"], buckets["src"]
    day = a_day()
    assert run_backup(dag_bag, day).state == "success"
    time.sleep(1.1)  # S3 times have one-second resolution
    as_of = datetime.now(UTC)
    time.sleep(1.1)
    originals = dict(demo_objects(source)[:60])
    victim, gone = list(originals)[:2]
    src.put_object(Bucket=source, Key=victim, Body=b"\x00encrypted by ransomware")
    src.delete_object(Bucket=source, Key=gone)
    src.put_object(Bucket=source, Key="later/new.txt", Body=b"made after the backup")
    assert run_backup(dag_bag, day + timedelta(days=1)).state == "success"
    return {**buckets, "as_of": as_of, "originals": originals, "victim": victim, "gone": gone}


@pytest.fixture(scope="module")
def attacked(local_stack: Any, dag_bag: Any, module_buckets: dict[str, Any]) -> dict[str, Any]:
    """The module's attacked estate (see :func:`attack`), shared by its read-only tests."""
    return attack(dag_bag, module_buckets)


@pytest.fixture
def attacked_alone(dag_bag: Any, fresh_buckets: dict[str, Any]) -> dict[str, Any]:
    """An attacked estate of the test's own, for a test that damages the DR bucket."""
    return attack(dag_bag, fresh_buckets)


def restore(dag_bag: Any, attacked: dict[str, Any], **conf: Any) -> Any:
    request = {
        "source_bucket": attacked["source"],
        "as_of": attacked["as_of"].isoformat(),
        "dry_run": False,
        **conf,
    }
    return dag_bag.get_dag("restore_s3").test(run_conf=request)


def target_bucket(attacked: dict[str, Any], versioned: bool = True) -> str:
    name = f"restore-{uuid.uuid4().hex[:8]}"
    dst = attacked["src"]
    dst.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    open_to_dr(load_settings(), name)  # the restore operator writes it from the DR account
    if versioned:
        dst.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    key = f"arn:aws:kms:eu-west-2:123456789012:key/{uuid.uuid4()}"  # moto takes any key id
    dst.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": key,
                    }
                }
            ]
        },
    )
    return name


def keys(s3: Any, bucket: str) -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


def evidence(run: Any, source: str) -> Any:
    return evidence_store().get("restore", f"s3/{source}", "restore_s3", run.run_id)


def test_restore_as_of_before_the_attack_is_byte_identical(
    dag_bag: Any, attacked: dict[str, Any]
) -> None:
    src, target = attacked["src"], target_bucket(attacked)
    run = restore(dag_bag, attacked, target_bucket=target, target_prefix="restored/")
    assert run.state == "success"
    assert keys(src, target) == sorted(f"restored/{key}" for key in attacked["originals"])
    production_key = src.get_bucket_encryption(Bucket=target)["ServerSideEncryptionConfiguration"][
        "Rules"
    ][0]["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"]
    for key, body in attacked["originals"].items():
        restored = src.get_object(Bucket=target, Key=f"restored/{key}")
        assert restored["Body"].read() == body, key
        # Encrypted as the production bucket encrypts its own objects, not with the backup key.
        assert restored["SSEKMSKeyId"] == production_key
    record = evidence(run, attacked["source"])
    assert record.outcome == "pass"
    assert (record.details["copied"], record.details["planned"]) == (60, 60)
    assert record.details["backup_finished_at"] <= attacked["as_of"].isoformat()


def test_dry_run_reports_counts_bytes_and_a_sample_and_writes_nothing(
    dag_bag: Any, attacked: dict[str, Any]
) -> None:
    target = target_bucket(attacked)
    run = restore(dag_bag, attacked, target_bucket=target, dry_run=True)
    assert run.state == "success"
    details = evidence(run, attacked["source"]).details
    assert details["planned"] == 60
    assert details["bytes_planned"] == sum(len(b) for b in attacked["originals"].values())
    assert len(details["sample"]) == 20 and details["copied"] == 0
    assert keys(attacked["src"], target) == []


def test_in_place_restore_into_production_needs_confirmation_and_deletes_nothing(
    dag_bag: Any, attacked: dict[str, Any]
) -> None:
    source, src = attacked["source"], attacked["src"]
    # Replacing objects needs a versioned bucket, where the replaced ones stay as versions.
    src.put_bucket_versioning(Bucket=source, VersioningConfiguration={"Status": "Enabled"})
    conf = {"target_bucket": source, "target_prefix": ""}
    refused = restore(dag_bag, attacked, **conf)
    assert refused.state == "failed"
    assert evidence(refused, source).details["refused"] == "confirm_production_bucket"
    assert src.get_object(Bucket=source, Key=attacked["victim"])["Body"].read().startswith(b"\x00")

    run = restore(dag_bag, attacked, **conf, confirm_production_bucket=source)
    assert run.state == "success"
    for key in (attacked["victim"], attacked["gone"]):
        assert src.get_object(Bucket=source, Key=key)["Body"].read() == attacked["originals"][key]
    assert "later/new.txt" in keys(src, source)  # made after the backup, and kept
    versions = src.list_object_versions(Bucket=source, Prefix=attacked["victim"])["Versions"]
    assert len(versions) == 2  # the garbage is a noncurrent version, not deleted


def test_an_unversioned_target_keeps_its_existing_objects(
    dag_bag: Any, attacked: dict[str, Any]
) -> None:
    src, target = attacked["src"], target_bucket(attacked, versioned=False)
    kept = f"restored/{attacked['victim']}"
    src.put_object(Bucket=target, Key=kept, Body=b"someone's newer work")
    run = restore(dag_bag, attacked, target_bucket=target)
    assert run.state == "success"
    assert src.get_object(Bucket=target, Key=kept)["Body"].read() == b"someone's newer work"
    details = evidence(run, attacked["source"]).details
    assert details["kept_existing"] == [attacked["victim"]] and details["copied"] == 59


def test_a_bad_request_is_refused_by_field_recorded_and_nothing_is_written(
    dag_bag: Any, attacked: dict[str, Any]
) -> None:
    """End to end, one refusal that needs the DR bucket (no backup by then); the others are
    unit tests of the request check."""
    target = target_bucket(attacked)
    dr_before = keys(attacked["dst"], attacked["dr"])
    conf = {"as_of": "2020-01-01T00:00:00+00:00"}
    run = restore(dag_bag, attacked, target_bucket=target, **conf)
    assert run.state == "failed", conf
    [task] = [ti for ti in run.get_task_instances() if ti.task_id == "validate_request"]
    assert (task.state, task.try_number) == ("failed", 1)  # a refusal is not retried
    record = evidence(run, attacked["source"])
    assert record.details["refused"] == "as_of", conf
    assert "Nothing was changed" in record.details["reason"]
    assert keys(attacked["src"], target) == [], conf
    assert keys(attacked["dst"], attacked["dr"]) == dr_before, conf


def test_a_second_backup_the_same_day_leaves_the_first_restorable(
    dag_bag: Any, fresh_buckets: dict[str, Any]
) -> None:
    """Ransomware, then a second run on the same day: the first run's manifests are its
    own, so a restore as of between the two is byte-identical to the original."""
    source, src = fresh_buckets["source"], fresh_buckets["src"]
    day = a_day()
    first = run_backup(dag_bag, day)
    assert first.state == "success"
    time.sleep(1.1)  # S3 times have one-second resolution
    as_of = datetime.now(UTC)
    time.sleep(1.1)
    originals = dict(demo_objects(source)[:60])
    for key in list(originals)[:10]:
        src.put_object(Bucket=source, Key=key, Body=b"\x00encrypted by ransomware")
    for key in list(originals)[10:20]:
        src.delete_object(Bucket=source, Key=key)
    assert run_backup(dag_bag, day + timedelta(minutes=1)).state == "success"
    attacked = {**fresh_buckets, "as_of": as_of}
    target = target_bucket(attacked)
    run = restore(dag_bag, attacked, target_bucket=target, target_prefix="")
    assert run.state == "success"
    assert keys(src, target) == sorted(originals)
    for key, body in originals.items():
        assert src.get_object(Bucket=target, Key=key)["Body"].read() == body, key
    details = evidence(run, source).details
    summary = evidence_store().get("s3_backup", f"s3/{source}", "s3_backup", first.run_id)
    assert details["backup_run"] + "run.json" == summary.details["summary_key"]


def test_an_empty_as_of_restores_from_the_latest_backup(
    dag_bag: Any, attacked: dict[str, Any]
) -> None:
    run = restore(
        dag_bag, attacked, as_of=None, target_bucket=target_bucket(attacked), dry_run=True
    )
    assert run.state == "success"
    details = evidence(run, attacked["source"]).details
    assert details["backup_finished_at"] > attacked["as_of"].isoformat()  # the second backup
    assert details["planned"] == 60 and details["copied"] == 0


def test_a_permanently_deleted_dr_version_is_named_before_anything_is_copied(
    dag_bag: Any, attacked_alone: dict[str, Any]
) -> None:
    """The restore names the missing version and what is still whole, copies nothing, and
    is not retried."""
    attacked = attacked_alone
    dr, dst, source = attacked["dr"], attacked["dst"], attacked["source"]
    target = target_bucket(attacked)

    def restore_latest() -> tuple[Any, str]:
        run = restore(dag_bag, attacked, as_of=datetime.now(UTC).isoformat(), target_bucket=target)
        assert run.state == "failed"
        [task] = [ti for ti in run.get_task_instances() if ti.task_id == "restore_objects"]
        assert (task.state, task.try_number) == ("failed", 1)  # not retried
        assert keys(attacked["src"], target) == []  # nothing half-restored
        return run, evidence(run, source).details["reason"]

    # The ransomware version, which only the latest backup names: the first is still whole.
    def versions(key: str) -> list[dict[str, Any]]:
        found = dst.list_object_versions(Bucket=dr, Prefix=key)["Versions"]
        return [v for v in found if v["Key"] == key]

    [garbage] = [v for v in versions(attacked["victim"]) if v["IsLatest"]]
    dst.delete_object(Bucket=dr, Key=attacked["victim"], VersionId=garbage["VersionId"])
    _, reason = restore_latest()
    assert f"s3://{dr}/{attacked['victim']} (version {garbage['VersionId']})" in reason
    assert "59 key(s) of it are intact" in reason
    assert "The newest earlier backup that is whole finished" in reason

    # A version both backups name (the latest by its time, unchanged): nothing is whole.
    kept = list(attacked["originals"])[2]
    [version] = versions(kept)
    dst.delete_object(Bucket=dr, Key=kept, VersionId=version["VersionId"])
    _, reason = restore_latest()
    assert f"s3://{dr}/{kept} (version {version['VersionId']}" in reason
    assert "No earlier backup of the prefix is whole either" in reason


def test_a_restore_logs_objects_and_bytes_of_the_checked_run_as_it_copies(
    attacked: dict[str, Any], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The restore task's own steps, called directly on the module's estate: the amount is
    logged before the copy (a dry run logs it too), then progress of that total."""
    from include.dr.aws_clients import hook_clients
    from include.dr.connections import AWS_RESTORE
    from include.dr.policy.loader import load_policy
    from include.dr.progress import human_bytes
    from include.dr.s3 import restore as s3_restore
    from tests.progress_lines import done_of, progress_lines

    policy, target = load_policy(), target_bucket(attacked)
    dr_s3 = hook_clients(AWS_RESTORE)("s3", policy.regions.dr)
    target_s3 = hook_clients(AWS_RESTORE)("s3", policy.regions.production)
    params = {
        "source_bucket": attacked["source"],
        "as_of": attacked["as_of"].isoformat(),
        "target_bucket": target,
    }
    size = human_bytes(sum(len(b) for b in attacked["originals"].values()))
    for dry_run in (True, False):
        request = s3_restore.validate_request(
            {**params, "dry_run": dry_run}, policy, datetime.now(UTC)
        )
        plan = s3_restore.plan_restore(request, target_s3, dr_s3)
        with (
            caplog.at_level("INFO", logger="include.dr.s3.restore"),
            progress_lines(caplog, monkeypatch) as lines,
        ):
            s3_restore.restore_objects(dr_s3, target_s3, plan)
            amount = [r.getMessage() for r in caplog.records if r.name == "include.dr.s3.restore"]
        assert f": 60 object(s), {size} (" in amount[-1]
        if dry_run:
            assert lines == [] and keys(attacked["src"], target) == []
            continue
        assert done_of(lines[-1]) == (60, 60, "objects") and " done: " in lines[-1]
        assert f"{size} of {size}" in lines[-1]
        assert len(lines) > 1
    # The restore test's sample goes through the same copy, with progress of its own.
    from include.dr.restore_test.s3_sample import check_bucket

    with progress_lines(caplog, monkeypatch) as sampled:
        checked = check_bucket(dr_s3, {**plan, "earlier_day": None}, target, 10, 5)
    assert checked["success"], checked
    assert done_of(sampled[-1]) == (checked["sampled"], checked["sampled"], "objects")
    assert sampled[-1].startswith("restore test: restoring a sample of s3://")
