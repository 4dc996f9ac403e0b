"""The "Backup compliance" page in the Airflow UI navigation, and its JSON endpoint.

A FastAPI app mounted by Airflow at ``/backup-compliance``, shown inside the UI as an
external view. Plugin apps are not behind Airflow's login by default, so every route
depends on Airflow's own ``get_user``: a request without a valid Airflow token (the
UI's session cookie, or a bearer token) is refused.
"""

from __future__ import annotations

from typing import Any

from airflow.api_fastapi.core_api.security import get_user
from airflow.plugins_manager import AirflowPlugin
from fastapi import Depends, FastAPI, HTTPException
from fastapi.responses import HTMLResponse, Response

PREFIX = "/backup-compliance"
app = FastAPI(title="Backup compliance", dependencies=[Depends(get_user)])


def _data() -> dict[str, Any]:
    from include.dr.compliance.view import now, page_data
    from include.dr.evidence import evidence_store
    from include.dr.policy.loader import load_policy

    return page_data(load_policy(), evidence_store(), now())


@app.get("/api/status")
def status() -> dict[str, Any]:
    """Every clause's verdict with its evidence, per-asset facts, restore test, SLAs, and
    the residency verdict with its exception's region pair, approver and date."""
    return _data()


@app.get("/", response_class=HTMLResponse)
def page() -> str:
    """The page, with its charts rendered on the server (SVG, both themes)."""
    from include.dr.compliance import figures
    from include.dr.compliance.view import now, page_data, render
    from include.dr.evidence import evidence_store
    from include.dr.policy.loader import load_policy

    policy, store, moment = load_policy(), evidence_store(), now()
    data = page_data(policy, store, moment)
    return render(data, "/dags/{dag_id}/runs/{run_id}", figures.build(policy, store, moment))


@app.get("/reports/{name}", response_class=HTMLResponse)
def report(name: str) -> str:
    """A restore test's HTML report from the backup store (linked from the page)."""
    from include.dr.compliance.view import read_report

    found = read_report(name)
    if found is None:
        raise HTTPException(status_code=404, detail=f"no restore test report {name!r}")
    return found


@app.get("/packs/{name}")
def pack(name: str) -> Response:
    """An evidence pack from the store, as the zip an auditor downloads."""
    from include.dr.evidence_pack.stored import read_pack

    found = read_pack(name)
    if found is None:
        raise HTTPException(status_code=404, detail=f"no evidence pack {name!r}")
    return Response(
        found,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


class BackupCompliancePlugin(AirflowPlugin):
    name = "backup_compliance"
    fastapi_apps = [{"app": app, "url_prefix": PREFIX, "name": "Backup compliance"}]
    external_views = [
        {
            "name": "Backup compliance",
            "href": f"{PREFIX}/",
            "destination": "nav",
            "url_route": "backup-compliance",
        }
    ]
