"""The compliance page's charts as data: evidence records shaped into the rows each chart
draws and its text equivalent reads.

Pure functions of the records, the policy's window and the clock, so the rules (a run
outside its window is a breach unless overridden; a backup's age falls to zero at each
good backup) are tested without a store or a browser. The Vega-Lite specs are
:mod:`~include.dr.compliance.chart_specs`; the page is :mod:`~include.dr.compliance.view`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, TypedDict
from zoneinfo import ZoneInfo

from include.dr.evidence import EvidenceRecord
from include.dr.policy.model import BackupWindow
from include.dr.window import occurrence

WindowStatus = Literal["inside", "override", "breach"]
RANGES = (30, 90)  # days shown by the window timelines
GRID_DAYS = 30  # days shown by the clause status grid
AGE_DAYS = 30  # days shown by the freshness chart


class WindowBand(TypedDict):
    """One day's window, as hours on that day's local clock (past 24 overnight)."""

    day: str
    opens: float
    closes: float


class TimelineRow(TypedDict):
    """One backup of one asset: when its run started and the asset was recorded done."""

    day: str
    start: float  # hours on the window day's local clock
    end: float
    started_at: str  # UTC instants
    ended_at: str
    status: WindowStatus
    outcome: str
    dag_id: str
    run_id: str


class VolumeRow(TypedDict):
    """What one asset's backups wrote to the DR side on one backup day."""

    day: str
    kind: str
    asset: str
    bytes: int
    objects: int


class AgePoint(TypedDict):
    """The age of an asset's newest good backup at one instant."""

    asset: str
    at: str
    age_hours: float


class GridCell(TypedDict):
    day: str
    clause: str
    status: str


class RecoveryRow(TypedDict):
    """How long one restore test check took to restore and check one asset."""

    year: int
    asset: str
    check: str
    seconds: float
    tested_at: str


def clock_hours(moment: datetime, day: date, zone: ZoneInfo) -> float:
    """``moment`` as hours on ``day``'s local wall clock: 25.5 is 01:30 the day after."""
    local = moment.astimezone(zone)
    return round(
        (local.date() - day).days * 24 + local.hour + local.minute / 60 + local.second / 3600, 4
    )


def first_day(today: date, days: int) -> date:
    return today - timedelta(days=days - 1)


def bands(window: BackupWindow, today: date, days: int) -> list[WindowBand]:
    """The window of each of the last ``days`` days, on its own day's clock (DST moves it)."""
    found: list[WindowBand] = []
    for n in range(days):
        day = first_day(today, days) + timedelta(days=n)
        occ = occurrence(window, day)
        found.append(
            {
                "day": day.isoformat(),
                "opens": clock_hours(occ.opens_at, day, window.zone),
                "closes": clock_hours(occ.closes_at, day, window.zone),
            }
        )
    return found


def window_status(
    started: datetime, ended: datetime, opens: datetime, closes: datetime, overridden: bool
) -> WindowStatus:
    """Inside when the run started and the asset finished within the window; outside, the
    recorded override excuses it, and without one it is a breach (as the window clause)."""
    if opens <= started and ended <= closes:
        return "inside"
    return "override" if overridden else "breach"


def timeline(
    backups: Iterable[EvidenceRecord],
    runs: Mapping[tuple[str, str], EvidenceRecord],
    window: BackupWindow,
    today: date,
    days: int,
) -> list[TimelineRow]:
    """Each backup of one asset in the last ``days`` days against its day's window.

    ``runs`` holds each run's window evidence by (dag_id, run_id): its gate time is the
    start and its window and override are the run's. A backup without one (written before
    the window was recorded) is drawn as a point at its end, in its backup day's window.
    A failed backup is no backup and is left out.
    """
    earliest = first_day(today, days)
    rows: list[TimelineRow] = []
    for record in backups:
        if record.outcome == "fail":
            continue
        gate = runs.get((record.dag_id, record.run_id))
        gate_details = gate.details if gate else {}
        ended = record.recorded_at.astimezone(UTC)
        started = _instant(gate_details.get("gate_checked_at")) or ended
        recorded_window = gate_details.get("window") or {}
        if recorded_window:
            day = date.fromisoformat(str(recorded_window["day"]))
            opens = datetime.fromisoformat(str(recorded_window["opens_at"]))
            closes = datetime.fromisoformat(str(recorded_window["closes_at"]))
        else:
            day = _backup_day(record, window)
            occ = occurrence(window, day)
            opens, closes = occ.opens_at, occ.closes_at
        if not earliest <= day <= today:
            continue
        rows.append(
            {
                "day": day.isoformat(),
                "start": clock_hours(started, day, window.zone),
                "end": clock_hours(ended, day, window.zone),
                "started_at": started.isoformat(),
                "ended_at": ended.isoformat(),
                "status": window_status(
                    started, ended, opens, closes, bool(gate_details.get("override"))
                ),
                "outcome": record.outcome,
                "dag_id": record.dag_id,
                "run_id": record.run_id,
            }
        )
    return sorted(rows, key=lambda row: row["started_at"])


def _instant(value: Any) -> datetime | None:
    return datetime.fromisoformat(str(value)).astimezone(UTC) if value else None


def _backup_day(record: EvidenceRecord, window: BackupWindow) -> date:
    day = record.details.get("day")
    return (
        date.fromisoformat(str(day)) if day else record.recorded_at.astimezone(window.zone).date()
    )


def timeline_summary(asset: str, rows: Sequence[TimelineRow], days: int) -> str:
    count = {s: sum(1 for r in rows if r["status"] == s) for s in ("inside", "override", "breach")}
    return (
        f"{asset}, last {days} days: {len(rows)} backups; {count['inside']} inside the window, "
        f"{count['override']} outside it with the recorded override, "
        f"{count['breach']} breached it."
    )


def written(record: EvidenceRecord) -> tuple[int, int]:
    """(bytes, objects) a good backup wrote to the DR side: the S3 objects it copied, the
    day's dump (unless an earlier run's was reused), the day's git bundle (if made)."""
    details = record.details
    if record.kind == "s3_backup":
        return int(details.get("bytes_copied") or 0), int(details.get("copied") or 0)
    if record.kind == "rds_backup":
        dump = details.get("dump") or {}
        if dump.get("reused") or not dump:
            return 0, 0
        return int(dump.get("bytes_compressed") or 0), 1
    if record.kind == "git_backup":
        bundle = details.get("bundle") or {}
        made = bool(details.get("bundle_made")) and bool(bundle)
        return (int(bundle.get("size") or 0), 1) if made else (0, 0)
    return 0, 0


def volume(
    backups: Iterable[EvidenceRecord], window: BackupWindow, today: date, days: int
) -> list[VolumeRow]:
    """Bytes and objects written per asset per backup day, summed over the day's runs."""
    earliest = first_day(today, days)
    totals: dict[tuple[str, str, str], list[int]] = {}
    for record in backups:
        if record.outcome == "fail":
            continue
        day = _backup_day(record, window)
        if not earliest <= day <= today:
            continue
        size, count = written(record)
        total = totals.setdefault((day.isoformat(), record.kind, record.asset), [0, 0])
        total[0] += size
        total[1] += count
    return [
        {"day": day, "kind": kind, "asset": asset, "bytes": size, "objects": count}
        for (day, kind, asset), (size, count) in sorted(totals.items())
    ]


def volume_summary(rows: Sequence[VolumeRow], days: int) -> str:
    size = sum(r["bytes"] for r in rows)
    count = sum(r["objects"] for r in rows)
    busiest = max(rows, key=lambda r: r["bytes"], default=None)
    return (
        f"Last {days} days: {size:,} bytes and {count:,} objects written to the DR side"
        + (f"; the most in one day by one asset: {busiest['bytes']:,} bytes" if busiest else "")
        + "."
    )


def ages(asset: str, good_times: Sequence[datetime], now: datetime, days: int) -> list[AgePoint]:
    """The age of the newest good backup from ``days`` ago to ``now``: it grows by the
    hour and falls to zero at each good backup (a sawtooth). Ages are real hours (UTC)."""
    times = sorted(t.astimezone(UTC) for t in good_times if t <= now)
    start = now.astimezone(UTC) - timedelta(days=days)
    points: list[AgePoint] = []

    def point(at: datetime, since: datetime) -> None:
        hours = round((at - since).total_seconds() / 3600, 3)
        points.append({"asset": asset, "at": at.isoformat(), "age_hours": hours})

    before = [t for t in times if t < start]
    if before:
        point(start, before[-1])
    previous = before[-1] if before else None
    for at in (t for t in times if t >= start):
        if previous is not None:
            point(at, previous)
        point(at, at)
        previous = at
    if previous is not None:
        point(now.astimezone(UTC), previous)
    return points


def ages_summary(points: Sequence[AgePoint]) -> str:
    by_asset: dict[str, list[AgePoint]] = {}
    for p in points:
        by_asset.setdefault(p["asset"], []).append(p)
    if not by_asset:
        return "No good backup recorded yet."
    parts = [
        f"{asset}: now {found[-1]['age_hours']:.1f} h, at most "
        f"{max(p['age_hours'] for p in found):.1f} h"
        for asset, found in sorted(by_asset.items())
    ]
    return "Age of the newest good backup (warn at 24 h, fail at 26 h): " + "; ".join(parts) + "."


def status_grid(
    evaluations: Iterable[EvidenceRecord], zone: ZoneInfo, today: date, days: int = GRID_DAYS
) -> list[GridCell]:
    """Each clause's status on each day: from the day's last evaluation (local day)."""
    earliest = first_day(today, days)
    last: dict[date, EvidenceRecord] = {}
    for record in sorted(evaluations, key=lambda r: r.recorded_at):
        day = record.recorded_at.astimezone(zone).date()
        if earliest <= day <= today:
            last[day] = record
    return [
        {"day": day.isoformat(), "clause": str(c["title"]), "status": str(c["status"])}
        for day, record in sorted(last.items())
        for c in record.details.get("clauses", [])
    ]


def grid_summary(cells: Sequence[GridCell]) -> str:
    days = sorted({c["day"] for c in cells})
    if not days:
        return "No evaluation recorded yet."
    failing = sorted({c["clause"] for c in cells if c["status"] == "fail"})
    warning = sorted({c["clause"] for c in cells if c["status"] == "warn"} - set(failing))
    return (
        f"{len(days)} days evaluated, {days[0]} to {days[-1]}. "
        + (f"Failed on some day: {'; '.join(failing)}. " if failing else "No clause failed. ")
        + (f"Warned on some day: {'; '.join(warning)}." if warning else "")
    ).strip()


def recovery(tests: Iterable[EvidenceRecord]) -> list[RecoveryRow]:
    """Each asset's measured restore time per check, from each year's latest restore test."""
    latest: dict[int, EvidenceRecord] = {}
    for record in sorted(tests, key=lambda r: r.recorded_at):
        latest[record.recorded_at.year] = record
    rows: list[RecoveryRow] = []
    for year, record in sorted(latest.items()):
        for check in record.details.get("checks", []):
            seconds = (check.get("details") or {}).get("seconds")
            if isinstance(seconds, int | float) and not isinstance(seconds, bool):
                rows.append(
                    {
                        "year": year,
                        "asset": str(check.get("asset")),
                        "check": str(check.get("check")),
                        "seconds": float(seconds),
                        "tested_at": record.recorded_at.isoformat(),
                    }
                )
    return rows


def recovery_summary(rows: Sequence[RecoveryRow]) -> str:
    if not rows:
        return "No restore test has recorded its times yet."
    years = sorted({r["year"] for r in rows})
    slowest = max(rows, key=lambda r: r["seconds"])
    return (
        f"Restore tests of {', '.join(map(str, years))}: {len(rows)} timed checks; the slowest, "
        f"{slowest['asset']} ({slowest['check']}) in {slowest['year']}, took "
        f"{slowest['seconds']:.1f} s."
    )


def local_today(now: datetime, zone: ZoneInfo) -> date:
    return now.astimezone(zone).date()
