"""The backup window as instants in time, and the decisions the window operators make.

The policy states the window in local wall-clock time. Turning it into instants
needs rules for the two days a year when the clocks change:

- **A time that does not exist** (the clocks jump forward over it) is moved
  forward by the jump: in London, 01:30 on the spring-forward day is 02:30 BST.
- **A time that occurs twice** (the clocks fall back over it): the window opens
  at the *first* occurrence of its start and closes at the *last* occurrence of
  its end. The window is then an hour longer, never shorter, so no backup is
  called late because of the clock change.

A run belongs to the window that opens on the local calendar day of its logical
time, except that in an overnight window (such as 23:00-03:00) a time in the
small hours before the window's end belongs to the window that opened the
evening before. Everything here is pure: the clock is an argument.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from include.dr.policy.model import BackupWindow

GateAction = Literal["pass", "wait", "fail"]


def resolve_wall_time(day: date, clock: time, zone: ZoneInfo, *, last: bool) -> datetime:
    """The UTC instant of ``clock`` on ``day`` in ``zone``, by the module's DST rules."""
    naive = datetime.combine(day, clock)
    first = naive.replace(tzinfo=zone, fold=0)
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        return first.astimezone(UTC)  # in a gap: fold=0 reads it with the earlier offset
    chosen = naive.replace(tzinfo=zone, fold=1) if last else first
    return chosen.astimezone(UTC)


@dataclass(frozen=True)
class WindowOccurrence:
    """One day's window: the local day it opens on, and when it opens and closes (UTC)."""

    day: date
    opens_at: datetime
    closes_at: datetime
    timezone: str

    def local(self, moment: datetime) -> str:
        return moment.astimezone(ZoneInfo(self.timezone)).strftime("%Y-%m-%d %H:%M %Z")

    def describe(self) -> str:
        return f"{self.local(self.opens_at)} to {self.local(self.closes_at)}"

    def as_dict(self) -> dict[str, str]:
        return {
            "day": self.day.isoformat(),
            "opens_at": self.opens_at.isoformat(),
            "closes_at": self.closes_at.isoformat(),
            "timezone": self.timezone,
        }


def occurrence(window: BackupWindow, day: date) -> WindowOccurrence:
    """The window that opens on local ``day``."""
    zone = window.zone
    close_day = day + timedelta(days=1) if window.overnight else day
    return WindowOccurrence(
        day=day,
        opens_at=resolve_wall_time(day, window.start, zone, last=False),
        closes_at=resolve_wall_time(close_day, window.end, zone, last=True),
        timezone=window.timezone,
    )


def run_window(window: BackupWindow, logical_time: datetime) -> WindowOccurrence:
    """The window a run with this logical time belongs to (see the module docstring)."""
    local = logical_time.astimezone(window.zone)
    day = local.date()
    if window.overnight:
        previous = occurrence(window, day - timedelta(days=1))
        if logical_time < previous.closes_at:
            return previous
    return occurrence(window, day)


@dataclass(frozen=True)
class GateDecision:
    """What the gate does with a run, and the sentence that says why."""

    action: GateAction
    window: WindowOccurrence
    reason: str
    override: bool


def decide_gate(
    window: BackupWindow, logical_time: datetime, now: datetime, *, override: bool = False
) -> GateDecision:
    """Pass inside the window, wait before it, fail after it, unless explicitly overridden."""
    occ = run_window(window, logical_time)
    if override:
        return GateDecision(
            "pass", occ, f"window check overridden on request (window {occ.describe()})", True
        )
    if now < occ.opens_at:
        return GateDecision(
            "wait", occ, f"the backup window opens at {occ.local(occ.opens_at)}; waiting", False
        )
    if now < occ.closes_at:
        return GateDecision("pass", occ, f"inside the backup window {occ.describe()}", False)
    return GateDecision(
        "fail",
        occ,
        f"the backup window {occ.describe()} closed before this run started (now "
        f"{occ.local(now)}), so nothing was backed up. To back up outside the window, "
        "trigger the DAG with override_window set to true; the override is recorded "
        "in the run's evidence.",
        False,
    )


@dataclass(frozen=True)
class CompletionVerdict:
    """Whether work finished inside its window; a late backup is kept but flagged."""

    window: WindowOccurrence
    finished_at: datetime
    breached: bool

    @property
    def late_by(self) -> timedelta:
        return max(self.finished_at - self.window.closes_at, timedelta(0))

    def describe(self) -> str:
        if not self.breached:
            return f"finished at {self.window.local(self.finished_at)}, inside the window"
        minutes = int(self.late_by.total_seconds() // 60)
        return (
            f"finished at {self.window.local(self.finished_at)}, {minutes} min after the "
            f"window closed at {self.window.local(self.window.closes_at)}; the backup is kept"
        )


def judge_completion(
    window: BackupWindow, logical_time: datetime, finished_at: datetime
) -> CompletionVerdict:
    occ = run_window(window, logical_time)
    return CompletionVerdict(occ, finished_at, finished_at > occ.closes_at)
