"""One error tree: whether a fault is retried is answered by its class, nowhere else.

Domain code raises :class:`Permanent` (retrying cannot mend it: bad configuration,
a missing or disabled key, a refused request, failed verification) or
:class:`Transient` (retrying may mend it: the network, throttling, a server
hiccup), and never imports Airflow. The task boundary
(:mod:`include.dr.task_boundary`) maps them to Airflow once: a permanent error fails
the task at once, a transient one is retried with backoff. An AWS ``ClientError``
that domain code lets through is classified by :func:`from_client_error`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from botocore.exceptions import ClientError


class BackupError(Exception):
    """Every error the product raises on purpose."""


class Permanent(BackupError):
    """Retrying cannot mend it; a person must act (the message says what to do)."""


class Transient(BackupError):
    """Retrying may mend it; the task is retried with backoff while it has tries left."""


# What AWS answers when the thing asked for does not exist, across the services we call.
NOT_FOUND_CODES = frozenset(
    {
        "404",
        "NoSuchKey",
        "NoSuchBucket",
        "NoSuchVersion",
        "NotFound",
        "NotFoundException",
        "DBSnapshotNotFound",
        "DBSnapshotNotFoundFault",
        "DBInstanceNotFound",
        "DBInstanceNotFoundFault",
        "TrailNotFoundException",
    }
)

# What AWS answers when asking again later may succeed.
TRANSIENT_CODES = frozenset(
    {
        "500",
        "502",
        "503",
        "504",
        "InternalError",
        "InternalFailure",
        "ServiceUnavailable",
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestTimeout",
        "RequestTimeoutException",
        "KMSInternalException",
        "DependencyTimeoutException",
    }
)


def error_code(error: ClientError) -> str:
    """The AWS error code of a ``ClientError`` ("" when the answer carried none)."""
    return str(error.response.get("Error", {}).get("Code", ""))


def is_not_found(error: ClientError) -> bool:
    """Whether AWS said the thing asked for does not exist."""
    return error_code(error) in NOT_FOUND_CODES


def is_transient(error: ClientError) -> bool:
    """Whether AWS said to ask again later (throttling, a server error)."""
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return error_code(error) in TRANSIENT_CODES or int(status or 0) >= 500


def from_client_error(error: ClientError, doing: str) -> BackupError:
    """A ``ClientError`` as one of ours: transient when AWS says to ask again, else permanent
    (access denied, a missing or disabled key, a refused request)."""
    kind = Transient if is_transient(error) else Permanent
    return kind(f"{doing}: AWS answered {error_code(error) or 'an error'}: {error}")
