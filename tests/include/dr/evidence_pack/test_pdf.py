"""The PDF summary, rendered to images (pdftoppm) and read back as text (pdftotext): its
pages are not blank, and each clause, each exception and the control mapping are there."""

from __future__ import annotations

import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from include.dr.evidence_pack.collect import Period, records_in
from include.dr.evidence_pack.controls import CLAUSE_IDS
from include.dr.evidence_pack.pdf import render_pdf
from include.dr.evidence_pack.summary import summarise
from include.dr.policy.loader import load_policy
from include.dr.store import store_root
from tests.include.dr.evidence_pack.conftest import seed_period

NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30), "Europe/London")


@pytest.fixture
def pdf(store_dir: Path, tmp_path: Path) -> Path:
    seed_period(store_dir)
    records, _ = records_in(store_root(), NOVEMBER)
    summary = summarise(
        records, NOVEMBER, list(CLAUSE_IDS), load_policy(), datetime(2026, 12, 1, tzinfo=UTC)
    )
    path = tmp_path / "summary.pdf"
    path.write_bytes(render_pdf(summary))
    return path


def test_every_page_renders_and_none_is_blank(pdf: Path, tmp_path: Path) -> None:
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 2
    for page in pages:
        with Image.open(page) as image:
            grey = image.convert("L")
            dark = sum(grey.histogram()[:128]) / (grey.width * grey.height)
            assert ImageStat.Stat(grey).stddev[0] > 10, page.name  # not one flat colour
            assert dark > 0.005, f"{page.name} has almost no ink"


def test_each_clause_exception_and_control_is_in_the_text(pdf: Path) -> None:
    text = subprocess.run(
        ["pdftotext", "-raw", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    flat = " ".join(text.split())
    for clause in CLAUSE_IDS:
        assert clause in flat, clause
    for expected in (
        "window override",
        "by alice",
        "window breach",
        "72 minutes after the window closed",
        "failed restore test",
        "row_counts",
        "failed run",
        "missing blob 4b825dc",
        "failed clause",
        "A.8.13 Information backup",
        "A.8.24 Use of cryptography",
        "A1.2",
        "CC7.2",
        "Compliance Team",
        "eu-west-2 -> eu-west-1",
        "Google Workspace",
        "2026-11-15-0123456789.html",
    ):
        assert expected in flat, expected
