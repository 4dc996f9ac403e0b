"""The name a Celery worker of the local distributed stack gives its task instances.

Airflow records ``[core] hostname_callable`` in every task instance. The two workers of
``make demo-distributed`` share one machine, so the default (the machine's FQDN) would
name both alike and hide which worker ran what; each sets ``DR_WORKER_NAME`` instead.
"""

from __future__ import annotations

import os
import socket

WORKER_NAME_ENV = "DR_WORKER_NAME"


def hostname() -> str:
    """``DR_WORKER_NAME`` when set (a worker of the local stack), else the machine's FQDN."""
    return os.environ.get(WORKER_NAME_ENV) or socket.getfqdn()
