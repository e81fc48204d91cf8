"""CPU seconds per stage of a run, for one checkout or several side by side (before/after).

``model.stage_seconds`` (and ``cityrisk run --stages``) are wall seconds, which on a shared
machine include other processes' time; this wraps every stage of the plan in
``time.process_time`` instead — or, with ``--wall``, in ``time.perf_counter``: a stage whose large
passes run on two threads (sim/engine/split.py) spends more CPU than wall time, so compare
thread counts (``--threads 1 --threads 2``, each a column) by wall seconds. Each run is a fresh process with the checkout's ``sim`` first on
its path; with several checkouts the runs alternate (a, b, a, b, ...) so that all see the same
load, and the 1-minute load average at the start of each run is recorded. Medians over
``--repeat`` runs are printed per stage.

    .venv/bin/python benchmarks/bench_stages.py --checkout /path/to/before --checkout . \\
        --multiplier 1 --multiplier 5 --repeat 3 --json benchmarks/results/stages.json
    .venv/bin/python benchmarks/bench_stages.py --multiplier 5 --threads 1 --threads 2 --wall --repeat 2
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

CHILD = """
import json, resource, sys, time
import sim
from sim.model import CityModel
scenario, days, mult = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
if sys.argv[4] == "wall":
    time.process_time = time.perf_counter
spec = sim.load_scenario(scenario, [f"world.emergence_multiplier={mult}"] if mult != 1 else None)
c0 = time.process_time()
model = CityModel(spec, rng=0)
c1 = time.process_time()
cpu = {stage.name: 0.0 for stage in model.plan}
for stage in model.plan:
    def timed(s, run=stage.run, name=stage.name):
        tic = time.process_time()
        run(s)
        cpu[name] += time.process_time() - tic
    object.__setattr__(stage, "run", timed)
model.run(days)
c2 = time.process_time()
print(json.dumps({"build_cpu_s": c1 - c0, "run_cpu_s": c2 - c1, "stage_cpu_s": cpu,
                  "open_at_end": len(model.cases),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}))
"""


def one_run(checkout: Path, scenario: str, days: int, mult: float, threads: int | None = None,
            wall: bool = False) -> dict[str, object]:
    """One run in a fresh process with ``checkout``'s sim (and ``CITYRISK_THREADS=threads`` when
    given); its figures (wall seconds under the same names with ``wall``) and the load at the start."""
    load = float(Path("/proc/loadavg").read_text().split()[0])
    env = {"PYTHONPATH": str(checkout), "PATH": "/usr/bin:/bin"}
    if threads is not None:
        env["CITYRISK_THREADS"] = str(threads)
    out = subprocess.run([sys.executable, "-c", CHILD, scenario, str(days), str(mult), "wall" if wall else "cpu"],
                         cwd=checkout, env=env, capture_output=True, text=True, check=True)
    return {"checkout": str(checkout), "threads": threads, "multiplier": mult, "load_start": load, "wall": wall,
            **json.loads(out.stdout)}


def main(argv: list[str] | None = None) -> int:
    """Run, print medians per stage and checkout, optionally save every run."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkout", action="append", type=Path, help="a checkout's root (repeatable); default .")
    p.add_argument("--scenario", default="xian")
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--multiplier", action="append", type=float, help="world.emergence_multiplier (repeatable)")
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--threads", action="append", type=int,
                   help="CITYRISK_THREADS of the runs (repeatable: a column each); default: the checkout's own")
    p.add_argument("--wall", action="store_true", help="wall seconds instead of CPU seconds")
    p.add_argument("--json", metavar="PATH")
    a = p.parse_args(argv)
    checkouts = [(c.resolve(), t) for c in (a.checkout or [Path(".")]) for t in (a.threads or [None])]
    runs = [one_run(c, a.scenario, a.days, m, t, a.wall) for m in (a.multiplier or [1.0])
            for _ in range(a.repeat) for c, t in checkouts]
    for m in a.multiplier or [1.0]:
        sel = {(c, t): [r for r in runs if r["checkout"] == str(c) and r["threads"] == t and r["multiplier"] == m]
               for c, t in checkouts}
        print(f"\n{a.scenario} {a.days} d at {m:g}x: {'wall' if a.wall else 'CPU'} seconds, median of {a.repeat}")
        labels = [c.name[-10:] + ("" if t is None else f" t{t}") for c, t in checkouts]
        print(f"{'stage':<20}" + "".join(f"{label:>16}" for label in labels))
        first = sel[checkouts[0]][0]["stage_cpu_s"]
        assert isinstance(first, dict)
        for name in [*first, "run", "build"]:
            key = {"run": "run_cpu_s", "build": "build_cpu_s"}.get(name)
            cells = [statistics.median(float(r[key] if key else r["stage_cpu_s"][name])  # type: ignore[index, arg-type]
                                       for r in sel[c]) for c in checkouts]
            print(f"{name:<20}" + "".join(f"{v:>16.2f}" for v in cells))
    if a.json:
        Path(a.json).write_text(json.dumps(runs, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
