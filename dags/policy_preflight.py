"""
### Policy preflight: does the estate match the backup policy?

Runs every day at the opening of the backup window, before the backups, and
checks without changing anything that the AWS estate is what the policy file
(`include/policy.yaml`) says it is:

- the policy file loads, and its DR region keeps data in the production
  region's country (or a residency exception approved for this very region
  pair is recorded, with who approved it, when and why);
- the KMS key named for each region exists there and is enabled;
- every source bucket exists in the production region;
- every DR bucket exists in the DR region, versioned and SSE-KMS encrypted;
- every RDS instance exists, is encrypted, and keeps automated backups for at
  least the policy's minimum retention.

Every check, passed, failed or not checkable here (`n/a`, e.g. the TLS-only
bucket policy on the local stack), is written to the evidence store with the
resource, what was expected, what was found and the fix. The run fails when
any check fails, after the evidence is written.
"""

from __future__ import annotations

from airflow.sdk import dag

from include.dr.dag_defaults import DEFAULT_ARGS, daily_in_window
from include.dr.policy.loader import load_policy
from include.dr.preflight_tasks import check_dr, check_policy, check_production, record_evidence

POLICY = load_policy()


@dag(
    dag_id="policy_preflight",
    schedule=daily_in_window(POLICY.schedule.window),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["backup", "policy", "preflight"],
)
def policy_preflight() -> None:
    record_evidence(check_policy(), check_production(), check_dr())


policy_preflight()
