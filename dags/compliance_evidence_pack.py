"""
### An auditor's evidence pack

Builds one zip archive of a period's proof that the backup policy was kept, for an
auditor: a PDF summary (each clause's verdict over the period, every exception with its
reason, the restore tests and their reports, the SLA register, the residency exception,
and the ISO/IEC 27001:2022 and SOC 2 controls each clause evidences), the evidence
records and reports it is based on, byte for byte as stored, and a manifest of every
file's SHA-256, signed by the DR account's KMS signing key.

**How to use.** Trigger with the form: the period's first and last day (empty: the 30
days up to the run's day) and the clauses (all by default). The first task re-checks
the form and refuses, naming the field, before anything is written. The pack is
stored once in the evidence store under `evidence-packs/` and announced by an
`evidence_pack` record; clearing and rerunning the run finds the same pack.

**How to check a pack** without the product:
`python -m include.dr.evidence_pack verify PACK.zip --kms`, or the README's recipe with
`openssl`, `sha256sum` and the AWS CLI. Any edited, added or removed file fails, naming it.
"""

from __future__ import annotations

from airflow.sdk import dag

from include.dr.dag_defaults import DEFAULT_ARGS
from include.dr.evidence_pack import tasks
from include.dr.evidence_pack.controls import CLAUSE_IDS
from include.dr.forms import evidence_pack_form


@dag(
    dag_id="compliance_evidence_pack",
    schedule=None,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["compliance", "audit", "manual"],
    params=evidence_pack_form(list(CLAUSE_IDS)),
)
def compliance_evidence_pack() -> None:
    tasks.build_pack(tasks.check_request())


compliance_evidence_pack()
