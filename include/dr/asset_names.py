"""How each backed-up asset is named in evidence, in the DR buckets and as an Airflow Asset.

One place, because the evidence written by a backup, read by the compliance view
and the restore test, and the keys under which its objects live must agree.
"""

from __future__ import annotations


def rds_asset(instance: str) -> str:
    """An RDS instance, e.g. ``rds/swl-customers-prod``."""
    return f"rds/{instance}"


def s3_asset(source_bucket: str) -> str:
    """A source bucket, e.g. ``s3/swl-uploads``."""
    return f"s3/{source_bucket}"


def git_organisation_asset(organisation: str) -> str:
    """A GitHub organisation as a whole (its run summary), e.g. ``git/social-workshop``."""
    return f"git/{organisation}"


def git_asset(organisation: str, repository: str) -> str:
    """One repository, e.g. ``git/social-workshop/web``."""
    return f"{git_organisation_asset(organisation)}/{repository}"


def dated_prefix(asset: str, day: str) -> str:
    """The DR bucket folder holding one day's backup of an asset: ``<asset>/<day>/``."""
    return f"{asset}/{day}/"


def s3_dr_backup_asset(source_bucket: str) -> str:
    """The Airflow Asset name a finished S3 backup of ``source_bucket`` updates."""
    return f"s3_dr_backup__{source_bucket}"


def rds_dr_backup_asset(instance: str) -> str:
    """The Airflow Asset name a finished RDS backup of ``instance`` updates."""
    return f"rds_dr_backup__{instance}"
