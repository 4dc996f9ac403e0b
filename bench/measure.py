"""Measuring one benchmark step in a fresh child process: wall time, CPU and peak memory."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Measurement:
    seconds: float
    cpu_seconds: float
    peak_rss_mb: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def measure_command(argv: Sequence[str], env: Mapping[str, str] | None = None) -> Measurement:
    """Run ``argv`` from a forked child so the CPU and peak RSS are this command's alone."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child runs the command and reports its own children's usage
        os.close(read)
        started = time.perf_counter()
        done = subprocess.run(list(argv), env=dict(env) if env else None, capture_output=True)
        code = done.returncode
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        report = {
            "code": code,
            "seconds": time.perf_counter() - started,
            "cpu": usage.ru_utime + usage.ru_stime,
            "rss": usage.ru_maxrss / 1024,
            "stderr": done.stderr[-1500:].decode(errors="replace"),
        }
        os.write(write, json.dumps(report).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        report = json.loads(pipe.read())
    os.waitpid(pid, 0)
    if report["code"] != 0:
        raise RuntimeError(f"{argv[0]} exited with status {report['code']}: {report['stderr']}")
    return Measurement(
        round(report["seconds"], 2), round(report["cpu"], 2), round(report["rss"], 1)
    )
