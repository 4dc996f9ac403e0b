"""
### Annual restore test

The policy: "Backups must be tested every year to ensure their consistency and
reliability." A restore that queries no data is not a test, so this DAG
restores the latest backup of every asset into scratch space and checks the
data against what was recorded at backup time:

- **RDS, logical path**: the latest dump from the DR bucket is loaded into a
  scratch database and validated with **Great Expectations** built from the
  backup's manifest (tables and columns, row counts within the policy's
  tolerance, unique non-null primary keys), plus each table's content checksum.
  On the local stack this is the path that proves the data end to end.
- **RDS, native path**: the latest DR snapshot is restored into a temporary
  instance (unique name, our tags, not public, encrypted with the DR key),
  waited for in the triggerer, and its settings checked.
- **S3**: a sample of each bucket (a share of the keys, at least a minimum,
  always the largest object) is restored from its DR versions into a scratch
  bucket and compared with the sizes and SHA-256 checksums of backup time, and
  one object is restored as of the earliest backup day.
- **Git**: each repository's latest bundle is decrypted, cloned and fsck'd, and
  every ref compared with the backup's evidence.

Scratch resources are removed by **teardown tasks that run whatever happened**
(unless *keep scratch* is set for inspection). The **report** (HTML and JSON:
backups restored, every check, restore seconds per asset, the verdict) is kept
in the backup store and, encrypted, in the DR bucket; the `write_report` task
links it ("Restore test report") and its evidence names both copies.

Scheduled from the policy's restore-test interval (yearly, on 15 January, half
way through the backup window); trigger it by hand to test now.
"""

from __future__ import annotations

from airflow.sdk import chain, dag

from include.dr.dag_defaults import DEFAULT_ARGS, restore_test_schedule
from include.dr.forms import restore_test_form
from include.dr.operators.rds_restore import RdsRestoreInstanceOperator
from include.dr.operators.restore_report import RestoreTestReportOperator
from include.dr.policy.loader import load_policy
from include.dr.restore_test import tasks


@dag(
    dag_id="restore_test",
    schedule=restore_test_schedule(load_policy()),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["restore-test", "compliance"],
    params=restore_test_form(),
)
def restore_test() -> None:
    test = tasks.plan()
    scratch = tasks.create_scratch(test)  # setup
    instance = RdsRestoreInstanceOperator(
        task_id="restore_instance", plan=tasks.snapshot_plan(test)
    )
    native = tasks.check_instance(test, instance.output)
    rds, s3, git = tasks.check_rds(test), tasks.check_s3(test, scratch), tasks.check_git(test)
    report = RestoreTestReportOperator(
        task_id="write_report", plan_task="plan", checks=tasks.CHECK_TASKS, trigger_rule="all_done"
    )
    # Both teardowns hang on the scratch setup, so they run whatever the checks did,
    # including a restore_instance that failed part-way.
    teardown = [
        tasks.remove_scratch(test).as_teardown(setups=scratch),
        tasks.remove_instance(test).as_teardown(setups=scratch),
    ]
    chain(scratch, [instance, rds])
    chain([rds, native, s3, git], report, teardown)


restore_test()
