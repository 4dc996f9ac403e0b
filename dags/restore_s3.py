"""
### Restore S3 objects as they were at a chosen time

Restores a backed-up bucket, or a prefix of it, as it was at **as of**, from the
DR bucket's object versions and the daily run manifests, into a target bucket
under a target prefix.

**How to use.** Trigger with the form. Leave **dry run** on first: the run picks
the backup (the newest run finished by *as of*; an empty *as of* means the
latest) and reports how many objects and bytes would be restored, with a sample
of keys, and changes nothing. Then trigger again with dry run off.

**Guards.**
- The first task checks the request again (a run's configuration can bypass
  the form); each refusal names the field and changes nothing: a bucket the
  policy does not back up, a time with no finished backup, a missing target
  bucket, an unsafe prefix, a DR bucket as the target.
- Restoring into a production bucket needs its name typed in **confirm
  production bucket**. The default target prefix, `restored/`, keeps a restore
  apart from live keys.
- Nothing at the target is deleted. An existing object is replaced only in a
  versioned bucket, where the old one stays as a noncurrent version; in an
  unversioned bucket it is left alone and listed in the evidence.

Objects deleted at the source before the backup are not restored; objects that
ransomware overwrote or deleted after it come back as they were. Before anything
is copied, every DR version the backup names is checked: if one was deleted
permanently, nothing is copied and the run fails without retrying, naming the
missing versions and the newest earlier backup that is whole. Copies are
server-side, with the target region's policy KMS key and a SHA-256 checksum
compared with the backup's where it recorded one.
"""

from __future__ import annotations

from airflow.sdk import dag

from include.dr.dag_defaults import DEFAULT_ARGS
from include.dr.forms import restore_s3_form
from include.dr.policy.loader import load_policy
from include.dr.restores import RESTORE_CALLBACKS
from include.dr.s3 import tasks

POLICY = load_policy()


@dag(
    dag_id="restore_s3",
    schedule=None,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["restore", "s3", "manual"],
    params=restore_s3_form([asset.source for asset in POLICY.assets.s3]),
    **RESTORE_CALLBACKS,
)
def restore_s3() -> None:
    tasks.restore_objects(tasks.validate_request())


restore_s3()
