"""What the compliance page shows, from the latest evaluation and the evidence store:
each clause with its status and evidence, each asset's last backup, the last restore
test, the SLA register, and the residency verdict with who approved its exception, when,
and for which region pair. The JSON endpoint serves the same."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from include.dr.compliance.facts import EMPTY_REPOSITORY, assets_of
from include.dr.evidence import EvidenceStore
from include.dr.policy.model import BackupPolicy

REPORT_NAME = re.compile(r"\d{4}-\d{2}-\d{2}-[0-9a-f]{10}\.html")
HISTORY = 14  # evaluations shown as the trend
COLOURS = {"pass": "#1e8449", "warn": "#b9770e", "fail": "#c0392b"}
OUT_OF_SCOPE = (
    "Workstations are out of scope: the policy forbids keeping the only copy of "
    "critical company data on one."
)


def page_data(policy: BackupPolicy, store: EvidenceStore, now: datetime) -> dict[str, Any]:
    evaluation = store.latest("compliance", "policy")
    assets = []
    for kind, asset in assets_of(policy, store):
        good = [r for r in store.read(kind, asset) if r.outcome == "pass"]
        last = good[-1] if good else None
        details = last.details if last else {}
        assets.append(
            {
                "asset": asset,
                "last_backup": last.recorded_at.isoformat() if last else None,
                "age_hours": round((now - last.recorded_at).total_seconds() / 3600, 1)
                if last
                else None,
                "dr_copy": _dr_copy(asset, details),
                "encryption": _encryption(asset, details),
                "run": {"dag_id": last.dag_id, "run_id": last.run_id} if last else None,
            }
        )
    test = store.latest("restore_test", "all")
    return {
        "evaluated_at": evaluation.recorded_at.isoformat() if evaluation else None,
        "status": evaluation.outcome if evaluation else "fail",
        "clauses": evaluation.details["clauses"] if evaluation else [],
        "evaluation_run": {"dag_id": evaluation.dag_id, "run_id": evaluation.run_id}
        if evaluation
        else None,
        "assets": assets,
        "restore_test": {
            "outcome": test.outcome,
            "at": test.recorded_at.isoformat(),
            "report": test.details.get("report"),
        }
        if test
        else None,
        "sla_register": [
            {
                "name": s.name,
                "sla_url": s.sla_url,
                "reviewed_on": s.sla_reviewed_on.isoformat(),
                "reviewed_by": s.reviewed_by,
            }
            for s in policy.cloud_services
        ],
        "history": [
            {"at": r.recorded_at.isoformat(), "status": r.outcome}
            for r in store.read("compliance", "policy")[-HISTORY:]
        ],
        "residency": policy.regions.residency.statement,
        "residency_verdict": policy.regions.residency.as_dict(),
        "out_of_scope": OUT_OF_SCOPE,
    }


def _dr_copy(asset: str, details: Mapping[str, Any]) -> str:
    if asset.startswith("rds/"):
        return str((details.get("copy") or {}).get("arn", ""))
    if asset.startswith("s3/"):
        return f"s3://{details.get('dr_bucket', '')}"
    return str((details.get("dr_copy") or {}).get("key") or "local backup store")


def _encryption(asset: str, details: Mapping[str, Any]) -> str:
    if asset.startswith("rds/"):
        return str((details.get("copy") or {}).get("kms_key_id", ""))
    if asset.startswith("s3/"):
        found = [
            c["found"] for c in details.get("guardrails", []) if c["name"] == "dr_bucket_encryption"
        ]
        return str(found[0]) if found else ""
    if details.get("verdict") == EMPTY_REPOSITORY:
        return "no bundle (empty repository)"
    return f"AES-256-GCM, key {(details.get('bundle') or {}).get('key_fingerprint', '?')}"


def render(data: dict[str, Any], run_link: str) -> str:
    """The page: plain HTML, escaped, no scripts. ``run_link`` formats a DAG run's URL."""

    def e(value: Any) -> str:
        return html.escape("" if value is None else str(value))

    def link(run: Mapping[str, str] | None, text: str) -> str:
        if not run:
            return ""
        return f'<a target="_top" href="{e(run_link.format(**run))}">{e(text)}</a>'

    def status(value: str) -> str:
        colour = COLOURS.get(value, "#000")
        return f'<span class="status" style="color:{colour}">{e(value.upper())}</span>'

    def table(name: str, headers: list[str], rows: list[list[str]]) -> str:
        head = "".join(f"<th>{h}</th>" for h in headers)
        body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
        return f'<table id="{name}"><tr>{head}</tr>{body}</table>'

    clauses = table(
        "clauses",
        ["clause", "status", "verdict", "evidence"],
        [
            [
                e(c["title"]),
                status(c["status"]),
                e(c["text"]),
                "<br>".join(link(r, r["recorded_at"][:19]) for r in c["evidence"][:5]),
            ]
            for c in data["clauses"]
        ],
    )
    assets = table(
        "assets",
        ["asset", "last good backup", "age (h)", "DR copy", "encryption", ""],
        [
            [
                e(a["asset"]),
                e(a["last_backup"]),
                e(a["age_hours"]),
                e(a["dr_copy"]),
                e(a["encryption"]),
                link(a["run"], "run"),
            ]
            for a in data["assets"]
        ],
    )
    sla = table(
        "sla",
        ["service", "SLA reviewed", "by"],
        [[e(s["name"]), e(s["reviewed_on"]), e(s["reviewed_by"])] for s in data["sla_register"]],
    )
    test = data["restore_test"]
    report = Path(str((test["report"] or {}).get("html", ""))).name if test else ""
    test_line = (
        f"{status(test['outcome'])} on {e(test['at'][:19])}; "
        f'<a href="reports/{e(report)}">report</a>'
        if test
        else "no restore test has run yet"
    )
    evaluated = f"{e(data['evaluated_at'] or 'never')} {link(data['evaluation_run'], '(run)')}"
    verdict = data.get("residency_verdict") or {}
    approval = verdict.get("approval")
    residency = (
        f'<p id="residency">{status("pass" if verdict.get("holds") else "fail")} '
        if verdict
        else '<p id="residency">'
    ) + f"{e(data['residency'])}</p>"
    if approval:
        pair = f"{approval['production_region']} -> {approval['dr_region']}"
        residency += table(
            "residency-approval",
            ["exception approved for", "approved by", "approved on", "covers the regions now"],
            [
                [
                    e(pair),
                    e(approval["approved_by"]),
                    e(approval["approved_on"]),
                    "yes" if approval["covers_configured_pair"] else "<strong>no</strong>",
                ]
            ],
        )
    return "\n".join(
        [
            '<!doctype html><html lang="en"><head><meta charset="utf-8">',
            "<title>Backup compliance</title><style>",
            "body{font-family:sans-serif;margin:1.5em;color:#222}",
            "table{border-collapse:collapse;margin-bottom:1.5em}",
            "td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}",
            ".status{font-weight:bold}</style></head><body>",
            f"<h1>Backup compliance: {status(data['status'])}</h1>",
            f"<p>Evaluated {evaluated}</p>",
            f"<h2>Policy clauses</h2>{clauses}",
            f"<h2>Assets</h2>{assets}",
            f'<h2>Last restore test</h2><p id="restore-test">{test_line}</p>',
            f"<h2>SLA register</h2>{sla}",
            '<h2>Trend</h2><p id="trend">'
            + " ".join(
                f'<span title="{e(h["at"])}">{status(h["status"])}</span>'
                for h in data.get("history", [])
            )
            + "</p>",
            f"<h2>Residency</h2>{residency}<p>{e(data['out_of_scope'])}</p>",
            '<p><a href="api/status">JSON</a></p></body></html>',
        ]
    )


def read_report(name: str) -> str | None:
    """A stored restore test report by file name; anything but a report name is refused."""
    from include.dr.store import store_root

    if not REPORT_NAME.fullmatch(name):
        return None
    path = store_root() / "reports" / "restore-test" / name
    return path.read_text() if path.is_file() else None


def now() -> datetime:
    return datetime.now(UTC)
