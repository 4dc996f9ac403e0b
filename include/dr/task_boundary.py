"""Where the error tree meets Airflow: the only place that decides retry or fail.

Task adapters and custom operators run domain code inside :func:`task_boundary`. A
:class:`~include.dr.errors.Permanent` error fails the task at once (no retry can
mend it, and a person is told why); a :class:`~include.dr.errors.Transient` error,
or a network error, is raised as it is, so Airflow retries it with backoff; an AWS
``ClientError`` is classified first.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from airflow.sdk.exceptions import AirflowFailException

from include.dr.errors import Permanent, Transient, from_client_error

P = ParamSpec("P")
R = TypeVar("R")


class PermanentFailure(AirflowFailException):
    """A permanent error, failed without retries; its message is the domain error's."""


@contextmanager
def task_boundary(doing: str = "the task") -> Iterator[None]:
    """Map the error tree to Airflow for the code run inside it."""
    from botocore.exceptions import ClientError

    try:
        yield
    except Permanent as error:
        raise PermanentFailure(str(error)) from error
    except Transient:
        raise
    except ClientError as error:
        mapped = from_client_error(error, doing)
        if isinstance(mapped, Permanent):
            raise PermanentFailure(str(mapped)) from error
        raise mapped from error


def at_boundary(function: Callable[P, R]) -> Callable[P, R]:
    """Decorator form of :func:`task_boundary`, for task adapters."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with task_boundary(function.__name__.replace("_", " ")):
            return function(*args, **kwargs)

    return wrapper
