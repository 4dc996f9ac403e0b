"""The environment Airflow runs in on the local stack: its home, folders and connections.

``make demo`` hands it to ``airflow standalone``; the tests apply it to their own
process before Airflow is imported. Nothing here imports Airflow.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from include.dr.local_stack.enforcement import signed_by_users
from include.dr.local_stack.settings import load_settings
from include.dr.project import PROJECT_ROOT, state_dir
from include.dr.store import CACHE_DIR_ENV, STORE_URL_ENV


def airflow_env(home: Path, parallelism: int = 8, signed: bool = False) -> dict[str, str]:
    """Variables that point Airflow at this project and the local stack's connections."""
    venv_bin = str(Path(sys.executable).parent)
    python_path = [str(PROJECT_ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(":"))]
    settings = load_settings()
    if signed:  # the demo's Airflow, once `enforce-iam` has made the users
        settings = signed_by_users(settings, state_dir())
    env = settings.airflow_env()
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__PARALLELISM": str(parallelism),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            STORE_URL_ENV: f"file://{state_dir() / 'store'}",
            CACHE_DIR_ENV: str(state_dir() / "cache"),
            "PYTHONPATH": ":".join(dict.fromkeys(python_path)),
            "PATH": f"{venv_bin}:{os.environ.get('PATH', '')}",
        }
    )
    return env
