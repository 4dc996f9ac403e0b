"""Progress lines: at most one per interval whatever the advances and the clock do, a
closing line always, and lines a person can read (done of total, bytes, rate, end)."""

from __future__ import annotations

import itertools
import logging
import threading
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from include.dr.progress import Progress, human_bytes, human_duration, interval_seconds

NOON = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Lines(logging.Handler):
    """Each record with the clock's time when it was logged."""

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock
        self.seen: list[tuple[float, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append((self.clock.now, record.getMessage()))


def reporter(clock: Clock, name: str, **kwargs: object) -> tuple[Progress, Lines]:
    logger = logging.getLogger(f"test.progress.{name}")
    logger.handlers.clear()
    logger.propagate = False
    logger.setLevel(logging.INFO)
    lines = Lines(clock)
    logger.addHandler(lines)
    progress = Progress("copy", clock=clock, wall=lambda: NOON, logger=logger, **kwargs)  # type: ignore[arg-type]
    return progress, lines


@given(
    steps=st.lists(
        st.tuples(
            st.floats(min_value=-100, max_value=200, allow_nan=False),  # the clock moves by
            st.integers(0, 10),
            st.integers(0, 10**9),
        ),
        max_size=60,
    ),
    interval=st.sampled_from([0.0, 1.0, 30.0, 45.5]),
)
def test_lines_are_never_closer_than_the_interval_and_the_last_is_always_written(
    steps: list[tuple[float, int, int]], interval: float
) -> None:
    clock = Clock(1000.0)
    progress, lines = reporter(clock, "property", total=50, interval=interval)
    for move, items, size in steps:
        clock.now += move
        progress.advance(items, size)
    progress.finish()
    *periodic, closing = lines.seen
    times = [1000.0] + [at for at, _ in periodic]  # the first is an interval after the start
    assert all(later - earlier >= interval for earlier, later in itertools.pairwise(times))
    assert closing[1].startswith("copy done:")
    assert progress.lines == len(lines.seen)
    progress.advance(1, 1)
    progress.finish()  # nothing more after the closing line
    assert len(lines.seen) == len(periodic) + 1


def test_a_line_says_done_of_total_bytes_rate_and_estimated_end_in_utc() -> None:
    clock = Clock()
    progress, lines = reporter(clock, "line", total=48_000, total_bytes=None, unit="objects")
    clock.now = 10.0
    progress.advance(1_000, 10 * 1024**2)
    assert lines.seen == []  # under 30 s since the start
    clock.now = 60.0
    progress.advance(11_000, 1014 * 1024**2)
    progress.finish()
    assert lines.seen[0][1] == (
        "copy: 12,000 of 48,000 objects (25.0%), 1.0 GiB, 17.1 MiB/s, 200.0 objects/s; "
        "estimated end 12:03 UTC (in about 3 min 00 s)"
    )
    assert lines.seen[1][1] == (
        "copy done: 12,000 of 48,000 objects (25.0%), 1.0 GiB in 1 min 00 s, 17.1 MiB/s, "
        "200.0 objects/s"
    )


def test_without_a_total_the_bytes_estimate_the_end_or_the_line_says_there_is_none() -> None:
    clock = Clock()
    progress, lines = reporter(clock, "bytes", total_bytes=4 * 1024**3, unit="tables")
    clock.now = 30.0
    progress.advance(bytes=1024**3)
    assert "1.0 GiB of 4.0 GiB" in lines.seen[-1][1]
    assert "in about 1 min 30 s" in lines.seen[-1][1]
    unknown, more = reporter(clock, "unknown", unit="objects")
    clock.now = 90.0
    unknown.advance(5)
    assert more.seen[-1][1].endswith("total not known yet, no estimated end")


def test_an_end_on_another_day_names_the_day() -> None:
    clock = Clock()
    progress, lines = reporter(clock, "day", total=100)
    clock.now = 3600.0
    progress.advance(1)
    assert "estimated end 03 Dec 15:00 UTC (in about 99 h 00 min)" in lines.seen[-1][1]


def test_a_failure_closes_with_stopped_after() -> None:
    clock = Clock()
    progress, lines = reporter(clock, "failure", total=3)
    with pytest.raises(RuntimeError), progress:
        progress.advance(1)
        raise RuntimeError
    assert lines.seen[-1][1].startswith("copy stopped after 1 of 3 items")


def test_threads_add_up_exactly() -> None:
    clock = Clock()
    progress, _ = reporter(clock, "threads", interval=0.0)

    def work() -> None:
        for _ in range(1000):
            progress.advance(1, 3)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (progress.items, progress.bytes) == (8000, 24000)


def test_units_read_as_people_write_them() -> None:
    assert human_bytes(0) == "0 B"
    assert human_bytes(1536) == "1.5 KiB"
    assert human_bytes(1.2 * 1024**3) == "1.2 GiB"
    assert human_bytes(500 * 1024**4) == "500 TiB"
    assert human_duration(12.4) == "12 s"
    assert human_duration(250) == "4 min 10 s"
    assert human_duration(7500) == "2 h 05 min"


def test_the_interval_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BACKUP_PROGRESS_SECONDS", raising=False)
    assert interval_seconds() == 30.0
    monkeypatch.setenv("BACKUP_PROGRESS_SECONDS", "0")
    assert interval_seconds() == 0.0
    monkeypatch.setenv("BACKUP_PROGRESS_SECONDS", "soon")
    assert interval_seconds() == 30.0
