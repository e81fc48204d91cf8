"""Shared helpers of the benchmarks: the machine's description and measured child runs."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PYTHON = sys.executable


def machine() -> dict[str, object]:
    """nproc, CPU model, RAM and versions of the machine the figures are measured on."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gb = float("nan")
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram_gb = int(line.split()[1]) / 1024**2
    except OSError:
        pass
    import mesa
    import numba
    import numpy

    return {"nproc": os.cpu_count(), "cpu": cpu, "ram_gb": round(ram_gb, 1),
            "python": platform.python_version(), "numpy": numpy.__version__,
            "numba": numba.__version__, "mesa": mesa.__version__,
            "loadavg_1min": os.getloadavg()[0]}


def describe(m: dict[str, object]) -> str:
    """One line describing the machine."""
    return (f"{m['nproc']} CPUs ({m['cpu']}), {m['ram_gb']} GB RAM, Python {m['python']}, "
            f"numpy {m['numpy']}, numba {m['numba']}, Mesa {m['mesa']}; "
            f"load average {m['loadavg_1min']:.2f} at start")


def measure(scenario: str, days: int, sets: list[str] | tuple[str, ...] = (), seed: int = 0,
            timeout: float = 3600) -> dict[str, object]:
    """Run ``_measure.py`` in a fresh process; its JSON plus the child's CPU time and wall time."""
    cmd = [PYTHON, str(HERE / "_measure.py"), scenario, "--days", str(days), "--seed", str(seed)]
    for s in sets:
        cmd += ["--set", s]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process_wall_s"] = wall
    out["process_cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    out["loadavg_1min_after"] = os.getloadavg()[0]
    return out
