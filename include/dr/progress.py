"""Progress lines for long work: how far a copy, dump, bundle or restore has got.

A long task feeds a :class:`Progress` as it goes (``advance(items=1, bytes=n)``, from
any thread: the S3 copy feeds it from a thread pool) and it logs one line at most
every ``BACKUP_PROGRESS_SECONDS`` (30 by default): done out of total where the total
is known, bytes in binary units, the rate, and the estimated end as a UTC time with
the time left. :meth:`Progress.finish` always writes a closing line, so a task's log
ends with what it did however short it was.

The clock and the logger are injected, so the spacing rule is tested with a fake
clock, never by sleeping. Lines only ever follow an ``advance``: a task that stops
advancing (a stuck request) logs nothing until it moves again or finishes.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import TracebackType

INTERVAL_ENV = "BACKUP_PROGRESS_SECONDS"
DEFAULT_INTERVAL = 30.0
UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")

log = logging.getLogger(__name__)


def interval_seconds() -> float:
    """The least time between two progress lines: ``BACKUP_PROGRESS_SECONDS`` or 30 (a
    value that is not a number, or is negative, gives the default)."""
    raw = os.environ.get(INTERVAL_ENV, "")
    try:
        value = float(raw) if raw else DEFAULT_INTERVAL
    except ValueError:
        return DEFAULT_INTERVAL
    return value if value >= 0 else DEFAULT_INTERVAL


def binary_units(size: float) -> tuple[float, int]:
    """``size`` as a value under 1024 and the index of its unit in :data:`UNITS`."""
    value, unit = float(size), 0
    while abs(value) >= 1024 and unit < len(UNITS) - 1:
        value, unit = value / 1024, unit + 1
    return value, unit


def human_bytes(size: float) -> str:
    """``1.2 GiB``: binary units, three significant figures at most."""
    value, unit = binary_units(size)
    if unit == 0:
        return f"{int(value)} B"
    return f"{value:.1f} {UNITS[unit]}" if value < 100 else f"{value:.0f} {UNITS[unit]}"


def human_duration(seconds: float) -> str:
    """``2 h 05 min``, ``4 min 10 s``, ``12 s``."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


class Progress:
    """Counts of one long piece of work, logged at most every ``interval`` seconds.

    ``total`` counts items (``unit`` names them); ``total_bytes`` is the bytes expected,
    exact or an estimate. The estimated end comes from the items when their total is
    known, else from the bytes. ``clock`` is monotonic seconds; ``wall`` the time of day
    the estimated end is stated in (UTC)."""

    def __init__(
        self,
        what: str,
        *,
        total: int | None = None,
        total_bytes: int | None = None,
        unit: str = "items",
        interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
        logger: logging.Logger = log,
    ) -> None:
        self.what, self.unit = what, unit
        self.total, self.total_bytes = total, total_bytes
        self.interval = interval_seconds() if interval is None else interval
        self.clock, self.wall, self.logger = clock, wall, logger
        self.items = self.bytes = 0
        self.lines = 0
        self.finished = False
        self._lock = threading.Lock()
        self._started = clock()
        self._last = self._started

    def set_total(self, total: int | None = None, total_bytes: int | None = None) -> None:
        """The totals, once they are known (a listing finished, a header read)."""
        with self._lock:
            if total is not None:
                self.total = total
            if total_bytes is not None:
                self.total_bytes = total_bytes

    def advance(self, items: int = 0, bytes: int = 0) -> None:  # noqa: A002 - the caller's word
        """Count work done; log a line if the last one is ``interval`` seconds old."""
        with self._lock:
            self.items += items
            self.bytes += bytes
            if self.finished:
                return
            now = self.clock()
            if now - self._last >= self.interval:
                self._last = now
                self.lines += 1
                self.logger.info("%s", self._line(now))

    def finish(self, failed: bool = False) -> None:
        """Write the closing line (once): what was done, in how long, at what rate."""
        with self._lock:
            if self.finished:
                return
            self.finished = True
            now = self.clock()
            self.lines += 1
            elapsed = max(0.0, now - self._started)
            verb = "stopped after" if failed else "done:"
            self.logger.info(
                "%s %s %s in %s%s",
                self.what,
                verb,
                self._counts(),
                human_duration(elapsed),
                self._rate(elapsed),
            )

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.finish(failed=kind is not None)

    def _counts(self) -> str:
        parts = []
        if self.total is not None:
            share = f" ({100 * self.items / self.total:.1f}%)" if self.total else ""
            parts.append(f"{self.items:,} of {self.total:,} {self.unit}{share}")
        elif self.items or not self.bytes:
            parts.append(f"{self.items:,} {self.unit}")
        if self.total_bytes is not None:
            parts.append(f"{human_bytes(self.bytes)} of {human_bytes(self.total_bytes)}")
        elif self.bytes:
            parts.append(human_bytes(self.bytes))
        return ", ".join(parts)

    def _rate(self, elapsed: float) -> str:
        if elapsed <= 0:
            return ""
        rates = []
        if self.bytes:
            rates.append(f"{human_bytes(self.bytes / elapsed)}/s")
        if self.items:
            rates.append(f"{self.items / elapsed:,.1f} {self.unit}/s")
        return f", {', '.join(rates)}" if rates else ""

    def _line(self, now: float) -> str:
        elapsed = max(0.0, now - self._started)
        return f"{self.what}: {self._counts()}{self._rate(elapsed)}; {self._end(elapsed)}"

    def _end(self, elapsed: float) -> str:
        share = None
        if self.total:
            share = self.items / self.total
        elif self.total_bytes:
            share = self.bytes / self.total_bytes
        if share is None:
            return "total not known yet, no estimated end"
        if share <= 0 or elapsed <= 0:
            return "no estimated end yet"
        if share >= 1:
            return "finishing"
        left = elapsed * (1 - share) / share
        today = self.wall().astimezone(UTC)
        end = today + timedelta(seconds=left)
        at = f"{end:%H:%M}" if end.date() == today.date() else f"{end:%d %b %H:%M}"
        return f"estimated end {at} UTC (in about {human_duration(left)})"
