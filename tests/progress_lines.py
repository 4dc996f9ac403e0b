"""The progress lines a test's code logged (``include.dr.progress``), with the interval at 0."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

LOGGER = "include.dr.progress"
DONE_OF = re.compile(r"(\d[\d,]*) of (\d[\d,]*) (\w+)")


@contextmanager
def progress_lines(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[str]]:
    """Every progress line logged inside the block, each advance allowed one."""
    monkeypatch.setenv("BACKUP_PROGRESS_SECONDS", "0")
    lines: list[str] = []
    with caplog.at_level(logging.INFO, logger=LOGGER):
        caplog.clear()
        yield lines
        lines += [r.getMessage() for r in caplog.records if r.name == LOGGER]


def done_of(line: str) -> tuple[int, int, str]:
    """``(done, total, unit)`` from a line's ``12,000 of 48,000 objects``."""
    found = DONE_OF.search(line)
    assert found, line
    return int(found[1].replace(",", "")), int(found[2].replace(",", "")), found[3]
