"""Every clock change of every IANA time zone, found from the zone data itself.

The policy accepts any IANA zone (``BackupWindow.timezone``), so the window's tests
and the integration tests' day picker draw on all of them: the window tests pick
clock-change days on purpose, the day picker steers clear of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

# Years whose changes the window tests draw on: the current rules, and the years ahead
# that zoneinfo works out from each zone's rule string.
YEARS = range(2025, 2038)


@dataclass(frozen=True)
class ClockChange:
    """One change of a zone's UTC offset: forward (a gap) or back (a fold)."""

    zone: str
    at: datetime  # UTC, the first moment of the new offset
    before: timedelta
    after: timedelta

    @property
    def jump(self) -> timedelta:
        """Positive when the clocks go forward (wall times skipped), negative when back."""
        return self.after - self.before

    @property
    def wall_before(self) -> datetime:
        """The local wall time the clocks read as the change happens, before it (naive)."""
        return (self.at + self.before).replace(tzinfo=None)

    @property
    def wall_after(self) -> datetime:
        """The local wall time the clocks read as the change happens, after it (naive)."""
        return (self.at + self.after).replace(tzinfo=None)

    @property
    def first_wall(self) -> datetime:
        """The first local wall time skipped (forward) or repeated (back), naive."""
        return min(self.wall_before, self.wall_after)

    @property
    def day(self) -> date:
        """The local day whose wall times are skipped or repeated (a change at 24:00 back
        to 23:00 repeats the last hour of the day before the one it happens on)."""
        return self.first_wall.date()

    def __str__(self) -> str:
        return f"{self.zone} {self.wall_before:%Y-%m-%d %H:%M} {self.jump.total_seconds() / 60:+.0f} min"


def _offset(zone: ZoneInfo, moment: datetime) -> timedelta:
    offset = moment.astimezone(zone).utcoffset()
    assert offset is not None
    return offset


def _bisect(zone: ZoneInfo, low: datetime, high: datetime) -> datetime:
    """The first second in (low, high] with the offset found at ``high``."""
    target = _offset(zone, high)
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if _offset(zone, middle) == target:
            high = middle
        else:
            low = middle
    return high


@cache
def changes_in(zone_name: str, year: int) -> tuple[ClockChange, ...]:
    """The zone's clock changes during ``year`` (UTC), found by a six-hourly scan."""
    zone = ZoneInfo(zone_name)
    moment = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    found: list[ClockChange] = []
    offset = _offset(zone, moment)
    step = timedelta(hours=6)
    while moment < end:
        later = moment + step
        if (new := _offset(zone, later)) != offset:
            at = _bisect(zone, moment, later)
            found.append(ClockChange(zone_name, at, offset, new))
            offset = new
        moment = later
    return tuple(found)


@cache
def _changes_anywhere(zone_name: str, year: int) -> bool:
    """A cheap weekly look: does the offset change at all this year?"""
    zone = ZoneInfo(zone_name)
    start = datetime(year, 1, 1, tzinfo=UTC)
    offsets = {_offset(zone, start + timedelta(days=7 * week)) for week in range(54)}
    return len(offsets) > 1


@cache
def zones_with_changes(year: int) -> tuple[str, ...]:
    """Every IANA zone whose clocks change during ``year``."""
    return tuple(
        name
        for name in sorted(available_timezones())
        if name not in {"Factory", "localtime"} and _changes_anywhere(name, year)
    )


@cache
def zones_alike(year: int) -> tuple[tuple[str, ...], ...]:
    """The zones whose clocks change during ``year``, grouped where their offsets are the
    same all year (aliases, and neighbours sharing rules): the window is a function of
    the offsets alone, so one zone of a group answers for the group."""
    groups: dict[tuple[tuple[datetime, timedelta, timedelta], ...], list[str]] = {}
    for name in zones_with_changes(year):
        shape = tuple((c.at, c.before, c.after) for c in changes_in(name, year))
        groups.setdefault(shape, []).append(name)
    return tuple(tuple(names) for names in groups.values())


@cache
def all_changes(year: int) -> tuple[ClockChange, ...]:
    """Every clock change of every zone during ``year``."""
    return tuple(change for zone in zones_with_changes(year) for change in changes_in(zone, year))


def change_days(first: date, last: date) -> set[date]:
    """Local days from ``first`` to ``last`` on which any zone's clocks change."""
    return {
        change.day
        for year in range(first.year, last.year + 1)
        for change in all_changes(year)
        if first <= change.day <= last
    }
