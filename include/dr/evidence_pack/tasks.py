"""The evidence pack's task adapters: check the form, then build, sign, store and announce
the pack. Only ``airflow.sdk`` is imported here at module level."""

from __future__ import annotations

from typing import Any

from airflow.sdk import get_current_context, task


@task
def check_request() -> dict[str, Any]:
    """Re-check the form on the server; refuse by field before anything is read or written."""
    from zoneinfo import ZoneInfo

    from include.dr.evidence_pack.request import validate_request
    from include.dr.policy.loader import load_policy
    from include.dr.run_info import RunInfo
    from include.dr.task_boundary import task_boundary

    context = get_current_context()
    run = RunInfo.from_context(context)
    with task_boundary("checking the evidence pack request"):
        zone = ZoneInfo(load_policy().schedule.window.timezone)
        return dict(
            validate_request(dict(context["params"]), run.logical_time.astimezone(zone).date())
        )


@task
def build_pack(request: dict[str, Any]) -> dict[str, Any]:
    """Build the period's pack, sign its manifest with the DR signing key, store it once
    and announce it as evidence; a rerun finds the pack its run already stored."""
    from datetime import UTC, datetime

    from include.dr.aws_clients import hook_clients
    from include.dr.connections import AWS_DR
    from include.dr.evidence import evidence_store
    from include.dr.evidence_pack.build import build_and_store
    from include.dr.evidence_pack.request import PackRequest
    from include.dr.evidence_pack.signing import KmsSigner
    from include.dr.policy.loader import load_policy
    from include.dr.run_info import RunInfo
    from include.dr.store import store_root
    from include.dr.task_boundary import task_boundary

    run = RunInfo.from_context(get_current_context())
    with task_boundary("building the evidence pack"):
        policy = load_policy()
        checked: PackRequest = {
            "start": request["start"],
            "end": request["end"],
            "clauses": list(request["clauses"]),
        }
        info = build_and_store(
            store_root(),
            checked,
            policy,
            lambda: KmsSigner(hook_clients(AWS_DR)("kms", policy.regions.dr)),
            run,
            evidence_store(),
            datetime.now(UTC),
        )
        print(f"Evidence pack: {info['where']} ({info['files']} files, SHA-256 {info['sha256']})")
        return dict(info)
