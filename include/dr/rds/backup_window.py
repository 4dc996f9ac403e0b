"""Where RDS's own automated-backup window goes: clear of the policy's backup window.

The DAG snapshots the instance when the policy window opens, and
``CreateDBSnapshot`` is refused while RDS's automated backup runs (the instance
is ``backing-up``), so the two must not meet. RDS states its
``PreferredBackupWindow`` in UTC (``hh24:mi-hh24:mi``, at least 30 minutes, never
overlapping the weekly maintenance window), while the policy's window is local
time, so its UTC position moves with the clocks: every day of the year is looked
at, which covers DST and zones whose offset changes for other reasons.

The chosen window is the 30-minute window that *ends* nearest before the policy
window opens, at least 30 minutes before it, on every day of the year; a night's
automated backup is then done by the time the DAG snapshots, and one that overruns
its window is waited out by the snapshot operator. A window that would meet the
maintenance window moves earlier, in 10-minute steps (so it may end up after the
policy window closes, the only other place it cannot collide).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, time, timedelta

from include.dr.errors import Permanent
from include.dr.policy.model import BackupWindow
from include.dr.window import occurrence

RDS_WINDOW_MINUTES = 30
CLEARANCE_MINUTES = 30  # between the automated window's end and the policy window, both sides
STEP_MINUTES = 10
DAY_MINUTES = 24 * 60
WEEK_MINUTES = 7 * DAY_MINUTES
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MAINTENANCE = re.compile(r"([a-z]{3}):(\d\d):(\d\d)-([a-z]{3}):(\d\d):(\d\d)")

Span = tuple[int, int]  # (start, length) in minutes, recurring daily from 00:00 UTC


def parse_rds_window(preferred: str) -> tuple[time, time]:
    start, end = preferred.split("-")
    return time.fromisoformat(start), time.fromisoformat(end)


def _rds_span(preferred: str) -> Span:
    start, end = parse_rds_window(preferred)
    first, last = start.hour * 60 + start.minute, end.hour * 60 + end.minute
    return first, (last - first) % DAY_MINUTES or DAY_MINUTES


def policy_spans(window: BackupWindow, year: int) -> set[Span]:
    """The policy window's occurrences in ``year`` (and the days either side) as daily UTC
    spans: one per UTC offset the zone uses that year, plus any clock-change night's."""
    spans: set[Span] = set()
    day, last = date(year, 1, 1) - timedelta(days=1), date(year, 12, 31) + timedelta(days=1)
    while day <= last:
        occ = occurrence(window, day)
        opens = occ.opens_at.astimezone(UTC)
        length = math.ceil((occ.closes_at - occ.opens_at).total_seconds() / 60)
        spans.add((opens.hour * 60 + opens.minute, length))
        day += timedelta(days=1)
    return spans


def _overlap(a: Span, b: Span, period: int = DAY_MINUTES) -> bool:
    """Whether two intervals recurring every ``period`` minutes ever overlap."""
    return (b[0] - a[0]) % period < a[1] or (a[0] - b[0]) % period < b[1]


def _maintenance_span(maintenance: str) -> Span:
    """``ddd:hh24:mi-ddd:hh24:mi`` (UTC, weekly) as a span of the week."""
    found = _MAINTENANCE.fullmatch(maintenance.lower())
    if not found:
        raise UnreadableMaintenanceWindow(
            f"{maintenance!r} is not an RDS maintenance window (ddd:hh24:mi-ddd:hh24:mi, UTC)"
        )
    d1, h1, m1, d2, h2, m2 = found.groups()
    first = _WEEKDAYS.index(d1) * DAY_MINUTES + int(h1) * 60 + int(m1)
    last = _WEEKDAYS.index(d2) * DAY_MINUTES + int(h2) * 60 + int(m2)
    return first, (last - first) % WEEK_MINUTES


def _meets_maintenance(candidate: Span, maintenance: str | None) -> bool:
    if not maintenance:
        return False
    weekly = _maintenance_span(maintenance)
    return any(
        _overlap((d * DAY_MINUTES + candidate[0], candidate[1]), weekly, WEEK_MINUTES)
        for d in range(7)
    )


def rds_window_clear(window: BackupWindow, preferred: str, year: int) -> bool:
    """True when ``preferred`` (UTC) never overlaps the policy window on any day of ``year``."""
    automated = _rds_span(preferred)
    return not any(_overlap(automated, span) for span in policy_spans(window, year))


class UnreadableMaintenanceWindow(Permanent, ValueError):
    """RDS described a maintenance window this code cannot read: nothing is placed."""


class NoRdsWindowFits(Permanent, ValueError):
    """No 30-minute UTC window stays clear of the policy window all year."""


def rds_window_for(window: BackupWindow, year: int, maintenance: str | None = None) -> str:
    """A 30-minute UTC window ending at least 30 minutes before the policy window opens on
    every day of ``year``, off the instance's ``maintenance`` window; for fixing drift."""
    spans = policy_spans(window, year)
    guarded = [(s - CLEARANCE_MINUTES, n + 2 * CLEARANCE_MINUTES) for s, n in spans]
    anchor = min(spans)[0] // STEP_MINUTES * STEP_MINUTES
    for step in range(DAY_MINUTES // STEP_MINUTES):
        start = (anchor - CLEARANCE_MINUTES - RDS_WINDOW_MINUTES - step * STEP_MINUTES) % (
            DAY_MINUTES
        )
        candidate = (start, RDS_WINDOW_MINUTES)
        if any(_overlap(candidate, g) for g in guarded):
            continue
        if _meets_maintenance(candidate, maintenance):
            continue
        end = (start + RDS_WINDOW_MINUTES) % DAY_MINUTES
        return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"
    raise NoRdsWindowFits(
        f"no 30-minute UTC backup window stays {CLEARANCE_MINUTES} minutes clear of the policy "
        f"window {window.start:%H:%M}-{window.end:%H:%M} {window.timezone} all year"
        + (f" and off the maintenance window {maintenance}" if maintenance else "")
        + "; shorten the policy window"
        + (" or move the maintenance window" if maintenance else "")
    )
