"""Which control each clause of the policy evidences: ISO/IEC 27001:2022 Annex A and the
SOC 2 Trust Services Criteria (2017, revised points of focus 2022).

One table, read by the pack's PDF, the README and the tests. It says what the clause's
evidence supports; whether a control is effective is the auditor's judgment.
"""

from __future__ import annotations

from typing import Final, NamedTuple


class Control(NamedTuple):
    framework: str  # "ISO 27001" or "SOC 2"
    ref: str  # "A.8.13", "A1.2"
    name: str


ISO = "ISO/IEC 27001:2022"
SOC2 = "SOC 2 TSC"
A_5_23 = Control(ISO, "A.5.23", "Information security for use of cloud services")
A_5_30 = Control(ISO, "A.5.30", "ICT readiness for business continuity")
A_8_13 = Control(ISO, "A.8.13", "Information backup")
A_8_14 = Control(ISO, "A.8.14", "Redundancy of information processing facilities")
A_8_15 = Control(ISO, "A.8.15", "Logging")
A_8_16 = Control(ISO, "A.8.16", "Monitoring activities")
A_8_24 = Control(ISO, "A.8.24", "Use of cryptography")
A1_2 = Control(SOC2, "A1.2", "Backup processes and recovery infrastructure")
A1_3 = Control(SOC2, "A1.3", "Recovery plan procedures tested")
CC6_1 = Control(SOC2, "CC6.1", "Logical access security over protected information assets")
CC6_7 = Control(SOC2, "CC6.7", "Information protected in transmission")
CC7_2 = Control(SOC2, "CC7.2", "Monitoring of system components for anomalies")
CC9_1 = Control(SOC2, "CC9.1", "Risk mitigation for business disruptions")
CC9_2 = Control(SOC2, "CC9.2", "Vendor and business partner risk management")

# Clause id (as the compliance evaluation names it) -> the controls it evidences.
CLAUSE_CONTROLS: Final[dict[str, tuple[Control, ...]]] = {
    "freshness": (A_8_13, A1_2),
    "window": (A_8_13, A1_2, CC7_2),
    "retention_coverage": (A_8_13, A1_2),
    "archived_at_source": (A_8_13, A1_2),
    "retention_minimum": (A_8_13, A1_2),
    "dr_lifecycle": (A_8_13, A1_2),
    "object_lock": (A_8_13, A1_2, CC6_1),
    "dr_key_guard": (A_8_13, A_8_24, CC6_1),
    "encryption": (A_8_24, CC6_1, CC6_7),
    "region": (A_8_14, A_5_30, A1_2, CC9_1),
    "cloudtrail": (A_8_15, A_8_16, CC7_2),
    "restore_test": (A_8_13, A_5_30, A1_3, CC9_1),
    "sla_register": (A_5_23, CC9_2),
    "tamper": (A_8_13, A_8_15, CC7_2),
}
CLAUSE_IDS: Final[tuple[str, ...]] = tuple(CLAUSE_CONTROLS)


def controls_text(clause: str, framework: str) -> str:
    """``A.8.13 Information backup; ...`` for one framework."""
    return "; ".join(
        f"{c.ref} {c.name}" for c in CLAUSE_CONTROLS.get(clause, ()) if c.framework == framework
    )


def markdown_table() -> str:
    """The mapping as the README's table."""
    rows = [
        f"| `{clause}` | {controls_text(clause, ISO)} | {controls_text(clause, SOC2)} |"
        for clause in CLAUSE_IDS
    ]
    return "\n".join([f"| clause | {ISO} Annex A | {SOC2} |", "|---|---|---|", *rows])
