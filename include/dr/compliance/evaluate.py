"""Every clause judged from the facts (:mod:`~include.dr.compliance.facts`) and the tamper
reconciliation (:mod:`~include.dr.compliance.tamper`). The result is itself recorded as
evidence, so the history is a trend."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, TypedDict

from include.dr.compliance import clauses, facts, tamper
from include.dr.compliance.clauses import Status, Verdict
from include.dr.errors import Permanent
from include.dr.evidence import EvidenceStore
from include.dr.policy.model import BackupPolicy
from include.dr.run_info import RunInfo

if TYPE_CHECKING:
    from types_boto3_cloudtrail import CloudTrailClient
    from types_boto3_kms import KMSClient
    from types_boto3_rds import RDSClient
    from types_boto3_s3 import S3Client


class ReadOnlyClients(TypedDict):
    """The read-only AWS clients the evaluation asks: the DR side, and CloudTrail."""

    rds_dr: RDSClient
    kms_dr: KMSClient
    s3_dr: S3Client
    cloudtrail: CloudTrailClient


class EvaluationSummary(TypedDict):
    status: Status
    failing: list[str]


class PolicyNotMet(Permanent):
    """A clause failed; the alert and the compliance page say which and why."""


def evaluate(
    policy: BackupPolicy,
    store: EvidenceStore,
    now: datetime,
    aws: ReadOnlyClients,
    production_account: str,
) -> list[Verdict]:
    """Every clause's verdict (``production_account``: whose principals the DR key must
    refuse)."""
    from include.dr.kms import resolve_key

    minimum = policy.retention.minimum_days
    good = facts.good_backups(policy, store)
    region = policy.regions.dr
    dr_key = resolve_key(aws["kms_dr"], policy.kms_key(region), region)
    live = facts.dr_bucket_checks(policy, aws["s3_dr"], aws["kms_dr"], dr_key)
    return [
        clauses.freshness(facts.last_good(good), now),
        clauses.window(facts.window_runs(store)),
        clauses.coverage(facts.good_days(good), now.date(), minimum),
        clauses.archived_at_source(facts.archived(good)),
        clauses.early_deletions(facts.deletions(store), minimum),
        clauses.checks_held(
            "dr_lifecycle",
            f"DR buckets keep old versions at least {minimum} days",
            [c for c in live if c[0].endswith("dr_bucket_lifecycle")],
        ),
        clauses.checks_held(
            "object_lock",
            f"DR buckets and the store lock every version {minimum}+ days (compliance mode)",
            [c for c in live if c[0].endswith("dr_bucket_object_lock")],
        ),
        facts.dr_key_guard(aws["kms_dr"], dr_key, production_account),
        facts.encryption(good, dr_key, live),
        facts.region(policy, good, live),
        facts.cloudtrail(aws["cloudtrail"]),
        clauses.restore_test(
            facts.last_restore_test(store), now, policy.restore_test.interval_days
        ),
        clauses.sla_register(
            [(s.name, s.sla_reviewed_on) for s in policy.cloud_services], now.date()
        ),
        tamper.reconcile(policy, store, aws["rds_dr"], aws["s3_dr"], now),
    ]


def record_evaluation(
    verdicts: list[Verdict], store: EvidenceStore, run: RunInfo
) -> EvaluationSummary:
    """The evaluation as evidence (its history is the trend); the summary for the alert."""
    from include.dr.evidence import EvidenceRecord

    status = clauses.worst(v.status for v in verdicts)
    failing = [f"{v.title}: {v.text}" for v in verdicts if v.status == "fail"]
    store.write(
        EvidenceRecord(
            kind="compliance",
            asset="policy",
            dag_id=run.dag_id,
            run_id=run.run_id,
            outcome=status,
            details={"status": status, "clauses": [v.as_dict() for v in verdicts]},
        )
    )
    return {"status": status, "failing": failing}
