"""Where evidence packs live in the shared store, and how the compliance page finds them.

A pack is written once under ``evidence-packs/`` with a name that says its period, and
is announced by an evidence record (kind ``evidence_pack``, asset ``all``) whose
``details["pack"]`` holds at least ``name``, ``sha256``, ``size`` and
``period`` (``{"start": "YYYY-MM-DD", "end": "YYYY-MM-DD"}``).
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING

from include.dr.errors import Permanent
from include.dr.store import store_root

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

EVIDENCE_KIND = "evidence_pack"
EVIDENCE_ASSET = "all"
FOLDER = "evidence-packs"
PACK_NAME = re.compile(r"evidence-pack-\d{4}-\d{2}-\d{2}-to-\d{4}-\d{2}-\d{2}-[0-9a-f]{10}\.zip")


class NotAPackName(Permanent, ValueError):
    """A name that is no evidence pack's: never turned into a path."""


def pack_name(start: date, end: date, run_digest: str) -> str:
    """The pack's file name: its period, and ten hex digits of its run so reruns of one
    logical date find their own pack and other runs never collide with it."""
    return f"evidence-pack-{start.isoformat()}-to-{end.isoformat()}-{run_digest[:10]}.zip"


def pack_path(name: str, root: ObjectStoragePath | None = None) -> ObjectStoragePath:
    """Where a pack of that name lives in the store (``root``: the store in force)."""
    if not PACK_NAME.fullmatch(name):
        raise NotAPackName(f"{name!r} is not an evidence pack name")
    return (store_root() if root is None else root) / FOLDER / name


def newest_pack(root: ObjectStoragePath | None = None) -> ObjectStoragePath | None:
    """The most recently written pack in the store, if any."""
    folder = (store_root() if root is None else root) / FOLDER
    folder.fs.invalidate_cache(folder.path)
    if not folder.exists():
        return None
    packs = [p for p in folder.iterdir() if PACK_NAME.fullmatch(p.name)]
    return max(
        packs,
        key=lambda p: (p.stat().get("mtime") or p.stat().get("LastModified") or 0, p.name),
        default=None,
    )


def read_pack(name: str) -> bytes | None:
    """A stored pack's bytes by file name; anything but a pack name is refused (None)."""
    if not PACK_NAME.fullmatch(name):
        return None
    path = pack_path(name)
    return path.read_bytes() if path.exists() else None
