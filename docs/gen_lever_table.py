"""Print the measured rows of docs/ODD.md §7.14's lever table, so the table can be regenerated.

The design is ``tests/test_levers.py``'s: on ``town``, paired seeds 0–4 (common random numbers),
180 days, each lever at its lower and upper probe values (``LEVER_INFO[...].probe``); for its
documented outcome, the mean paired difference (upper − lower) and t = mean / paired s.e.

    PYTHONPATH=$PWD python docs/gen_lever_table.py --workers 2 [--json out.json]

It prints one markdown row per lever: lever, outcome, probe values, difference, t. Copy the last
two into the table's "measured difference" and "t" columns.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

import sim
from sim.cli import main as cli_main
from sim.config.levers import LEVER_INFO

SEEDS = range(5)
DAYS = 180


def _one(job: tuple[str, str, float, int]) -> float:
    key, outcome, value, seed = job
    context = dict(LEVER_INFO[key.split(".", 1)[1]].context)  # the test's probe context
    return float(sim.run("town", {**context, key: value}, seed=seed, days=DAYS)[outcome])


def rows() -> list[dict]:
    """The levers as ``cityrisk levers town --json`` lists them (the table the test walks)."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert cli_main(["levers", "town", "--json"]) == 0
    return json.loads(buf.getvalue())


def measure(workers: int) -> list[dict]:
    table = rows()
    jobs = []
    for r in table:
        low, high = LEVER_INFO[r["key"].split(".", 1)[1]].probe
        for v in (low, high):
            jobs += [(r["key"], r["effect"]["outcome"], v, s) for s in SEEDS]
    with ProcessPoolExecutor(workers) as ex:
        vals = list(ex.map(_one, jobs))
    out, n = [], len(SEEDS)
    for i, r in enumerate(table):
        block = vals[i * 2 * n:(i + 1) * 2 * n]
        d = np.array(block[n:]) - np.array(block[:n])
        se = d.std(ddof=1) / np.sqrt(n)
        low, high = LEVER_INFO[r["key"].split(".", 1)[1]].probe
        out.append({"key": r["key"], "outcome": r["effect"]["outcome"],
                    "direction": r["effect"]["direction"], "probe": [low, high],
                    "diffs": d.tolist(), "mean": float(d.mean()),
                    "t": float(d.mean() / se) if se > 0 else float("inf")})
    return out


def fmt(v: float) -> str:
    a = abs(v)
    s = f"{a:,.4f}" if a < 1 else f"{a:,.2f}" if a < 100 else f"{a:,.1f}"
    return ("−" if v < 0 else "+") + s


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", type=Path, help="also write the raw paired differences here")
    a = ap.parse_args(argv)
    if a.workers < 1:
        print(f"--workers: {a.workers} is out of range (allowed: an integer >= 1)", file=sys.stderr)
        return 2
    res = measure(a.workers)
    if a.json:
        a.json.write_text(json.dumps(res, indent=1))
    print("| lever | outcome | probe values | measured difference | t | passes |")
    print("|---|---|---|---|---|---|")
    for r in res:
        sign = 1 if r["direction"] == "up" else -1
        ok = sign * r["mean"] > 2 * abs(r["mean"] / r["t"]) if r["t"] else False
        name = r["key"].split(".", 1)[1]
        print(f"| `{name}` | `{r['outcome']}` | {r['probe'][0]:g} → {r['probe'][1]:g} "
              f"| {fmt(r['mean'])} | {fmt(r['t'])[:1]}{abs(r['t']):.1f} | {'yes' if ok else 'NO'} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
