"""Cost of one resident-day of cityrisk against one citizen-step of Mesa's bundled Epstein
civil-violence example (``mesa.examples.advanced.epstein_civil_violence``), side by side in one
process, at comparable agent counts (target: a resident-day >= 1000x cheaper).

For each agent count N the Epstein model is built on a square torus with N citizens (its default
densities: 70% citizens, 7.4% cops) and stepped; cityrisk's baseline scenario is built with N
residents and run for some days. Build time and a warm-up step/day are excluded. The cost is CPU
time (``time.process_time``), which other processes on a shared machine do not inflate; wall
time is printed too. At 13 million residents, far beyond what the Epstein example can step, the
ratio uses the Epstein cost measured at the largest N (its cost per citizen-step does not fall
with N) and is marked as such.

    .venv/bin/python benchmarks/bench_epstein.py              # N = 1e3, 1e4, 1e5 (+ 1.3e7 ours)
    .venv/bin/python benchmarks/bench_epstein.py --quick      # N = 1e3, 1e4
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import describe, machine  # noqa: E402


def epstein_cost(citizens: int, steps: int, seed: int = 1) -> dict[str, float]:
    """CPU and wall seconds per citizen-step of the Epstein example with about ``citizens``."""
    from mesa.examples.advanced.epstein_civil_violence.agents import Citizen
    from mesa.examples.advanced.epstein_civil_violence.model import (
        EpsteinCivilViolence,
        EpsteinScenario,
    )

    scenario = EpsteinScenario(rng=seed)
    side = max(3, round(math.sqrt(citizens / scenario.citizen_density)))
    model = EpsteinCivilViolence(width=side, height=side, scenario=scenario)
    n = len(model.agents_by_type[Citizen])
    model.step()  # warm-up
    c0, w0 = time.process_time(), time.perf_counter()
    for _ in range(steps):
        model.step()
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    return {"agents": n, "steps": steps, "cpu_per_unit": cpu / (n * steps),
            "wall_per_unit": wall / (n * steps), "grid_side": side}


def cityrisk_cost(residents: int, days: int, seed: int = 1) -> dict[str, float]:
    """CPU and wall seconds per resident-day of cityrisk's baseline with ``residents``."""
    import sim

    scenario = sim.load_scenario("baseline", {"city.residents": residents})
    model = sim.CityModel(scenario, rng=seed)
    model.step()  # warm-up (compiled kernels are loaded on first use)
    c0, w0 = time.process_time(), time.perf_counter()
    model.run(days)
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    n = model.layout.n_residents
    return {"agents": n, "days": days, "cpu_per_unit": cpu / (n * days),
            "wall_per_unit": wall / (n * days)}


def main(argv: list[str] | None = None) -> int:
    """Measure both models at each agent count and print the ratios."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="only N = 1e3 and 1e4; no city scale")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    a = p.parse_args(argv)

    # (N, Epstein steps, cityrisk days); steps shrink as N grows to keep the run short
    plan = [(1_000, 20, 120), (10_000, 5, 120)] + ([] if a.quick else [(100_000, 2, 120)])
    info = machine()
    print(f"machine: {describe(info)}")
    print(f"{'N':>10} {'Epstein us/citizen-step':>24} {'cityrisk ns/resident-day':>25} "
          f"{'ratio (CPU)':>12} {'ratio (wall)':>12}")
    rows = []
    for n, steps, days in plan:
        ours = cityrisk_cost(n, days)
        theirs = epstein_cost(n, steps)
        ratio, ratio_wall = (theirs["cpu_per_unit"] / ours["cpu_per_unit"],
                             theirs["wall_per_unit"] / ours["wall_per_unit"])
        rows.append({"n": n, "epstein": theirs, "cityrisk": ours, "ratio_cpu": ratio,
                     "ratio_wall": ratio_wall})
        print(f"{n:>10,} {theirs['cpu_per_unit'] * 1e6:>24.1f} {ours['cpu_per_unit'] * 1e9:>25.1f} "
              f"{ratio:>12,.0f} {ratio_wall:>12,.0f}", flush=True)
    if not a.quick:
        big = cityrisk_cost(13_000_000, 30)
        theirs = rows[-1]["epstein"]
        ratio = theirs["cpu_per_unit"] / big["cpu_per_unit"]
        rows.append({"n": 13_000_000, "epstein": theirs, "cityrisk": big, "ratio_cpu": ratio,
                     "ratio_wall": theirs["wall_per_unit"] / big["wall_per_unit"],
                     "epstein_extrapolated_from": rows[-1]["n"]})
        print(f"{13_000_000:>10,} {theirs['cpu_per_unit'] * 1e6:>23.1f}* {big['cpu_per_unit'] * 1e9:>25.2f} "
              f"{ratio:>12,.0f} {rows[-1]['ratio_wall']:>12,.0f}")
        print(f"  * Epstein cost per citizen-step as measured at N = {rows[-2]['n']:,} "
              "(the example cannot step 13M citizens in reasonable time)")
    print("target: ratio >= 1000")
    if a.json:
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(json.dumps({"machine": info, "rows": rows}, indent=2))
        print(f"wrote {a.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
