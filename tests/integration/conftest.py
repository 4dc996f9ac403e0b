"""Fixtures shared by the integration tests."""

from tests.integration.git_runs import upstream
from tests.integration.s3_runs import fresh_buckets

__all__ = ["fresh_buckets", "upstream"]
