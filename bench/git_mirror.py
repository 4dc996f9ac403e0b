"""Benchmark: the git backup's mirroring against a plain parallel loop of git commands.

Twenty repositories of about 200 commits each are served by the local git
daemon. Both sides mirror them at the same parallelism (4): the project's code
as the DAG's batch task calls it (``update_mirror`` in a pool of 4 threads), and
``xargs -P 4`` running ``git clone --mirror`` then ``git remote update``. It
measures the first mirror and an incremental run after two repositories
changed; the fsck and the encrypted bundles, which the loop does not do, are
measured separately. Each step runs in its own process (wall time, CPU, peak
memory), and each side has its own mirror folder.

Run with the local stack up: ``make bench-git``.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import uuid
from pathlib import Path

from bench.measure import Measurement, measure_command
from include.dr.local_stack.git_daemon import repos_root
from include.dr.local_stack.settings import load_settings
from include.dr.project import PROJECT_ROOT, state_dir

REPOSITORIES = 20
COMMITS = 200
PARALLEL = 4
ROUNDS = 3  # fresh repositories each round; the report gives each step's median
RESULTS = PROJECT_ROOT / "bench" / "results" / "git_mirror.json"

ENGINE = """
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from include.dr.git.mirror import mirror_path, update_mirror
from include.dr.git.remote import GitRemote
base, org, cache, count = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
remote = GitRemote(base)
names = [f"repo-{i:02d}" for i in range(count)]
def one(name):
    return update_mirror(mirror_path(cache, org, name), remote.url(org, name), remote)
started = time.perf_counter()
with ThreadPoolExecutor(4) as pool:
    list(pool.map(one, names))
print(round(time.perf_counter() - started, 3))
"""

CHECKS = """
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from include.dr.git.bundle import bundle_path, write_bundle
from include.dr.git.mirror import inspect_mirror, mirror_path
from include.dr.git.remote import GitRemote
org, cache, bundles, count, day = sys.argv[1:6]
cache, bundles = Path(cache), Path(bundles)
key = bytes(range(32))
def one(name):
    path = mirror_path(cache, org, name)
    inspect_mirror(path, GitRemote(""))
    write_bundle(path, bundle_path(bundles, org, name, day), key, f"{org}/{name}", day)
with ThreadPoolExecutor(4) as pool:
    list(pool.map(one, [f"repo-{i:02d}" for i in range(int(count))]))
"""


def history(repo: str, commits: int, start: int = 0) -> str:
    """A fast-import stream of ``commits`` commits on main touching a few files each."""
    out = []
    for index in range(start, start + commits):
        when = 1_700_000_000 + index * 600
        body = f"# {repo}\nVALUE_{index} = {index}\n" + "x = 1\n" * (index % 40)
        message = f"{repo}: change {index}"
        out += [
            "commit refs/heads/main",
            f"committer Bench <bench@example.com> {when} +0000",
            f"data {len(message)}",
            message,
        ]
        if index == start and start:
            out.append("from refs/heads/main^0")
        out += [f"M 100644 inline src/file_{index % 25}.py", f"data {len(body)}", body]
    return "\n".join(out) + "\n"


def seed(root: Path, names: list[str]) -> None:
    for name in names:
        path = root / f"{name}.git"
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(path)], check=True)  # noqa: S607
        subprocess.run(  # noqa: S603
            ["git", "--git-dir", str(path), "fast-import", "--quiet"],  # noqa: S607
            input=history(name, COMMITS).encode(),
            check=True,
        )


def change(root: Path, name: str) -> None:
    path = root / f"{name}.git"
    subprocess.run(  # noqa: S603
        ["git", "--git-dir", str(path), "fast-import", "--quiet"],  # noqa: S607
        input=history(name, 5, start=COMMITS).encode(),
        check=True,
    )


def loop_clone(base: str, org: str, folder: Path, names: list[str]) -> list[str]:
    script = f'git clone -q --mirror "{base}/{org}/$1.git" "{folder}/$1.git"'
    return [
        "sh",
        "-c",
        f"printf '%s\\n' {' '.join(names)} | xargs -P {PARALLEL} -I{{}} sh -c '{script}' _ {{}}",
    ]


def loop_update(folder: Path, names: list[str]) -> list[str]:
    script = f'git --git-dir "{folder}/$1.git" remote update --prune >/dev/null'
    return [
        "sh",
        "-c",
        f"printf '%s\\n' {' '.join(names)} | xargs -P {PARALLEL} -I{{}} sh -c '{script}' _ {{}}",
    ]


def one_round(base: str) -> dict[str, Measurement]:
    org = f"bench-{uuid.uuid4().hex[:6]}"
    upstream = repos_root(state_dir()) / org
    work = state_dir() / "bench-git" / org
    names = [f"repo-{i:02d}" for i in range(REPOSITORIES)]
    env = {"PYTHONPATH": str(PROJECT_ROOT), "PATH": "/usr/bin:/bin"}
    engine = [sys.executable, "-c", ENGINE, base, org, str(work / "engine"), str(REPOSITORIES)]
    checks = [
        *[sys.executable, "-c", CHECKS, org, str(work / "engine")],
        *[str(work / "bundles"), str(REPOSITORIES)],
    ]
    try:
        seed(upstream, names)
        (work / "loop").mkdir(parents=True)
        steps = {
            "loop_first": measure_command(loop_clone(base, org, work / "loop", names)),
            "engine_first": measure_command(engine, env),
            "fsck_and_bundles_first": measure_command([*checks, "2026-11-01"], env),
        }
        for name in names[:2]:
            change(upstream, name)
        steps |= {
            "loop_incremental": measure_command(loop_update(work / "loop", names)),
            "engine_incremental": measure_command(engine, env),
            "fsck_and_bundles_incremental": measure_command([*checks, "2026-11-02"], env),
        }
        return steps
    finally:
        shutil.rmtree(upstream, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


def median(rounds: list[dict[str, Measurement]], step: str) -> dict[str, float]:
    taken = [r[step] for r in rounds]
    body = {
        field: statistics.median(getattr(m, field) for m in taken)
        for field in ("seconds", "cpu_seconds", "peak_rss_mb")
    }
    if step.startswith("engine"):  # the pool's own time: a worker's Python is already running
        body["in_process_seconds"] = statistics.median(float(m.stdout) for m in taken)
    return body


def main() -> None:
    base = load_settings().connection("github_default")["extra"]["git_url"]
    rounds = [one_round(base) for _ in range(ROUNDS)]
    results = {step: median(rounds, step) for step in rounds[0]}
    report = {
        "repositories": REPOSITORIES,
        "commits_each": COMMITS,
        "parallel": PARALLEL,
        "rounds": ROUNDS,
        "results": results,
    }
    for scenario in ("first", "incremental"):
        loop = results[f"loop_{scenario}"]["seconds"]
        report[f"{scenario}_vs_loop"] = round(results[f"engine_{scenario}"]["seconds"] / loop, 2)
        report[f"{scenario}_in_process_vs_loop"] = round(
            results[f"engine_{scenario}"]["in_process_seconds"] / loop, 2
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
