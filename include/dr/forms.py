"""The trigger forms of the manual DAGs: JSON-schema ``Param``\\s the UI renders as forms.

One module, so every form reads alike: dry run on by default, every field with a
title and help, nullable optional fields typed ``["null", ...]``. The server
re-validates every field (the restore's pure request validation) before anything
changes. Each DAG file passes its form as ``params=``.
"""

from __future__ import annotations

# --- restore_rds ---

# --- restore_s3 ---

# --- restore_git ---

# --- restore_test ---


def restore_test_form() -> dict[str, object]:
    """restore_test: which assets to test, and whether to keep the scratch space."""
    from airflow.sdk import Param

    return {
        "assets": Param(
            ["rds", "s3", "git"],
            type="array",
            items={"type": "string", "enum": ["rds", "s3", "git"]},
            uniqueItems=True,
            title="Assets to test",
        ),
        "keep_scratch": Param(
            False,
            type="boolean",
            title="Keep the scratch resources for inspection",
            description="Off: the scratch database, bucket and instance are removed at the end.",
        ),
    }
