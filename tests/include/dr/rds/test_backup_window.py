"""An instance's UTC backup window against the policy's local window, summer and winter."""

from __future__ import annotations

import pytest

from include.dr.policy.model import BackupWindow
from include.dr.rds.backup_window import rds_window_for, rds_window_inside

LONDON = BackupWindow.model_validate(
    {"start": "01:00", "end": "05:00", "timezone": "Europe/London"}
)


@pytest.mark.parametrize(
    ("preferred", "inside"),
    [
        ("01:00-01:30", True),  # 01:00 GMT and 02:00 BST
        ("03:30-04:00", True),  # 03:30 GMT and 04:30 BST
        ("00:10-00:40", False),  # inside in summer (01:10 BST), before the window in winter
        ("04:30-05:00", False),  # inside in winter, after the window in summer (05:30 BST)
        ("23:50-00:20", False),
    ],
)
def test_the_window_must_fit_in_both_seasons(preferred: str, inside: bool) -> None:
    assert rds_window_inside(LONDON, preferred, 2026) is inside


@pytest.mark.parametrize(
    "window",
    [
        LONDON,
        BackupWindow.model_validate(
            {"start": "23:00", "end": "03:00", "timezone": "America/New_York"}
        ),
        BackupWindow.model_validate(
            {"start": "02:00", "end": "04:00", "timezone": "Australia/Sydney"}
        ),
    ],
)
def test_the_suggested_fix_always_fits(window: BackupWindow) -> None:
    assert rds_window_inside(window, rds_window_for(window, 2026), 2026)


def test_a_window_too_short_for_both_seasons_is_refused_clearly() -> None:
    short = BackupWindow.model_validate(
        {"start": "01:00", "end": "01:40", "timezone": "Europe/London"}
    )
    with pytest.raises(ValueError, match="widen the policy window"):
        rds_window_for(short, 2026)
