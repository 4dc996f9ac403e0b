"""The restore test's report: JSON for machines, HTML for an auditor, with the same data.

Kept in the local backup store and, encrypted with the DR key, in the DR bucket.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from include.dr.store import create_once

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

REPORT_PREFIX = ".backup/restore-tests/"
# Where the shared store keeps the reports, and their file names (<day>-<10 hex>.html/.json).
STORE_FOLDER = "reports/restore-test"
REPORT_FILE = re.compile(r"\d{4}-\d{2}-\d{2}-[0-9a-f]{10}\.(html|json)")


def build_report(
    plan: Mapping[str, Any], results: Mapping[str, Any], finished: str
) -> dict[str, Any]:
    """The report's data: what was restored from which backup, each check, times, verdict."""
    checks = [
        {"asset": name, "check": check, "success": bool(body.get("success")), "details": body}
        for name, group in results.items()
        for check, body in group.items()
    ]
    return {
        "report_version": 1,
        "test": "annual restore test",
        "scratch_id": plan["scratch_id"],
        "started_at": plan["started_at"],
        "finished_at": finished,
        "backups_restored": {
            "rds": [
                {
                    "instance": r["instance"],
                    "dump_date": r["dump_date"],
                    "snapshot_id": r["snapshot_id"],
                }
                for r in plan["rds"]
            ],
            "s3": [
                {"bucket": b["source_bucket"], "backup_day": b["backup_day"]} for b in plan["s3"]
            ],
            "git": [
                {"repository": f"{g['organisation']}/{g['repository']}", "day": g["day"]}
                for g in plan["git"]
            ],
        },
        "checks": checks,
        "restore_seconds": {
            c["asset"] + "/" + c["check"]: c["details"].get("seconds") for c in checks
        },
        "verdict": "pass" if checks and all(c["success"] for c in checks) else "fail",
    }


def render_html(report: Mapping[str, Any]) -> str:
    def cell(value: Any) -> str:
        return html.escape(value if isinstance(value, str) else json.dumps(value, default=str))

    rows = "\n".join(
        f"<tr class='{'pass' if c['success'] else 'fail'}'><td>{cell(c['asset'])}</td>"
        f"<td>{cell(c['check'])}</td><td>{'pass' if c['success'] else 'FAIL'}</td>"
        f"<td>{cell(c['details'].get('seconds'))}</td>"
        f"<td>{cell(c['details'].get('compared') or '')}</td>"
        f"<td><pre>{cell(json.dumps(c['details'], indent=1, default=str))}</pre></td></tr>"
        for c in report["checks"]
    )
    verdict = report["verdict"].upper()
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Restore test {cell(report["started_at"])}</title>
<style>body{{font-family:sans-serif;margin:2em}}
td,th{{border:1px solid #ccc;padding:4px;vertical-align:top}}
.pass td:nth-child(3){{color:#186a3b}}.fail td:nth-child(3){{color:#a93226;font-weight:bold}}
pre{{margin:0;max-height:20em;overflow:auto;font-size:85%}}</style></head><body>
<h1>Restore test: {verdict}</h1>
<p>Started {cell(report["started_at"])}, finished {cell(report["finished_at"])}.
Policy: "Backups must be tested every year to ensure their consistency and reliability."</p>
<h2>Backups restored</h2><pre>{cell(json.dumps(report["backups_restored"], indent=1))}</pre>
<h2>Checks</h2><table>
<tr><th>asset</th><th>check</th><th>result</th><th>restore seconds</th><th>compared</th>
<th>details</th></tr>
{rows}</table></body></html>
"""


def store_report(
    report: Mapping[str, Any], folder: ObjectStoragePath, dr_s3: Any, bucket: str, key_arn: str
) -> dict[str, str]:
    """Write both forms once to the shared store (which the compliance page reads) and to
    the DR bucket (SSE-KMS); where they are."""
    day = report["started_at"][:10]
    name = f"{day}-{report['scratch_id']}"
    body = json.dumps(report, indent=2, default=str)
    page = render_html(report)
    create_once(folder / f"{name}.json", body.encode())
    create_once(folder / f"{name}.html", page.encode())
    prefix = f"{REPORT_PREFIX}{name}/"
    for suffix, content, kind in (("json", body, "application/json"), ("html", page, "text/html")):
        dr_s3.put_object(
            Bucket=bucket,
            Key=f"{prefix}report.{suffix}",
            Body=content.encode(),
            ContentType=kind,
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=key_arn,
            BucketKeyEnabled=True,
        )
    return {
        "html": str(folder / f"{name}.html"),
        "json": str(folder / f"{name}.json"),
        "dr_copy": f"s3://{bucket}/{prefix}",
    }
