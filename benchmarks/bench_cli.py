"""Start-up time of the command line: ``cityrisk --help`` and ``--version`` (target: under 1 s),
and the first-ever ``cityrisk run town`` (target: at most 3 s beyond the imports).

Each is run as a fresh process (what a user waits for), several times; the median and the
slowest are printed, never asserted. ``--help`` imports only the argument parsers: Mesa, numba,
pandas, pyarrow and the optional extras are imported by the command that needs them.

The first run is measured with an empty numba cache (a fresh ``NUMBA_CACHE_DIR`` each time), as
on a fresh install: once with nothing compiled (the kernels compile inside the run), once after
``python -m sim.precompile`` (what ``.ci/setup.sh`` runs at install), and once warm. "Beyond
imports" is the model's build plus run as the command prints them (``build X s, run Y s``).

    .venv/bin/python benchmarks/bench_cli.py [--repeat 7] [--first-runs 3]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure(args: list[str], repeat: int) -> list[float]:
    """Wall seconds of ``python -m sim ARGS`` in a fresh process, ``repeat`` times."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "sim", *args], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out.append(time.perf_counter() - t0)
    return out


def _env(cache: str) -> dict[str, str]:
    return {**os.environ, "NUMBA_CACHE_DIR": cache,
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}


def _timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall and CPU seconds of ``cmd`` in a fresh process, and its stderr."""
    before = os.times()
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True)
    wall = time.perf_counter() - t0
    after = os.times()
    return wall, (after.children_user - before.children_user) + (after.children_system - before.children_system), \
        proc.stderr


def first_run(repeat: int) -> dict[str, dict[str, float]]:
    """``cityrisk run town`` with an empty numba cache: cold, after the precompile step, warm.
    Medians over ``repeat`` fresh caches of wall, CPU and build + run seconds."""
    run = [sys.executable, "-m", "sim", "run", "town", "--quiet"]
    rows: dict[str, list[tuple[float, float, float]]] = {"cold": [], "precompile": [], "after precompile": [],
                                                         "warm": []}
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="numba_cache_") as cache:
            env = _env(cache)
            for label in ("cold", "warm"):
                wall, cpu, err = _timed(run, env)
                m = re.search(r"build ([\d.]+) s, run ([\d.]+) s", err)
                rows[label].append((wall, cpu, float(m.group(1)) + float(m.group(2)) if m else float("nan")))
        with tempfile.TemporaryDirectory(prefix="numba_cache_") as cache:
            env = _env(cache)
            wall, cpu, _ = _timed([sys.executable, "-m", "sim.precompile"], env)
            rows["precompile"].append((wall, cpu, float("nan")))
            wall, cpu, err = _timed(run, env)
            m = re.search(r"build ([\d.]+) s, run ([\d.]+) s", err)
            rows["after precompile"].append((wall, cpu, float(m.group(1)) + float(m.group(2)) if m else float("nan")))
    return {k: {"wall_s": statistics.median(r[0] for r in v), "cpu_s": statistics.median(r[1] for r in v),
                "beyond_imports_s": statistics.median(r[2] for r in v)} for k, v in rows.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--first-runs", type=int, default=3, help="fresh numba caches for the first-run figures")
    opts = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} at start")
    measure(["--version"], 1)  # warm the file cache and __pycache__
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    base = [time.perf_counter() - t0]
    print(f"{'command':<22} {'median s':>9} {'max s':>7}")
    print(f"{'python -c pass':<22} {base[0]:9.3f} {base[0]:7.3f}")
    for args in (["--help"], ["--version"], ["run", "--help"], ["sweep", "--help"]):
        t = measure(args, opts.repeat)
        print(f"{'cityrisk ' + ' '.join(args):<22} {statistics.median(t):9.3f} {max(t):7.3f}")
        if args == ["--help"]:
            help_s = statistics.median(t)
    print(f"target --help <= 1 s: {help_s:.2f} s, {help_s / 1.0:.0%} of the target")
    if opts.first_runs:
        fr = first_run(opts.first_runs)
        print(f"\ncityrisk run town (its 365 days) with an empty numba cache, medians of {opts.first_runs}:")
        print(f"{'':<28} {'wall s':>7} {'CPU s':>7} {'build+run s':>12}")
        for label, r in fr.items():
            what = {"cold": "first run, nothing compiled", "precompile": "python -m sim.precompile",
                    "after precompile": "first run after precompile", "warm": "second run"}[label]
            print(f"{what:<28} {r['wall_s']:7.2f} {r['cpu_s']:7.2f} {r['beyond_imports_s']:12.2f}")
        for label in ("cold", "after precompile"):
            b = fr[label]["beyond_imports_s"]
            print(f"target first run <= 3 s beyond imports ({label}): {b:.2f} s, {b / 3.0:.0%} of the target")
        print(f"load average {os.getloadavg()[0]:.2f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
