"""Local stack or real AWS: the one question, answered from the connection in one place.

The same DAG code runs on both; only the connection differs. A few checks cannot
be made on the local stack (moto applies a bucket policy's Deny without its
``aws:SecureTransport`` condition, so a TLS-only policy there would refuse every
request): those checks report ``n/a`` on the local stack, never ``pass``.
"""

from __future__ import annotations

from typing import Any


def is_local_stack(client: Any) -> bool:
    """Whether ``client`` talks plain HTTP to a local endpoint (moto), not to AWS."""
    endpoint = str(getattr(client.meta, "endpoint_url", "") or "")
    return endpoint.startswith("http://")
