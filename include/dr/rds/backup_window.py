"""Does an instance's own automated-backup window sit inside the policy's window?

RDS states its ``PreferredBackupWindow`` in UTC (``hh:mm-hh:mm``), while the
policy's window is local time, so the answer can change with the clocks: both
the winter and the summer occurrence of the policy window must contain it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from include.dr.errors import Permanent
from include.dr.policy.model import BackupWindow
from include.dr.window import occurrence

RDS_WINDOW_MINUTES = 30


def parse_rds_window(preferred: str) -> tuple[time, time]:
    start, end = preferred.split("-")
    return time.fromisoformat(start), time.fromisoformat(end)


def _fits(window: BackupWindow, preferred: str, day: date) -> bool:
    occ = occurrence(window, day)
    start, end = parse_rds_window(preferred)
    for shift in (-1, 0, 1):
        candidate = occ.opens_at.date() + timedelta(days=shift)
        opens = datetime.combine(candidate, start, tzinfo=UTC)
        closes = datetime.combine(candidate, end, tzinfo=UTC)
        if closes <= opens:
            closes += timedelta(days=1)
        if occ.opens_at <= opens and closes <= occ.closes_at:
            return True
    return False


def rds_window_inside(window: BackupWindow, preferred: str, year: int) -> bool:
    """True when ``preferred`` fits the policy window in January and in July of ``year``."""
    return all(_fits(window, preferred, date(year, month, 15)) for month in (1, 7))


class NoRdsWindowFits(Permanent, ValueError):
    """The policy window is too narrow for RDS's own 30-minute backup window all year."""


def rds_window_for(window: BackupWindow, year: int) -> str:
    """A 30-minute UTC window that fits the policy window all year, for fixing drift."""
    for offset in range(0, int(window.length.total_seconds() // 60), 10):
        winter = occurrence(window, date(year, 1, 15)).opens_at
        summer = occurrence(window, date(year, 7, 15)).opens_at
        start = max(winter.time(), summer.time())
        begin = datetime.combine(date(year, 1, 15), start, tzinfo=UTC) + timedelta(minutes=offset)
        end = begin + timedelta(minutes=RDS_WINDOW_MINUTES)
        candidate = f"{begin:%H:%M}-{end:%H:%M}"
        if rds_window_inside(window, candidate, year):
            return candidate
    raise NoRdsWindowFits(
        f"no 30-minute UTC window fits the policy window {window.start:%H:%M}-{window.end:%H:%M} "
        f"{window.timezone} in both winter and summer; widen the policy window"
    )
