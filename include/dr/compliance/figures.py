"""The compliance page's figures: each chart read from the evidence store, shaped
(:mod:`~include.dr.compliance.charts`), drawn (:mod:`~include.dr.compliance.chart_specs`)
and rendered in both themes (:mod:`~include.dr.compliance.svg`), with the summary and the
data table that are its text equivalent."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from include.dr.compliance import chart_specs, charts
from include.dr.compliance.clauses import FAIL_AFTER, WARN_AFTER
from include.dr.compliance.facts import BACKUP_DAGS, assets_of
from include.dr.evidence import EvidenceRecord, EvidenceStore
from include.dr.policy.model import BackupPolicy


@dataclass(frozen=True)
class Figure:
    """One chart: its SVG per theme, a one-sentence summary, and its data as a table."""

    key: str
    title: str
    summary: str
    svgs: dict[str, str]  # theme name -> SVG
    headers: tuple[str, ...]
    rows: list[tuple[Any, ...]] = field(default_factory=list)


@dataclass(frozen=True)
class Figures:
    """Every figure on the page, by the section it belongs to."""

    windows: list[Figure]
    volume: Figure
    ages: Figure
    grid: Figure
    recovery: Figure


def _svgs(draw: Any) -> dict[str, str]:
    from include.dr.compliance.svg import render_svg

    return {p.name: render_svg(draw(p), p) for p in chart_specs.PALETTES}


def build(policy: BackupPolicy, store: EvidenceStore, now: datetime) -> Figures:
    window = policy.schedule.window
    zone = window.zone
    today = charts.local_today(now, zone)
    runs: dict[tuple[str, str], EvidenceRecord] = {
        (r.dag_id, r.run_id): r for dag_id in BACKUP_DAGS for r in store.read("window", dag_id)
    }
    backups = {asset: store.read(kind, asset) for kind, asset in assets_of(policy, store)}
    windows = [
        _timeline(asset, records, runs, policy, today, days)
        for asset, records in backups.items()
        for days in charts.RANGES
    ]
    every = [r for records in backups.values() for r in records]
    days = max(charts.RANGES)
    written = charts.volume(every, window, today, days)
    volume = Figure(
        "volume",
        f"Written to the DR side per day, last {days} days",
        charts.volume_summary(written, days),
        _svgs(lambda p: chart_specs.volume(written, today, days, p)),
        ("day", "asset", "bytes", "objects"),
        [(r["day"], r["asset"], r["bytes"], r["objects"]) for r in written],
    )
    points = [
        p
        for asset, records in backups.items()
        for p in charts.ages(
            asset, [r.recorded_at for r in records if r.outcome == "pass"], now, charts.AGE_DAYS
        )
    ]
    warn, fail = WARN_AFTER.total_seconds() / 3600, FAIL_AFTER.total_seconds() / 3600
    ages = Figure(
        "ages",
        f"Age of the newest good backup, last {charts.AGE_DAYS} days",
        charts.ages_summary(points),
        _svgs(lambda p: chart_specs.ages(points, warn, fail, p)),
        ("asset", "at", "age (h)"),
        [(p["asset"], datetime.fromisoformat(p["at"]), p["age_hours"]) for p in points],
    )
    evaluations = store.read("compliance", "policy")
    cells = charts.status_grid(evaluations, zone, today)
    titles = [str(c["title"]) for c in evaluations[-1].details["clauses"]] if evaluations else []
    grid = Figure(
        "grid",
        f"Clause status by day, last {charts.GRID_DAYS} days",
        charts.grid_summary(cells),
        _svgs(lambda p: chart_specs.status_grid(cells, titles, p)),
        ("day", "clause", "status"),
        [(c["day"], c["clause"], c["status"]) for c in cells],
    )
    timed = charts.recovery(store.read("restore_test", "all"))
    recovery = Figure(
        "recovery",
        "Restore tests: time to restore and check each asset, year by year",
        charts.recovery_summary(timed),
        _svgs(lambda p: chart_specs.recovery(timed, p)),
        ("year", "asset", "check", "seconds"),
        [(r["year"], r["asset"], r["check"], r["seconds"]) for r in timed],
    )
    return Figures(windows, volume, ages, grid, recovery)


def _timeline(
    asset: str,
    records: list[EvidenceRecord],
    runs: dict[tuple[str, str], EvidenceRecord],
    policy: BackupPolicy,
    today: Any,
    days: int,
) -> Figure:
    window = policy.schedule.window
    rows = charts.timeline(records, runs, window, today, days)
    bands = charts.bands(window, today, days)
    return Figure(
        "window-" + re.sub(r"[^A-Za-z0-9]+", "-", asset) + f"-{days}",
        f"{asset}: backups against the window, last {days} days",
        charts.timeline_summary(asset, rows, days),
        _svgs(lambda p: chart_specs.timeline(asset, bands, rows, today, days, p)),
        ("day", "started", "finished", "window"),
        [
            (
                r["day"],
                datetime.fromisoformat(r["started_at"]),
                datetime.fromisoformat(r["ended_at"]),
                chart_specs.WINDOW_LABELS[r["status"]],
            )
            for r in rows
        ],
    )
