"""The compliance page's charts as data: the rules each one draws by, and the SVG they
become in both themes."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from include.dr.compliance import chart_specs, charts
from include.dr.compliance.svg import render_svg, unique_ids
from include.dr.evidence import EvidenceRecord
from include.dr.policy.model import BackupWindow

LONDON = ZoneInfo("Europe/London")
WINDOW = BackupWindow(start=time(1), end=time(5), timezone="Europe/London")
TODAY = date(2026, 11, 30)
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def backup(
    at: datetime, run_id: str = "r1", outcome: str = "pass", **details: Any
) -> EvidenceRecord:
    return EvidenceRecord(
        "rds_backup",
        "rds/db",
        "rds_backup",
        run_id,
        outcome,
        details,
        recorded_at=at,  # type: ignore[arg-type]
    )


def gate(run_id: str, started: datetime, day: date, override: bool = False) -> EvidenceRecord:
    opens = datetime.combine(day, time(1), LONDON)
    window = {
        "day": day.isoformat(),
        "opens_at": opens.astimezone(UTC).isoformat(),
        "closes_at": (opens + timedelta(hours=4)).astimezone(UTC).isoformat(),
        "timezone": "Europe/London",
    }
    details = {"window": window, "gate_checked_at": started.isoformat(), "override": override}
    return EvidenceRecord("window", "rds_backup", "rds_backup", run_id, "pass", details)


instants = st.integers(min_value=0, max_value=20 * 24 * 60).map(lambda m: T0 + timedelta(minutes=m))


@given(instants, instants, instants, instants, st.booleans())
def test_a_run_is_inside_only_when_it_starts_and_ends_in_the_window_and_an_override_excuses_it(
    started: datetime, ended: datetime, opens: datetime, closes: datetime, overridden: bool
) -> None:
    found = charts.window_status(started, ended, opens, closes, overridden)
    inside = opens <= started and ended <= closes
    assert found == ("inside" if inside else "override" if overridden else "breach")


def test_each_backup_is_drawn_from_its_runs_gate_to_its_own_end_on_the_local_clock() -> None:
    day = date(2026, 11, 20)
    start = datetime(2026, 11, 20, 1, 5, tzinfo=UTC)  # GMT in November: 01:05 local
    records = [
        backup(start + timedelta(minutes=30), "in"),
        backup(start + timedelta(hours=5), "late"),
        backup(datetime(2026, 11, 21, 14, 30, tzinfo=UTC), "by-hand"),
        backup(start + timedelta(minutes=9), "failed", outcome="fail"),
        backup(datetime(2026, 11, 22, 1, 20, tzinfo=UTC), "no-gate", day="2026-11-22"),
        backup(datetime(2026, 8, 1, 1, 20, tzinfo=UTC), "too-old", day="2026-08-01"),
    ]
    runs = {
        ("rds_backup", "in"): gate("in", start, day),
        ("rds_backup", "late"): gate("late", start, day),
        ("rds_backup", "by-hand"): gate(
            "by-hand", datetime(2026, 11, 21, 14, tzinfo=UTC), date(2026, 11, 21), True
        ),
    }
    rows = charts.timeline(records, runs, WINDOW, TODAY, 30)
    found = {r["run_id"]: (r["status"], round(r["start"], 2), round(r["end"], 2)) for r in rows}
    assert found == {
        "in": ("inside", 1.08, 1.58),  # 01:05 to 01:35
        "late": ("breach", 1.08, 6.08),  # to 06:05, after the window closed at 05:00
        "by-hand": ("override", 14.0, 14.5),
        "no-gate": ("inside", 1.33, 1.33),  # no gate recorded: a point at its end
    }


def test_the_window_band_follows_the_clock_on_the_day_summer_time_starts() -> None:
    bands = {b["day"]: b for b in charts.bands(WINDOW, date(2026, 3, 30), 3)}
    assert (bands["2026-03-28"]["opens"], bands["2026-03-28"]["closes"]) == (1.0, 5.0)
    # 01:00 does not exist on 29 March: the window opens at 02:00 BST and keeps its 4 hours
    assert (bands["2026-03-29"]["opens"], bands["2026-03-29"]["closes"]) == (2.0, 6.0)


def test_an_overnight_time_reads_past_24_on_its_days_clock() -> None:
    assert (
        charts.clock_hours(datetime(2026, 11, 21, 1, 30, tzinfo=UTC), date(2026, 11, 20), LONDON)
        == 25.5
    )


gaps = st.lists(st.integers(min_value=1, max_value=72 * 60), min_size=1, max_size=40)


@given(gaps, st.integers(min_value=0, max_value=48 * 60))
def test_the_age_falls_to_zero_at_each_good_backup_and_its_peak_is_the_longest_gap(
    minutes: list[int], tail: int
) -> None:
    times, at = [], T0
    for step in minutes:
        at += timedelta(minutes=step)
        times.append(at)
    now = times[-1] + timedelta(minutes=tail)
    start = now - timedelta(days=10)
    points = charts.ages("rds/db", times, now, 10)
    ages = [p["age_hours"] for p in points]
    assert min(ages) >= 0 and ages[-1] == pytest.approx(tail / 60, abs=0.001)
    inside = [t for t in times if t >= start]
    assert sum(1 for p in points[:-1] if p["age_hours"] == 0) == len(inside)  # last: now
    before = [t for t in times if t < start]
    spans = [b - a for a, b in zip(times, times[1:], strict=False) if b >= start]
    spans.append(now - times[-1])
    if before:
        spans.append(start - before[-1])
    assert max(ages) == pytest.approx(max(spans).total_seconds() / 3600, abs=0.001)


def test_no_good_backup_has_no_age_line() -> None:
    assert charts.ages("rds/db", [], T0, 30) == []
    assert charts.ages_summary([]) == "No good backup recorded yet."


def test_volume_counts_what_reached_the_dr_side_per_day() -> None:
    at = datetime(2026, 11, 29, 1, 20, tzinfo=UTC)
    dump = {"bytes_compressed": 1000, "key": "k", "reused": False}
    records = [
        backup(at, "a", day="2026-11-29", dump=dump),
        backup(at + timedelta(hours=3), "b", day="2026-11-29", dump=dump | {"reused": True}),
        backup(at, "c", outcome="fail", day="2026-11-29", dump=dump),
        EvidenceRecord(
            "s3_backup",
            "s3/x",
            "s3_backup",
            "a",
            "pass",
            {"day": "2026-11-29", "bytes_copied": 500, "copied": 7},
            recorded_at=at,
        ),
    ]
    rows = charts.volume(records, WINDOW, TODAY, 30)
    assert [(r["asset"], r["bytes"], r["objects"]) for r in rows] == [
        ("rds/db", 1000, 1),
        ("s3/x", 500, 7),
    ]


def test_the_grid_takes_each_days_last_evaluation_in_the_policys_zone() -> None:
    def evaluation(at: datetime, status: str) -> EvidenceRecord:
        clauses = [{"title": "Fresh", "status": status}]
        return EvidenceRecord(
            "compliance",
            "policy",
            "compliance_evaluation",
            at.isoformat(),
            status,  # type: ignore[arg-type]
            {"clauses": clauses},
            recorded_at=at,
        )

    cells = charts.status_grid(
        [
            evaluation(datetime(2026, 6, 10, 5, tzinfo=UTC), "fail"),
            evaluation(datetime(2026, 6, 10, 23, 30, tzinfo=UTC), "pass"),  # 11 June, BST
            evaluation(datetime(2026, 6, 10, 9, tzinfo=UTC), "warn"),
        ],
        LONDON,
        date(2026, 6, 12),
    )
    assert [(c["day"], c["status"]) for c in cells] == [
        ("2026-06-10", "warn"),
        ("2026-06-11", "pass"),
    ]


def test_recovery_takes_each_years_latest_test_and_its_timed_checks() -> None:
    def test(at: datetime, seconds: Any) -> EvidenceRecord:
        checks = [{"asset": "rds/db", "check": "logical", "details": {"seconds": seconds}}]
        return EvidenceRecord(
            "restore_test",
            "all",
            "restore_test",
            at.isoformat(),
            "pass",
            {"checks": checks},
            recorded_at=at,
        )

    rows = charts.recovery(
        [
            test(datetime(2025, 1, 15, tzinfo=UTC), 100.0),
            test(datetime(2025, 3, 1, tzinfo=UTC), 90),
            test(datetime(2026, 1, 15, tzinfo=UTC), None),
        ]
    )
    assert [(r["year"], r["seconds"]) for r in rows] == [(2025, 90.0)]


def test_two_svgs_on_one_page_never_share_an_id() -> None:
    svg = '<svg><clipPath id="clip1"/><g clip-path="url(#clip1)"/><use href="#clip1"/></svg>'
    assert unique_ids(svg, "a-") == (
        '<svg><clipPath id="a-clip1"/><g clip-path="url(#a-clip1)"/><use href="#a-clip1"/></svg>'
    )


@pytest.mark.parametrize("palette", chart_specs.PALETTES, ids=lambda p: p.name)
def test_every_chart_renders_to_svg_in_each_theme_even_with_no_data(
    palette: chart_specs.Palette,
) -> None:
    specs = [
        chart_specs.timeline("rds/db", charts.bands(WINDOW, TODAY, 30), [], TODAY, 30, palette),
        chart_specs.volume([], TODAY, 90, palette),
        chart_specs.ages([], 24, 26, palette),
        chart_specs.status_grid([], [], palette),
        chart_specs.recovery([], palette),
    ]
    for spec in specs:
        svg = render_svg(spec, palette)
        assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
        assert not re.search(r'<rect[^>]*fill="white"', svg)  # Airflow's background shows
