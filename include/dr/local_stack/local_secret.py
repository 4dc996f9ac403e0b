"""Random secrets of the local stack's own servers, made once and kept on disk.

The distributed stack's Redis password, its database passwords and the API server's
signing keys must be the same in every process and across restarts, and must not sit
in a file anyone commits: each is a file of mode 0600 under the git-ignored ``.local/``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def local_secret(path: Path) -> str:
    """The secret kept at ``path``, made first if there is none."""
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(32))
    return path.read_text().strip()
