"""
### Restore an RDS database

Restores the customer database from its backups, always into something new:

- **latest** or **snapshot**: a new instance from the newest (or a chosen) DR
  snapshot, in the DR region, encrypted with the DR key;
- **point in time**: a new instance at a moment inside the automated-backup
  retention, in the production region (or the DR region, where automated
  backups are replicated there);
- **logical dump**: a day's `mysqldump` from the DR bucket loaded into a new
  (or empty) MySQL database, then compared table by table with that day's
  manifest (row counts and content checksums).

**How to use.** Trigger with the form. Leave **dry run** on first: the run
checks the request, finds the backup and says what it would restore, and
creates nothing. Then trigger again with dry run off. A new instance is not
publicly accessible; without a subnet group and security groups AWS uses the
default subnet group and the default security group, so give them for a
restore that applications must reach. The run waits for the instance in the
triggerer and reports its endpoint in the evidence.

**Guards.** The first task checks the request again (a run's configuration can
bypass the form). It refuses, naming the field and creating nothing: a
production instance or database as the target, a target instance that already
exists, a non-empty target database, a missing snapshot, a date without a dump,
a time outside the restorable window, malformed identifiers.
"""

from __future__ import annotations

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import dag

from include.dr.dag_defaults import DEFAULT_ARGS
from include.dr.forms import restore_rds_form
from include.dr.operators.rds_restore import RdsRestoreInstanceOperator
from include.dr.policy.loader import load_policy
from include.dr.rds import tasks
from include.dr.restores import RESTORE_CALLBACKS

INSTANCES = [asset.instance for asset in load_policy().assets.rds]


@dag(
    dag_id="restore_rds",
    schedule=None,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["restore", "rds", "manual"],
    params=restore_rds_form(INSTANCES),
    **RESTORE_CALLBACKS,
)
def restore_rds() -> None:
    plan = tasks.validate_request()
    paths = [
        RdsRestoreInstanceOperator(task_id="restore_instance", plan=plan),
        tasks.load_dump(plan),
        EmptyOperator(task_id="dry_run"),
    ]
    tasks.choose_path(plan) >> paths
    paths >> tasks.report(plan)


restore_rds()
