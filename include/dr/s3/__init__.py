"""The daily S3 backup: DR bucket guardrails, the incremental copy plan and engine."""
