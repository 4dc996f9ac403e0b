"""The project's deploy files agree with the lock and with each other.

Pure file parsing: nothing is built or installed (no Docker engine runs here), so these
tests read the Dockerfile, requirements.txt and packages.txt the way a build would.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from functools import cache

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from include.dr.project import PROJECT_ROOT

# The official Apache Airflow image: `apache/airflow:<airflow version>-python<major.minor>`.
OFFICIAL_IMAGE = re.compile(r"apache/airflow:(?P<airflow>\d+\.\d+\.\d+)-python(?P<python>3\.\d+)")
# What the image must carry for the backups to run (git-lfs: LFS objects; the MariaDB
# client: mysqldump and mysql; headers, pkg-config and a compiler: mysqlclient's build).
IMAGE_APT_PACKAGES = {"git", "git-lfs", "mariadb-client", "libmariadb-dev", "pkg-config"}
COMPILERS = {"gcc", "build-essential"}


@cache
def locked_versions() -> dict[str, str]:
    lock = tomllib.loads((PROJECT_ROOT / "uv.lock").read_text())
    return {
        canonicalize_name(package["name"]): package["version"]
        for package in lock["package"]
        if "version" in package
    }


def image_requirements() -> dict[str, Requirement]:
    """requirements.txt by canonical name; every line must be an exact pin."""
    found = {}
    for number, line in enumerate((PROJECT_ROOT / "requirements.txt").read_text().splitlines(), 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        requirement = Requirement(text)
        specifiers = list(requirement.specifier)
        assert len(specifiers) == 1 and specifiers[0].operator == "==", (
            f"requirements.txt line {number} ({text!r}) is not an exact pin (name==version)"
        )
        found[canonicalize_name(requirement.name)] = requirement
    return found


def requirement_pins() -> dict[str, str]:
    """requirements.txt as {canonical name: pinned version}."""
    return {
        name: next(iter(requirement.specifier)).version
        for name, requirement in image_requirements().items()
    }


def dockerfile_instructions() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments), comments dropped, continuations joined."""
    logical: list[str] = []
    pending = ""
    for line in (PROJECT_ROOT / "Dockerfile").read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    instructions = []
    for text in logical:
        keyword, _, arguments = text.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def base_image() -> str:
    froms = [arguments for keyword, arguments in dockerfile_instructions() if keyword == "FROM"]
    assert froms, "the Dockerfile has no FROM"
    for arguments in froms:
        assert "$" not in arguments, (
            f"FROM {arguments}: the base image must be a literal tag, not a build argument, "
            "so tools (and this test) can read which Airflow and Python it runs"
        )
    return froms[-1].split()[0]


def project_python() -> str:
    """The project's Python as major.minor, from pyproject.toml, uv.lock and .python-version."""
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    lock = tomllib.loads((PROJECT_ROOT / "uv.lock").read_text())
    allowed = [SpecifierSet(pyproject["project"]["requires-python"])]
    allowed.append(SpecifierSet(lock["requires-python"]))
    minors = {f"3.{minor}" for minor in range(8, 30) if all(f"3.{minor}.0" in s for s in allowed)}
    assert len(minors) == 1, f"requires-python should name one Python minor version; got {minors}"
    python = minors.pop()
    pinned = PROJECT_ROOT / ".python-version"
    if pinned.exists():
        assert pinned.read_text().strip().startswith(python), ".python-version disagrees"
    return python


def apt_packages_installed() -> set[str]:
    """Every package an `apt-get install` in the Dockerfile names, packages.txt included
    where the Dockerfile feeds it to apt-get."""
    listed = {
        line.split("#", 1)[0].strip()
        for line in (PROJECT_ROOT / "packages.txt").read_text().splitlines()
    } - {""}
    installed: set[str] = set()
    for keyword, arguments in dockerfile_instructions():
        if keyword != "RUN":
            continue
        for command in re.split(r"&&|;|\|\|", arguments):
            words = shlex.split(command)
            if "apt-get" not in words or "install" not in words:
                continue
            assert "--no-install-recommends" in words, (
                f"{command.strip()}: no --no-install-recommends"
            )
            assert "/var/lib/apt/lists/*" in arguments, f"RUN {arguments}: apt lists not cleaned"
            if any("packages.txt" in word for word in words):
                installed |= listed
            after = words[words.index("install") + 1 :]
            installed |= {word for word in after if not word.startswith("-")}
    return installed


def test_image_requirements_pin_the_locked_versions() -> None:
    locked = locked_versions()
    pins = requirement_pins()
    assert pins, "requirements.txt pins nothing"
    for name, version in pins.items():
        assert name in locked, f"requirements.txt pins {name}, which uv.lock does not hold"
        assert locked[name] == version, (
            f"requirements.txt pins {name}=={version}, uv.lock has {locked[name]}"
        )


def test_image_requirements_cover_every_project_dependency() -> None:
    """Each direct dependency of pyproject.toml reaches the image: Airflow through the base
    image's tag, everything else through a pin in requirements.txt (extras included)."""
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    pinned = image_requirements()
    for text in pyproject["project"]["dependencies"]:
        wanted = Requirement(text)
        name = canonicalize_name(wanted.name)
        if name == "apache-airflow":
            continue
        assert name in pinned, f"{name} is a project dependency but requirements.txt lacks it"
        assert wanted.extras <= pinned[name].extras, (
            f"requirements.txt installs {name} without the extras {sorted(wanted.extras)}"
        )


def test_the_base_image_is_the_locked_airflow_on_the_project_python() -> None:
    image = base_image()
    match = OFFICIAL_IMAGE.fullmatch(image)
    assert match, f"FROM {image}: expected apache/airflow:<version>-python<x.y>"
    assert match["airflow"] == locked_versions()["apache-airflow"], (
        f"the image runs Airflow {match['airflow']}, uv.lock has "
        f"{locked_versions()['apache-airflow']}"
    )
    assert match["python"] == project_python(), (
        f"the image runs Python {match['python']}, the project {project_python()}"
    )


def test_the_image_installs_git_lfs_and_what_mysqlclient_builds_against() -> None:
    installed = apt_packages_installed()
    assert not IMAGE_APT_PACKAGES - installed, f"missing: {sorted(IMAGE_APT_PACKAGES - installed)}"
    assert installed & COMPILERS, "no C compiler for mysqlclient's build"
    runs = " ".join(
        arguments for keyword, arguments in dockerfile_instructions() if keyword == "RUN"
    )
    assert "git lfs install" in runs, "git-lfs is installed but its filters are not configured"


def test_the_image_installs_requirements_txt_and_ends_as_the_airflow_user() -> None:
    instructions = dockerfile_instructions()
    assert any(
        keyword == "COPY" and "requirements.txt" in arguments for keyword, arguments in instructions
    )
    installs = [
        arguments
        for keyword, arguments in instructions
        if keyword == "RUN" and "pip install" in arguments
    ]
    assert any("-r /tmp/requirements.txt" in arguments for arguments in installs)
    assert all("--no-cache-dir" in arguments for arguments in installs)
    users = [arguments for keyword, arguments in instructions if keyword == "USER"]
    assert users and users[-1] == "airflow", "the image must not run as root"
    pip_users = []
    user = ""
    for keyword, arguments in instructions:
        if keyword == "USER":
            user = arguments
        elif keyword == "RUN" and "pip install" in arguments:
            pip_users.append(user)
    assert pip_users and all(user == "airflow" for user in pip_users), (
        "pip must run as the airflow user in the official image"
    )


def test_the_core_stack_is_the_one_the_project_is_built_on() -> None:
    locked = locked_versions()
    assert locked["apache-airflow"] == "3.3.2"
    assert locked["aiobotocore"]  # deferrable AWS triggers need it
    assert locked["s3fs"]  # ObjectStoragePath on s3:// (the shared store)
    assert locked["botocore"].startswith("1.43.")
    assert "airflow-provider-great-expectations" not in locked
    assert locked["great-expectations"].startswith("1.")


def test_ci_runs_the_readme_test_command() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
    assert "make test" in (PROJECT_ROOT / ".ci" / "run").read_text()
