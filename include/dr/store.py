"""Where the product keeps what outlives a task: the backup store and the evidence store.

Both are reached through a path from the environment (a mounted volume, or the
git-ignored ``.local/`` on the local stack). Nothing else in the product reads
these variables.
"""

from __future__ import annotations

import os
from pathlib import Path

from include.dr.project import state_dir

BACKUP_STORE_ENV = "BACKUP_STORE_DIR"
EVIDENCE_DIR_ENV = "BACKUP_EVIDENCE_DIR"


def backup_store_dir() -> Path:
    """The local backup store (git mirrors and bundles): a mounted volume in production."""
    return Path(os.environ.get(BACKUP_STORE_ENV) or state_dir() / "backup-store").resolve()


def evidence_dir() -> Path:
    """The evidence store's root."""
    return Path(os.environ.get(EVIDENCE_DIR_ENV) or state_dir() / "evidence")
