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
