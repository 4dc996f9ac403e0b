"""Measuring one benchmark step in its own process: wall time, CPU and peak memory.

The step is started by a tiny launcher (``python -S``, about 10 MB) that reports
its children's resource usage. Started straight from the benchmark, a step's
peak RSS would include the benchmark's own size: the kernel's high-water mark
counts the forked copy of the parent before ``exec``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

LAUNCHER = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
sys.stdout.write(json.dumps({
    "code": done.returncode,
    "seconds": time.perf_counter() - started,
    "cpu": usage.ru_utime + usage.ru_stime,
    "rss": usage.ru_maxrss / 1024,
    "stderr": done.stderr[-1500:].decode(errors="replace"),
    "stdout": done.stdout[-4000:].decode(errors="replace"),
}))
"""


@dataclass(frozen=True)
class Measurement:
    seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    stdout: str = ""  # what the command printed, e.g. its own in-process timing

    def as_dict(self) -> dict[str, float]:
        return {
            "seconds": self.seconds,
            "cpu_seconds": self.cpu_seconds,
            "peak_rss_mb": self.peak_rss_mb,
        }


def measure_command(argv: Sequence[str], env: Mapping[str, str] | None = None) -> Measurement:
    """Run ``argv`` under the launcher; the time, CPU and peak RSS are this command's alone."""
    launched = subprocess.run(  # noqa: S603 - argv comes from the benchmark itself
        [sys.executable, "-S", "-c", LAUNCHER, *argv],
        env=dict(env) if env else None,
        capture_output=True,
        check=True,
    )
    report = json.loads(launched.stdout)
    if report["code"] != 0:
        raise RuntimeError(f"{argv[0]} exited with status {report['code']}: {report['stderr']}")
    return Measurement(
        round(report["seconds"], 2),
        round(report["cpu"], 2),
        round(report["rss"], 1),
        report["stdout"],
    )
