"""Fixtures shared by the integration tests."""

from tests.integration.git_runs import upstream

__all__ = ["upstream"]
