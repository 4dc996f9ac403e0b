"""Bare repositories served by ``git daemon`` on loopback: the local GitHub organisation.

The history is written with ``git fast-import`` from fixed dates and authors,
so every machine gets the same commit SHAs, branches and tags.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from include.dr.local_stack.processes import ManagedProcess, StackError, refuse_foreign_port

COMMITS_ON_MAIN = 30
EPOCH = 1_660_000_000  # 2022-08-08, a week before the policy's first version


def _git() -> str:
    found = shutil.which("git")
    if not found:
        raise StackError("git is not installed; on Debian run 'apt-get install -y git'")
    return found


def repos_root(state_dir: Path) -> Path:
    return state_dir / "git" / "repos"


def git_daemon_process(state_dir: Path, port: int) -> ManagedProcess:
    base = repos_root(state_dir)
    return ManagedProcess(
        name="git-daemon",
        argv=[
            _git(),
            "daemon",
            "--export-all",
            "--reuseaddr",
            "--informative-errors",
            "--enable=receive-pack",
            f"--base-path={base}",
            "--listen=127.0.0.1",
            f"--port={port}",
            str(base),
        ],
        state_dir=state_dir,
    )


def start_git_daemon(state_dir: Path, port: int, probe_repo: str) -> bool:
    """Serve the repositories; ``probe_repo`` (``org/name``) is listed to prove it answers."""
    process = git_daemon_process(state_dir, port)
    refuse_foreign_port(process, port)
    started = process.start()
    url = f"git://127.0.0.1:{port}/{probe_repo}.git"

    def answers() -> bool:
        result = subprocess.run(  # noqa: S603 - fixed argv
            [_git(), "ls-remote", "--heads", url], capture_output=True, timeout=10
        )
        return result.returncode == 0

    process.wait_until(answers, "serving repositories", timeout=30)
    return started


def seed_repositories(state_dir: Path, organisation: str, names: tuple[str, ...]) -> list[Path]:
    """Create each bare repository once, with branches and tags; return their paths."""
    paths = []
    for name in names:
        path = repos_root(state_dir) / organisation / f"{name}.git"
        if not (path / "HEAD").exists():
            path.mkdir(parents=True, exist_ok=True)
            subprocess.run([_git(), "init", "--bare", "-q", "-b", "main", str(path)], check=True)  # noqa: S603
            subprocess.run(  # noqa: S603
                [_git(), "--git-dir", str(path), "fast-import", "--quiet"],
                input=history(name).encode(),
                check=True,
            )
        paths.append(path)
    return paths


def history(repo: str) -> str:
    """A fast-import stream: main with tags, a develop branch and a feature branch."""
    out: list[str] = []
    mark = 0

    def commit(branch: str, parent: int | None, path: str, content: str, message: str) -> int:
        nonlocal mark
        mark += 1
        when = EPOCH + mark * 3_600
        out.append(f"commit refs/heads/{branch}\nmark :{mark}")
        out.append(f"author Dev Team <dev@example.com> {when} +0000")
        out.append(f"committer Dev Team <dev@example.com> {when} +0000")
        out.append(_data(message))
        if parent is not None:
            out.append(f"from :{parent}")
        out.append(f"M 100644 inline {path}\n{_data(content)}")
        return mark

    main: int | None = None
    marks: list[int] = []
    for index in range(1, COMMITS_ON_MAIN + 1):
        main = commit(
            "main",
            main,
            f"src/module_{index % 7}.py",
            f"# {repo} module {index % 7}\nVERSION = {index}\n",
            f"{repo}: change {index}",
        )
        marks.append(main)
    develop = marks[19]
    for index in range(1, 6):
        develop = commit(
            "develop", develop, "src/next.py", f"NEXT = {index}\n", f"{repo}: develop {index}"
        )
    feature = marks[24]
    for index in range(1, 4):
        feature = commit(
            "feature/login", feature, "src/login.py", f"STEP = {index}\n", f"{repo}: login {index}"
        )
    out.append(f"tag v1.0\nfrom :{marks[9]}\ntagger Dev Team <dev@example.com> {EPOCH} +0000")
    out.append(_data("Release 1.0"))
    out.append(f"reset refs/tags/v1.1\nfrom :{marks[19]}\n")
    return "\n".join(out) + "\n"


def _data(text: str) -> str:
    return f"data {len(text.encode())}\n{text}"
