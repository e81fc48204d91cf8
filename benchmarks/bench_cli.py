"""Start-up time of the command line: ``cityrisk --help`` and ``--version`` (target: under 1 s).

Each is run as a fresh process (what a user waits for), several times; the median and the
slowest are printed, never asserted. ``--help`` imports only the argument parsers: Mesa, numba,
pandas, pyarrow and the optional extras are imported by the command that needs them.

    .venv/bin/python benchmarks/bench_cli.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    opts = ap.parse_args()
    measure(["--version"], 1)  # warm the file cache and __pycache__
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    base = [time.perf_counter() - t0]
    print(f"{'command':<22} {'median s':>9} {'max s':>7}")
    print(f"{'python -c pass':<22} {base[0]:9.3f} {base[0]:7.3f}")
    for args in (["--help"], ["--version"], ["run", "--help"], ["sweep", "--help"]):
        t = measure(args, opts.repeat)
        print(f"{'cityrisk ' + ' '.join(args):<22} {statistics.median(t):9.3f} {max(t):7.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
