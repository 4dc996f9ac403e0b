"""The restore test's last step: write the report, and link it from the task in the UI.

Custom rather than a ``@task`` because an extra link ("Restore test report") belongs
to an operator class. The link is set even when the test failed, which is when a
person most needs the report. Check results are pulled by task id, so a check task
that failed leaves a gap the report names instead of stopping the report.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from airflow.sdk import BaseOperator, BaseOperatorLink

from include.dr.connections import AWS_DR


class RestoreTestReportLink(BaseOperatorLink):
    name = "Restore test report"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        return str(getattr(operator, "report_url", "") or "")


class RestoreTestReportOperator(BaseOperator):
    """Build, store and record the report from the check tasks' results; fail on a failed check.

    :param checks: report group -> the task id that produced it.
    """

    operator_extra_links = (RestoreTestReportLink(),)
    template_fields: Sequence[str] = ()
    ui_color = "#d5f5e3"

    def __init__(
        self, *, plan_task: str, checks: dict[str, str], aws_conn_id: str = AWS_DR, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.plan_task = plan_task
        self.checks = checks
        self.aws_conn_id = aws_conn_id
        self.report_url = ""

    def execute(self, context: Any) -> dict[str, Any]:
        from include.dr.run_info import RunInfo
        from include.dr.task_boundary import task_boundary

        run = RunInfo.from_context(context)
        with task_boundary("writing the restore test report"):
            return self._report(context["ti"], run)

    def _report(self, ti: Any, run: Any) -> dict[str, Any]:
        from include.dr.aws_clients import hook_clients
        from include.dr.kms import resolve_key
        from include.dr.policy.loader import load_policy
        from include.dr.restore_test import steps
        from include.dr.restore_test.plan import RestoreTestFailed
        from include.dr.restore_test.report import STORE_FOLDER
        from include.dr.store import store_root

        test = ti.xcom_pull(task_ids=self.plan_task)
        due = steps.due_checks(test)
        groups = {
            name: (ti.xcom_pull(task_ids=task_id), due.get(name, True))
            for name, task_id in self.checks.items()
        }
        policy = load_policy()
        region = policy.regions.dr
        dr = hook_clients(self.aws_conn_id)
        dr_s3 = dr("s3", region)
        key_arn = resolve_key(dr("kms", region), policy.kms_key(region), region)
        outcome = steps.finish(
            test,
            groups,
            datetime.now(UTC).isoformat(),
            store_root() / STORE_FOLDER,
            dr_s3,
            policy.assets.dr_buckets[0],
            key_arn,
            run,
        )
        self.report_url = steps.report_url(dr_s3, outcome["report"], region)
        self.log.info("Report: %s (%s)", outcome["report"]["html"], self.report_url)
        if outcome["verdict"] != "pass":
            raise RestoreTestFailed(
                f"restore test failed: {', '.join(outcome['failing'])}; "
                f"report: {outcome['report']['html']}"
            )
        return outcome
