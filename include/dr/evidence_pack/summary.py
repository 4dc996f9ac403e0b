"""What the pack's PDF says, as data: each chosen clause's verdict over the period, every
exception with its reason, the restore tests, the SLA register and the residency
exception. A pure function of the period's records and the policy, so each rule is
tested without a store or a PDF.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, TypedDict

from include.dr.evidence_pack.collect import Period, StoredRecord, newest_per_run, report_names
from include.dr.evidence_pack.controls import ISO, SOC2, controls_text
from include.dr.policy.model import BackupPolicy
from include.dr.restore_test.report import STORE_FOLDER as REPORTS

PeriodStatus = Literal["pass", "warn", "fail", "not evaluated"]
ExceptionKind = Literal[
    "window override", "window breach", "failed run", "failed restore test", "failed clause"
]
REASON_KEYS = ("reason", "problem", "error", "completion", "failed_step")


class ClauseSummary(TypedDict):
    clause: str
    title: str
    status: PeriodStatus
    evaluations: int
    counts: dict[str, int]
    findings: list[str]  # each distinct warning or failure, with when and how often
    last: str  # the last evaluation's text
    iso27001: str
    soc2: str


class PackException(TypedDict):
    kind: ExceptionKind
    at: str
    dag_id: str
    run_id: str
    asset: str
    reason: str
    record: str  # its path in the pack


class RestoreTest(TypedDict):
    at: str
    outcome: str
    run_id: str
    reports: list[str]
    failing: list[str]
    record: str


class PackSummary(TypedDict):
    company: str
    period: dict[str, str]
    generated_at: str
    clauses: list[ClauseSummary]
    exceptions: list[PackException]
    restore_tests: list[RestoreTest]
    sla_register: list[dict[str, str]]
    residency: dict[str, Any]
    records: int
    kinds: dict[str, int]
    unreadable: list[str]


def _worst(statuses: list[str]) -> PeriodStatus:
    return next((s for s in ("fail", "warn", "pass") if s in statuses), "not evaluated")  # type: ignore[return-value]


def clause_verdicts(evaluations: list[StoredRecord], chosen: list[str]) -> list[ClauseSummary]:
    """Each chosen clause over the period: its worst status in the period's evaluations,
    how often each status came, and each distinct finding with its first and last day."""
    summaries: list[ClauseSummary] = []
    for clause in chosen:
        seen = [
            (stored.record.recorded_at, verdict)
            for stored in evaluations
            for verdict in stored.record.details.get("clauses", [])
            if verdict.get("clause") == clause
        ]
        counts = Counter(str(v.get("status")) for _, v in seen)
        findings: dict[str, list[datetime]] = {}
        for at, verdict in seen:
            if verdict.get("status") != "pass":
                text = f"{str(verdict.get('status')).upper()}: {verdict.get('text', '')}"
                findings.setdefault(text, []).append(at)
        summaries.append(
            {
                "clause": clause,
                "title": str(seen[-1][1].get("title", clause)) if seen else clause,
                "status": _worst(list(counts)),
                "evaluations": len(seen),
                "counts": dict(sorted(counts.items())),
                "findings": [
                    f"{text} ({len(ats)}x, {min(ats).date()} to {max(ats).date()})"
                    for text, ats in findings.items()
                ],
                "last": str(seen[-1][1].get("text", "")) if seen else "no evaluation in the period",
                "iso27001": controls_text(clause, ISO),
                "soc2": controls_text(clause, SOC2),
            }
        )
    return summaries


def reason_of(details: Mapping[str, Any]) -> str:
    """A failed run's reason, from the fields the product's records use for it."""
    for key in REASON_KEYS:
        value = details.get(key)
        if isinstance(value, str) and value:
            return value
    for key in ("failing", "failures", "failed"):
        value = details.get(key)
        if isinstance(value, list) and value:
            shown = "; ".join(
                str(v.get("error", v) if isinstance(v, dict) else v) for v in value[:5]
            )
            more = f" (and {len(value) - 5} more)" if len(value) > 5 else ""
            return f"{key}: {shown}{more}"
    return "the run failed; its record holds the details"


def _exception(kind: ExceptionKind, stored: StoredRecord, reason: str) -> PackException:
    record = stored.record
    return {
        "kind": kind,
        "at": record.recorded_at.isoformat(),
        "dag_id": record.dag_id,
        "run_id": record.run_id,
        "asset": record.asset,
        "reason": reason,
        "record": stored.path,
    }


def exceptions(records: list[StoredRecord], clauses: list[ClauseSummary]) -> list[PackException]:
    """Every window override and breach, failed run and failed restore test (each run's
    latest account), and every failed clause finding, oldest first."""
    found: list[PackException] = []
    for stored in newest_per_run(records):
        record, details = stored.record, stored.record.details
        if record.kind == "compliance":
            continue
        if record.kind == "window" and details.get("override"):
            who = details.get("triggered_by") or "someone"
            found.append(
                _exception(
                    "window override",
                    stored,
                    f"run by hand outside the window with the recorded override, by {who}: "
                    f"{details.get('reason', '')}".rstrip(": "),
                )
            )
        if record.kind == "window" and details.get("breached"):
            found.append(_exception("window breach", stored, str(details.get("completion", ""))))
        if record.kind == "restore_test" and record.outcome == "fail":
            failing = [
                f"{c.get('asset')} {c.get('check')}"
                for c in details.get("checks", [])
                if not c.get("success")
            ]
            found.append(
                _exception(
                    "failed restore test",
                    stored,
                    f"checks failed: {', '.join(failing)}" if failing else reason_of(details),
                )
            )
        elif record.outcome == "fail":
            found.append(_exception("failed run", stored, reason_of(details)))
    found.sort(key=lambda e: (e["at"], e["record"]))
    for clause in clauses:
        for finding in clause["findings"]:
            if finding.startswith("FAIL"):
                found.append(
                    {
                        "kind": "failed clause",
                        "at": "",
                        "dag_id": "compliance_evaluation",
                        "run_id": "",
                        "asset": clause["clause"],
                        "reason": finding.removeprefix("FAIL: "),
                        "record": "",
                    }
                )
    return found


def restore_tests(records: list[StoredRecord]) -> list[RestoreTest]:
    tests: list[RestoreTest] = []
    for stored in newest_per_run(records):
        record = stored.record
        if record.kind != "restore_test":
            continue
        tests.append(
            {
                "at": record.recorded_at.isoformat(),
                "outcome": record.outcome,
                "run_id": record.run_id,
                "reports": [f"{REPORTS}/{n}" for n in report_names(record)],
                "failing": [
                    f"{c.get('asset')} {c.get('check')}"
                    for c in record.details.get("checks", [])
                    if not c.get("success")
                ],
                "record": stored.path,
            }
        )
    return tests


def summarise(
    records: list[StoredRecord],
    period: Period,
    chosen: list[str],
    policy: BackupPolicy,
    generated_at: datetime,
    unreadable: list[str] | None = None,
) -> PackSummary:
    evaluations = [
        r
        for r in newest_per_run(records)
        if (r.record.kind, r.record.asset) == ("compliance", "policy")
    ]
    clauses = clause_verdicts(evaluations, chosen)
    exception = policy.regions.residency_exception
    return {
        "company": policy.company,
        "period": period.as_dict(),
        "generated_at": generated_at.isoformat(),
        "clauses": clauses,
        "exceptions": exceptions(records, clauses),
        "restore_tests": restore_tests(records),
        "sla_register": [s.register_entry() for s in policy.cloud_services],
        "residency": {
            "statement": policy.regions.residency.statement,
            "production_region": policy.regions.production,
            "dr_region": policy.regions.dr,
            "exception": {
                "production_region": exception.production_region,
                "dr_region": exception.dr_region,
                "approved_by": exception.approved_by,
                "approved_on": exception.approved_on.isoformat(),
                "reason": exception.reason,
            }
            if exception
            else None,
        },
        "records": len(records),
        "kinds": dict(sorted(Counter(r.record.kind for r in records).items())),
        "unreadable": list(unreadable or []),
    }
