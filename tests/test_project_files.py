"""The project's deploy files agree with the lock and with each other."""

from __future__ import annotations

import json
import re
import tomllib

from include.dr.project import PROJECT_ROOT


def locked_versions() -> dict[str, str]:
    lock = tomllib.loads((PROJECT_ROOT / "uv.lock").read_text())
    return {
        package["name"]: package["version"] for package in lock["package"] if "version" in package
    }


def test_image_requirements_pin_the_locked_versions() -> None:
    locked = locked_versions()
    for line in (PROJECT_ROOT / "requirements.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, version = re.fullmatch(
            r"([A-Za-z0-9_.-]+)(?:\[[^\]]+\])?==(\S+)", line.strip()
        ).groups()  # type: ignore[union-attr]
        assert locked[name.lower()] == version, (
            f"requirements.txt pins {name}=={version}, uv.lock has {locked[name.lower()]}"
        )


def test_the_core_stack_is_the_one_the_project_is_built_on() -> None:
    locked = locked_versions()
    assert locked["apache-airflow"] == "3.3.2"
    assert locked["aiobotocore"]  # deferrable AWS triggers need it
    assert locked["botocore"].startswith("1.43.")
    assert "airflow-provider-great-expectations" not in locked
    assert locked["great-expectations"].startswith("1.")


def test_iam_policy_grants_no_wildcard_action_and_no_version_deletion() -> None:
    policy = json.loads((PROJECT_ROOT / "include" / "iam-policy.json").read_text())
    assert policy["Version"] == "2012-10-17"
    actions = []
    for statement in policy["Statement"]:
        found = statement["Action"]
        actions += [found] if isinstance(found, str) else found
    assert all(action != "*" and not action.endswith(":*") for action in actions)
    assert "s3:DeleteObjectVersion" not in actions and "s3:DeleteBucket" not in actions


def test_ci_runs_the_readme_test_command() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
    assert "make test" in (PROJECT_ROOT / ".ci" / "run").read_text()
