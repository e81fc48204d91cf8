"""A floor for the city year, from measured primitives, and how close the model comes to it.

Any implementation of the model must, every day, look at every open case at least once (its
escalation clock runs while it waits, and its hazard depends on its resident's tension and
trust: one random read of a resident record), and must emit every case once (emergence, a
record when it closes). So a floor for a run is::

    open case-days × (one streaming pass over a case's daily fields + one random resident read)
      + cases × (writing and reading one case record)

This script measures those primitives on this machine with compiled loops (one process, 13
million resident records, a million open cases), counts the open case-days and cases of the
``xian`` year at the given case rates (a real run in a fresh process, ``_measure.py``, which also
gives the run time), and prints the floor and the fraction of it reached (floor / run time).

    .venv/bin/python benchmarks/bench_limit.py                  # xian, 365 days, 1x and 5x
    .venv/bin/python benchmarks/bench_limit.py --multipliers 5 --json benchmarks/results/limit.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import describe, machine, measure  # noqa: E402

DAILY_BYTES = 48  # stage, level, acc_from, hazard, hazard_acc, three thresholds, t_arrive, grid, resident
RECORD_BYTES = 253  # one open case's row in the case table (sim/engine/cases.py COLUMNS)


def primitives(n_cases: int = 1_000_000, n_residents: int = 13_000_000, repeat: int = 5) -> dict[str, float]:
    """Nanoseconds per case of: a streaming pass over DAILY_BYTES, a random (prefetched) read of a
    16-byte resident record, and copying a RECORD_BYTES record (read once, written once)."""
    from numba import njit

    from sim.engine.intrinsics import prefetch

    @njit(cache=False)
    def stream(rows):  # pragma: no cover - compiled
        acc = np.uint64(0)  # integer sums: the compiler may vectorise them (no FP latency chain)
        for i in range(rows.shape[0]):
            for j in range(rows.shape[1]):
                acc += rows[i, j]
        return acc

    @njit(cache=False)
    def gather(res, rec):  # pragma: no cover - compiled
        acc = np.float32(0.0)
        col = rec[:, 0]
        for k in range(res.shape[0]):
            if k + 32 < res.shape[0]:
                prefetch(col, res[k + 32])
            acc += rec[res[k], 0] + rec[res[k], 2] + rec[res[k], 3]
        return acc

    rng = np.random.default_rng(0)
    daily = rng.integers(0, 2**40, (n_cases, DAILY_BYTES // 8), dtype=np.uint64)
    records = np.zeros((n_residents, 4), np.float32)
    res = rng.integers(0, n_residents, n_cases)
    rec_src = rng.integers(0, 255, (n_cases, RECORD_BYTES), dtype=np.uint8)
    rec_dst = np.empty_like(rec_src)
    stream(daily[:10])
    gather(res[:10], records)

    def timed(fn: object) -> float:
        out = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn()  # type: ignore[operator]
            out.append(time.perf_counter() - t0)
        return statistics.median(out) / n_cases * 1e9

    return {"stream_ns": timed(lambda: stream(daily)), "gather_ns": timed(lambda: gather(res, records)),
            "record_ns": timed(lambda: np.copyto(rec_dst, rec_src))}


def main(argv: list[str] | None = None) -> int:
    """Measure the primitives and the runs; print the floor and the fraction reached."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scenario", default="xian")
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--multipliers", default="1,5")
    p.add_argument("--json", metavar="PATH")
    p.add_argument("--primitives-only", action="store_true", help="measure the primitives, no runs")
    a = p.parse_args(argv)
    info = machine()
    print(f"machine: {describe(info)}")
    prim = primitives()
    print(f"primitives per case: streaming pass over {DAILY_BYTES} B {prim['stream_ns']:.2f} ns, random "
          f"resident read {prim['gather_ns']:.2f} ns, {RECORD_BYTES}-byte record copied "
          f"{prim['record_ns']:.2f} ns")
    out = []
    for mult in (float(x) for x in a.multipliers.split(",") if not a.primitives_only):
        sets = [] if mult == 1.0 else [f"world.emergence_multiplier={mult:g}"]
        r = measure(a.scenario, a.days, sets)
        counts = {"open_case_days": float(r["open_case_days"]), "cases": float(r["cases_emerged"])}
        floor = (counts["open_case_days"] * (prim["stream_ns"] + prim["gather_ns"])
                 + counts["cases"] * prim["record_ns"]) * 1e-9
        row = {"multiplier": mult, **counts, "floor_s": floor, "run_s": r["run_s"], "run_cpu_s": r["run_cpu_s"],
               "fraction_reached": floor / r["run_s"], "fraction_reached_cpu": floor / r["run_cpu_s"]}
        out.append(row)
        print(f"{a.scenario} x {a.days} days at {mult:g}x: {counts['open_case_days']:.3g} open case-days, "
              f"{counts['cases']:,.0f} cases -> floor {floor:.2f} s; run {r['run_s']:.1f} s wall "
              f"(CPU {r['run_cpu_s']:.1f} s): {row['fraction_reached']:.0%} of the limit "
              f"({row['fraction_reached_cpu']:.0%} by CPU time)", flush=True)
    if a.json:
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(json.dumps({"machine": info, "primitives": prim, "runs": out}, indent=2))
        print(f"wrote {a.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
