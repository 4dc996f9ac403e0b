"""Every clause the compliance evaluation judges has its controls, and no other."""

from __future__ import annotations

import re

from include.dr.evidence_pack.controls import CLAUSE_CONTROLS, markdown_table
from include.dr.project import PROJECT_ROOT

JUDGED = re.compile(r'(?:Verdict\(|checks_held\()\s*"([a-z_]+)"')


def test_the_mapping_names_exactly_the_evaluations_clauses() -> None:
    sources = (PROJECT_ROOT / "include/dr/compliance").glob("*.py")
    judged = {m for path in sources for m in JUDGED.findall(path.read_text())}
    assert judged == set(CLAUSE_CONTROLS)


def test_every_clause_maps_to_iso_27001_and_soc_2() -> None:
    for clause, controls in CLAUSE_CONTROLS.items():
        assert {c.framework for c in controls} == {"ISO/IEC 27001:2022", "SOC 2 TSC"}, clause
    assert "| `freshness` | A.8.13 Information backup | A1.2" in markdown_table()
