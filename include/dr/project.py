"""Where the project and its local state live on disk."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
STATE_DIR_ENV = "LOCAL_STACK_DIR"


def state_dir() -> Path:
    """The git-ignored folder holding local data, logs, pid files, evidence and Airflow's home."""
    return Path(os.environ.get(STATE_DIR_ENV) or PROJECT_ROOT / ".local").resolve()
