"""The pack's PDF summary, rendered with fpdf2 from :mod:`.summary`'s data.

fpdf2 is imported when a pack is rendered, never at DAG parse time. The built-in
Helvetica covers Latin-1 only, so other characters are replaced, never dropped silently
(the raw records in the pack keep the exact text).
"""

from __future__ import annotations

from typing import Any

from include.dr.evidence_pack.controls import CLAUSE_IDS, ISO, SOC2, controls_text
from include.dr.evidence_pack.summary import PackSummary

STATUS_COLOURS = {
    "pass": (30, 132, 73),
    "warn": (185, 119, 14),
    "fail": (192, 57, 43),
    "not evaluated": (90, 90, 90),
}
SUBSTITUTES = {
    "\u2013": "-",
    "\u2014": "-",
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2026": "...",
}


def latin1(text: Any) -> str:
    value = "".join(SUBSTITUTES.get(c, c) for c in str("" if text is None else text))
    return value.encode("latin-1", "replace").decode("latin-1")


def render_pdf(summary: PackSummary) -> bytes:
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_title(latin1(f"{summary['company']}: backup evidence pack"))
    pdf.set_creation_date(__import__("datetime").datetime.fromisoformat(summary["generated_at"]))
    pdf.add_page()
    period = summary["period"]

    def heading(text: str, size: int = 13) -> None:
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", size)
        pdf.multi_cell(0, 7, latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font("Helvetica", "", 9)

    def para(text: str, style: str = "") -> None:
        pdf.set_font("Helvetica", style, 9)
        pdf.multi_cell(0, 4.6, latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def table(headers: list[str], rows: list[list[str]], widths: tuple[int, ...]) -> None:
        pdf.set_font("Helvetica", "", 8)
        with pdf.table(col_widths=widths, text_align="LEFT", line_height=4) as grid:
            header = grid.row()
            for h in headers:
                header.cell(latin1(h))
            for row in rows:
                cells = grid.row()
                for value in row:
                    cells.cell(latin1(value))
        pdf.set_font("Helvetica", "", 9)

    heading(f"{summary['company']}: backup evidence pack", 16)
    para(
        f"Period: {period['start']} to {period['end']} (inclusive, {period['timezone']}). "
        f"Generated {summary['generated_at']}. {summary['records']} evidence records of the "
        f"period are in this archive under evidence/, as stored; the restore-test reports "
        f"under reports/. manifest.json lists every file's SHA-256 and is signed by KMS "
        f"(manifest.sig, signature.json)."
    )
    if summary["unreadable"]:
        para(f"Records that could not be read (kept out): {', '.join(summary['unreadable'])}")

    heading("Verdict per clause over the period")
    rows = []
    for c in summary["clauses"]:
        counts = ", ".join(f"{n} {s}" for s, n in c["counts"].items()) or "none"
        rows.append(
            [
                c["clause"] if c["title"] == c["clause"] else f"{c['clause']}\n{c['title']}",
                c["status"].upper(),
                counts,
                c["iso27001"],
                c["soc2"],
            ]
        )
    table(["clause", "verdict", "evaluations", ISO, SOC2], rows, (50, 20, 30, 45, 45))
    for c in summary["clauses"]:
        pdf.ln(1)
        pdf.set_text_color(*STATUS_COLOURS[c["status"]])
        para(f"{c['clause']}: {c['status'].upper()}", "B")
        pdf.set_text_color(0, 0, 0)
        para(f"Last: {c['last']}")
        for finding in c["findings"]:
            para(f"- {finding}")

    heading("Exceptions")
    if not summary["exceptions"]:
        para(
            "None in the period: no window override or breach, no failed run, restore test "
            "or clause."
        )
    else:
        table(
            ["kind", "when", "DAG / asset / run", "reason"],
            [
                [
                    e["kind"],
                    e["at"][:19].replace("T", " ") or "-",
                    f"{e['dag_id']}\n{e['asset']}\n{e['run_id']}",
                    e["reason"],
                ]
                for e in summary["exceptions"]
            ],
            (28, 28, 52, 82),
        )

    heading("Restore tests in the period")
    if not summary["restore_tests"]:
        para("No restore test ran in the period.")
    for test in summary["restore_tests"]:
        para(
            f"{test['at'][:19].replace('T', ' ')}: {test['outcome'].upper()} "
            f"(run {test['run_id']})",
            "B",
        )
        para(f"Reports in this archive: {', '.join(test['reports']) or 'none recorded'}")
        if test["failing"]:
            para(f"Failing checks: {', '.join(test['failing'])}")

    heading("SLA register (cloud services without a company backup)")
    table(
        ["service", "SLA", "reviewed on", "by"],
        [
            [s["name"], s["sla_url"], s["reviewed_on"], s["reviewed_by"]]
            for s in summary["sla_register"]
        ],
        (55, 75, 25, 35),
    )

    heading("Data residency")
    residency = summary["residency"]
    para(
        f"Production {residency['production_region']}, DR {residency['dr_region']}. "
        f"{residency['statement']}"
    )
    exception = residency["exception"]
    if exception:
        para(
            f"Residency exception for {exception['production_region']} -> "
            f"{exception['dr_region']}: "
            f"approved by {exception['approved_by']} on {exception['approved_on']}. "
            f"Reason: {exception['reason']}"
        )

    heading("Which control each clause evidences")
    table(
        ["clause", f"{ISO} Annex A", SOC2],
        [[c, controls_text(c, ISO), controls_text(c, SOC2)] for c in CLAUSE_IDS],
        (40, 75, 75),
    )
    para(
        "The mapping says what each clause's evidence supports; the effectiveness of a "
        "control is the auditor's judgment."
    )
    heading("Checking this archive")
    para(
        "python -m include.dr.evidence_pack verify PACK.zip --kms (or --public-key FILE, or "
        "--fingerprint SHA256); or with openssl, sha256sum and the AWS CLI as the README's "
        "recipe shows. Any edited, added or removed file fails, naming it."
    )
    return bytes(pdf.output())
