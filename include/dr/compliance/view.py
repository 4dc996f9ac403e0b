"""What the compliance page shows, from the latest evaluation and the evidence store:
each clause with its status and evidence, each asset's last backup and its newest DR
copy, the charts of the history (:mod:`~include.dr.compliance.figures`), the last restore
test, the evidence packs, the SLA register, and the residency verdict with who approved
its exception, when, and for which region pair. The JSON endpoint serves the same facts
without the charts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from include.dr.compliance.facts import EMPTY_REPOSITORY, assets_of
from include.dr.compliance.figures import Figures
from include.dr.compliance.markup import Clock, e, figure, link, status, table
from include.dr.compliance.page_style import HEAD_SCRIPT, STYLE
from include.dr.evidence import EvidenceStore
from include.dr.policy.model import BackupPolicy

HISTORY = 14  # evaluations in the JSON's trend
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
                "dr_copy": _dr_copy(asset, details) if last else "",
                "encryption": _encryption(asset, details),
                "run": {"dag_id": last.dag_id, "run_id": last.run_id} if last else None,
            }
        )
    test = store.latest("restore_test", "all")
    return {
        "timezone": policy.schedule.window.timezone,
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
            "run": {"dag_id": test.dag_id, "run_id": test.run_id},
        }
        if test
        else None,
        "evidence_packs": _packs(store),
        "sla_register": [s.register_entry() for s in policy.cloud_services],
        "history": [
            {"at": r.recorded_at.isoformat(), "status": r.outcome}
            for r in store.read("compliance", "policy")[-HISTORY:]
        ],
        "residency": policy.regions.residency.statement,
        "residency_verdict": policy.regions.residency.as_dict(),
        "out_of_scope": OUT_OF_SCOPE,
    }


def _packs(store: EvidenceStore) -> list[dict[str, Any]]:
    """The evidence packs built so far, newest first (``include/dr/evidence_pack/stored``)."""
    from include.dr.evidence_pack.stored import EVIDENCE_ASSET, EVIDENCE_KIND, PACK_NAME

    found = []
    for record in reversed(store.read(EVIDENCE_KIND, EVIDENCE_ASSET)):
        pack = record.details.get("pack") or {}
        if record.outcome == "fail" or not PACK_NAME.fullmatch(str(pack.get("name", ""))):
            continue
        found.append(
            {
                "name": pack["name"],
                "period": dict(pack.get("period") or {}),
                "sha256": pack.get("sha256"),
                "size": pack.get("size"),
                "built_at": record.recorded_at.isoformat(),
                "run": {"dag_id": record.dag_id, "run_id": record.run_id},
            }
        )
    return found


def _dr_copy(asset: str, details: Mapping[str, Any]) -> str:
    """The newest backup's DR copy by name: the DR snapshot copy and the dump, the S3 run's
    summary (which names its manifests), the git bundle of record."""
    if asset.startswith("rds/"):
        copy = details.get("copy") or {}
        region = str(copy.get("arn", "")).split(":")[3:4]
        snapshot = f"snapshot {copy.get('id', '?')}" + (f" in {region[0]}" if region else "")
        dump = details.get("dump_key") or (details.get("dump") or {}).get("key")
        bucket = details.get("dr_bucket", "")
        return snapshot + (f"; dump s3://{bucket}/{dump}" if dump else "")
    if asset.startswith("s3/"):
        key = details.get("summary_key") or ""
        return f"s3://{details.get('dr_bucket', '')}/{key}"
    if details.get("verdict") == EMPTY_REPOSITORY:
        return "none (empty repository)"
    dr_copy = details.get("dr_copy") or {}
    if dr_copy.get("key"):
        return f"s3://{dr_copy.get('bucket', '')}/{dr_copy['key']}"
    return "local backup store"


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


def render(data: dict[str, Any], run_link: str, figures: Figures | None = None) -> str:
    """The page: escaped HTML; charts are our own SVGs; one small script follows Airflow's
    theme. ``run_link`` formats a DAG run's URL."""
    clock = Clock(ZoneInfo(data.get("timezone") or "UTC"))

    def run(ref: Mapping[str, str] | None, at: str | None, prefix: str = "") -> str:
        if not ref or not at:
            return ""
        words = clock.run_words(ref["run_id"], at)
        return link(run_link, ref, f"{prefix}{words}", _utc_title(at))

    def chart(name: str) -> str:
        return figure(getattr(figures, name), clock) if figures else ""

    clauses = table(
        "clauses",
        ["clause", "status", "verdict", "evidence"],
        [
            [
                e(c["title"]),
                status(c["status"]),
                e(c["text"]),
                "<br>".join(
                    run(r, r["recorded_at"], f"{r.get('asset') or r['dag_id']}: ")
                    for r in c["evidence"][:5]
                ),
            ]
            for c in data["clauses"]
        ],
    )
    assets = table(
        "assets",
        ["asset", "last good backup", "age (h)", "DR copy (newest backup)", "encryption", "run"],
        [
            [
                e(a["asset"]),
                clock.time(a["last_backup"]),
                e(a["age_hours"]),
                f'<span class="id">{e(a["dr_copy"])}</span>',
                f'<span class="id">{e(a["encryption"])}</span>',
                run(a["run"], a["last_backup"]),
            ]
            for a in data["assets"]
        ],
    )
    sla = table(
        "sla",
        ["service", "SLA reviewed", "by"],
        [[e(s["name"]), e(s["reviewed_on"]), e(s["reviewed_by"])] for s in data["sla_register"]],
    )
    evaluated = clock.time(data["evaluated_at"])
    if data.get("evaluation_run") and data["evaluated_at"]:
        evaluated += " (" + run(data["evaluation_run"], data["evaluated_at"], "evaluation ") + ")"
    windows = "".join(figure(f, clock) for f in figures.windows) if figures else ""
    sections = [
        (
            "clauses-section",
            "Policy clauses",
            # The grid first: a month of every clause at a glance, then the day's words.
            f"<p>Evaluated {evaluated}</p>" + chart("grid") + clauses,
        ),
        ("assets-section", "Assets", assets),
        (
            "windows-section",
            "Backups against the window",
            "<p>Each line runs from a backup run's start to the moment the asset was recorded "
            "done, drawn over the policy's window (shaded) on the local clock.</p>"
            f'<div class="pair">{windows}</div>',
        ),
        ("volume-section", "Volume", chart("volume")),
        ("freshness-section", "Freshness", chart("ages")),
        ("restore-section", "Restore tests", _restore_test(data, clock, run) + chart("recovery")),
        ("packs-section", "Evidence packs", _packs_html(data.get("evidence_packs") or [], clock)),
        ("sla-section", "SLA register", sla),
        ("residency-section", "Residency", _residency(data) + f"<p>{e(data['out_of_scope'])}</p>"),
    ]
    nav = " · ".join(f'<a href="#{s}">{e(title)}</a>' for s, title, _ in sections)
    body = "".join(
        f'<section id="{s}" aria-labelledby="{s}-h"><h2 id="{s}-h">{e(title)}</h2>{html}</section>'
        for s, title, html in sections
    )
    return "\n".join(
        [
            '<!doctype html><html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<meta name="color-scheme" content="light dark">',
            f"<title>Backup compliance</title><script>{HEAD_SCRIPT}</script>",
            f"<style>{STYLE}</style></head><body><main>",
            f"<h1>Backup compliance: {status(data['status'])}</h1>",
            f'<nav aria-label="Sections">{nav}</nav>',
            body,
            '<p><a href="api/status">The same facts as JSON</a></p></main></body></html>',
        ]
    )


def _utc_title(at: str) -> str:
    moment = datetime.fromisoformat(at)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def _restore_test(data: Mapping[str, Any], clock: Clock, run: Any) -> str:
    test = data["restore_test"]
    if not test:
        return '<p id="restore-test">no restore test has run yet</p>'
    report = Path(str((test["report"] or {}).get("html", ""))).name
    words = f"report of the restore test of {clock.day(test['at'])}"
    report_link = f'; <a href="reports/{e(report)}">{e(words)}</a>' if report else ""
    return (
        f'<p id="restore-test">{status(test["outcome"])} on {clock.time(test["at"])}'
        f"{report_link} ({run(test.get('run'), test['at'])})</p>"
    )


def _packs_html(packs: list[dict[str, Any]], clock: Clock) -> str:
    if not packs:
        return (
            '<p id="packs">No evidence pack has been built yet. Trigger '
            "<code>compliance_evidence_pack</code> for a period to build one.</p>"
        )
    rows = [
        [
            f'<a href="packs/{e(p["name"])}" download>evidence pack '
            f"{e(p['period'].get('start', '?'))} to {e(p['period'].get('end', '?'))}</a>",
            clock.time(p["built_at"]),
            e(f"{int(p['size'] or 0):,} bytes"),
            f'<span class="id" title="SHA-256">{e(p["sha256"])}</span>',
        ]
        for p in packs
    ]
    return table("packs", ["pack", "built", "size", "SHA-256"], rows)


def _residency(data: Mapping[str, Any]) -> str:
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
    return residency


def read_report(name: str) -> str | None:
    """A stored restore test report by file name; anything but a report name is refused."""
    from include.dr.restore_test.report import REPORT_FILE, STORE_FOLDER
    from include.dr.store import store_root

    if not (REPORT_FILE.fullmatch(name) and name.endswith(".html")):
        return None
    path = store_root() / STORE_FOLDER / name
    return path.read_text() if path.is_file() else None


def now() -> datetime:
    return datetime.now(UTC)
