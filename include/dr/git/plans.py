"""What the git DAGs' tasks pass to each other through XCom, typed.

The backup: a :class:`BackupPlan` (the repositories in at most four
:class:`Batch`\\es), one :class:`BatchResult` per mapped batch, and the
:class:`RetentionTarget`\\s of the repositories backed up. The restore: a
:class:`RestoreRequest` (the form, checked), then a :class:`PushPlan`.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict


class RepositorySpec(TypedDict):
    """One repository to mirror; a wiki is optional (an enabled wiki may have no pages)."""

    name: str
    url: str
    optional: bool


class BatchCommon(TypedDict):
    """What every batch of one run shares."""

    organisation: str
    day: str  # the run's window day, YYYY-MM-DD: the bundles' date
    dr_bucket: str | None
    dr_region: str
    kms_key_arn: str | None


class Batch(BatchCommon):
    """The argument of one mapped backup task."""

    repositories: list[RepositorySpec]


class BackupPlan(BatchCommon):
    """The run's repositories in bounded batches, and the mirrors no longer listed."""

    source: str
    listed: list[str]
    vanished: list[str]
    batches: list[Batch]


class Failure(TypedDict):
    """A repository not backed up, why, and whether asking again may mend it."""

    name: str
    error: str
    transient: bool


class BatchResult(TypedDict):
    """What one batch did, by repository name."""

    repositories: int
    backed_up: list[str]
    skipped: list[str]
    empty: list[str]
    emptied: list[str]
    failed: list[Failure]
    bundles_made: int


class RetentionTarget(TypedDict):
    """The keyword arguments of one mapped retention operator."""

    asset: str
    inventory: str
    inventory_args: dict[str, Any]


class RestoreRequest(TypedDict):
    """The restore form, checked and normalised."""

    organisation: str
    repository: str
    day: str
    target_url: str
    is_original: bool
    overwrite_refs: bool
    delete_other_refs: bool
    dry_run: bool


class PushChanges(TypedDict):
    """What the push would do to each branch and tag at the target."""

    create: list[str]
    update: list[str]
    unchanged: list[str]
    only_at_target: list[str]


class PushPlan(RestoreRequest):
    """The request, the backup's digest, and the target's refs before the push."""

    bundle_sha256: str
    bundle_bytes: NotRequired[int]  # what the restore decrypts and clones
    target_refs_before: dict[str, str]
    changes: PushChanges
