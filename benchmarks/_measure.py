"""One measured run of the model in this (fresh) process; prints one JSON object.

Used by bench_scale.py and bench_scaling.py, which start it as a subprocess so that every run's
peak memory is its own:

    .venv/bin/python benchmarks/_measure.py xian --days 365 --set world.emergence_multiplier=5
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time

T_START = time.perf_counter()
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))  # this checkout's sim


def main(argv: list[str] | None = None) -> int:
    """Build and run one scenario; print build/run wall and CPU seconds, cases, stages, peak RSS."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("scenario")
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    a = p.parse_args(argv)

    import sim
    from sim.model import CityModel

    t_import = time.perf_counter() - T_START
    scenario = sim.load_scenario(a.scenario, a.set or None)
    c0, w0 = time.process_time(), time.perf_counter()
    model = CityModel(scenario, rng=a.seed)
    c1, w1 = time.process_time(), time.perf_counter()
    model.run(a.days)
    c2, w2 = time.process_time(), time.perf_counter()
    kpis = model.kpis()
    out = {
        "scenario": a.scenario, "overrides": a.set, "days": a.days, "seed": a.seed,
        "residents": model.layout.n_residents, "grids": model.layout.n_grids,
        "agents": len(model.agents), "import_s": t_import,
        "build_s": w1 - w0, "build_cpu_s": c1 - c0, "run_s": w2 - w1, "run_cpu_s": c2 - c1,
        "cases": int(kpis["cases_total"]), "open_at_end": len(model.cases),
        "cases_emerged": int(model.cases.next_id),  # warm-up included
        "open_case_days": int(model.timeseries()[["open_latent", "open_reporting", "open_queued",
                                                  "open_in_service"]].to_numpy().sum()),
        "resolved_share": float(kpis["resolved_share"]),
        "stage_seconds": dict(model.stage_seconds),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
