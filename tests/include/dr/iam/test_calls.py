"""The call recorder: what counts as the product's call, and how names become patterns."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import given
from hypothesis import strategies as st

from include.dr.iam import calls
from include.dr.iam.calls import COPY_SOURCE, Recorder, fold, install, product_module, resources
from include.dr.project import PROJECT_ROOT

ROOT = str(PROJECT_ROOT)
TASK_RUNNER = f"{ROOT}/.venv/lib/python3.11/site-packages/airflow/sdk/execution_time/task_runner.py"
THREAD = "/usr/lib/python3.11/threading.py"


def test_dated_and_random_parts_fold_to_one_star() -> None:
    assert fold("swl-customers-prod-2026-11-29") == "swl-customers-prod-*"
    assert fold("restore-test-c1552fb0") == "restore-test-*"
    assert fold("restore_test_20261129t0100") == "restore_test_*"
    assert fold("{instance}-2026-11-29") == "{instance}-*"
    assert fold("swl-customer-uploads-dr") == "swl-customer-uploads-dr"
    assert fold("key/4f1c2d3e-afdd-4b5c-9d8e-0a1b2c3d4e5f") == "key/*"  # a key id


@given(st.dates(), st.integers(min_value=0, max_value=2**32))
def test_a_name_folds_the_same_whatever_its_day_or_token(day: object, token: int) -> None:
    assert fold(f"backup-{day}-{token:08x}") == "backup-*"


def test_the_policy_names_become_placeholders_before_folding() -> None:
    names = [("swl-customer-uploads-dr", "{object_dr_bucket}"), ("swl-customers", "{instance}")]
    found = resources(
        "s3",
        {"Bucket": "swl-customer-uploads-dr", "Key": "a/b", "CopySource": {"Bucket": "x-1"}},
        names,
    )
    assert found == ["{object_dr_bucket}/*", f"{COPY_SOURCE}x-*/*"]
    rds = {"TargetDBSnapshotIdentifier": "swl-customers-2026-11-29"}
    assert resources("rds", rds, names) == ["snapshot:{instance}-*"]
    arn = "arn:aws:rds:eu-west-2:123456789012:snapshot:swl-customers-2026-11-29"
    assert resources("rds", {"SourceDBSnapshotIdentifier": arn}, names) == ["snapshot:{instance}-*"]
    assert resources("sts", {}, names) == ["*"]


def test_a_call_under_an_airflow_task_is_the_products_and_a_tests_own_is_not() -> None:
    product = f"{ROOT}/include/dr/s3/engine.py"
    test = f"{ROOT}/tests/integration/test_s3_backup_dag.py"
    assert product_module([product, TASK_RUNNER, test]) == "include.dr.s3.engine"
    assert product_module([product, test]) is None  # a test calling product code directly
    assert product_module([f"{ROOT}/include/dr/local_stack/seed_aws.py", TASK_RUNNER]) is None
    assert product_module([product, THREAD]) is None  # a pool thread: see the next test


def test_a_pool_thread_takes_the_family_of_the_code_that_submitted_its_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[str | None] = []
    recorder = Recorder({})
    monkeypatch.setattr(recorder, "_names", list)
    undo = install(recorder)
    try:
        monkeypatch.setattr(calls, "calling_family", lambda frames: "s3_backup")
        with ThreadPoolExecutor(2) as pool:
            monkeypatch.setattr(calls, "calling_family", lambda frames: "s3_backup")
            pool.submit(lambda: seen.append(calls._HANDED_OVER.get())).result()
            monkeypatch.setattr(calls, "calling_family", lambda frames: None)
            pool.submit(lambda: seen.append(calls._HANDED_OVER.get())).result()
    finally:
        undo()
    assert seen == ["s3_backup", None]
