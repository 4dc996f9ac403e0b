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

Every check, passed or failed, is written to the evidence store with the
resource, what was expected, what was found and the fix. The run fails when
any check fails, after the evidence is written.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import dag, task

from include.dr.dag_defaults import DEFAULT_ARGS, daily_in_window
from include.dr.policy.loader import load_policy

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
    @task
    def check_policy() -> dict[str, Any]:
        """Load the policy file and judge where the DR copy lives."""
        return load_policy().regions.residency.as_dict()

    @task
    def check_production() -> list[dict[str, object]]:
        """Check the production KMS key, source buckets and RDS instances."""
        from include.dr.aws_clients import hook_clients
        from include.dr.preflight import production_checks

        checks = production_checks(load_policy(), hook_clients("aws_default"))
        return [check.as_dict() for check in checks]

    @task
    def check_dr() -> list[dict[str, object]]:
        """Check the DR KMS key and the DR buckets through the DR connection."""
        from include.dr.aws_clients import hook_clients
        from include.dr.preflight import dr_checks

        return [check.as_dict() for check in dr_checks(load_policy(), hook_clients("aws_dr"))]

    @task
    def record_evidence(
        residency: dict[str, Any],
        production: list[dict[str, object]],
        dr: list[dict[str, object]],
        **context: Any,
    ) -> str:
        """Write every check to the evidence store, then fail the run if any check failed."""
        from airflow.sdk.exceptions import AirflowFailException

        from include.dr.preflight import record_preflight

        outcome, summary = record_preflight(
            residency, [*production, *dr], context["dag"].dag_id, context["run_id"]
        )
        if outcome == "fail":
            raise AirflowFailException(summary)
        return summary

    record_evidence(check_policy(), check_production(), check_dr())


policy_preflight()
