"""The performance machinery: kernels compiled ahead of a run come from numba's cache."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from sim.precompile import compile_kernels, kernels_cached


def _benchmark(name: str) -> ModuleType:
    """The script ``benchmarks/NAME.py`` loaded as a module (benchmarks/ is not a package)."""
    path = Path(__file__).resolve().parents[1] / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_precompile_leaves_nothing_to_compile():
    compile_kernels()  # compiles what is missing from the cache (nothing after .ci/setup.sh)
    assert compile_kernels() == 0


def test_kernels_cached_tells_an_empty_cache(tmp_path):
    compile_kernels()
    assert kernels_cached()  # the cache this process uses is filled
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))  # a machine that never compiled
    out = subprocess.run([sys.executable, "-c", "from sim.precompile import kernels_cached as k; print(k())"],
                         env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_warm_worker_loads_the_model_once():
    from sim.sweep import task

    assert task.warm_worker("sim.run") == "sim.run"
    assert "sim.run" in task._WARM
    assert task.warm_worker("sim.run") == "sim.run"  # a no-op the second time


def test_fingerprint_script_is_deterministic():
    """benchmarks/fingerprint.py (how a speed-up is shown to leave results alone) gives the same
    hashes for the same run, and different ones for a different seed."""
    fp = _benchmark("fingerprint")
    small = {"city.residents": 5_000, "world.emergence_multiplier": 5}
    a = fp.fingerprint("town", 20, small)
    assert a == fp.fingerprint("town", 20, small)
    assert a["closed_cases"] > 0
    b = fp.fingerprint("town", 20, small, seed=1)
    assert a["cases"] != b["cases"] and a["kpis"] != b["kpis"]


def test_profile_kernels_maps_every_compiled_kernel(tmp_path):
    """benchmarks/profile_kernels.py names numba's code for perf: a kernel that ran is in the map,
    and the map's entries are perf's ``start size name`` lines that do not overlap."""
    import numpy as np

    from sim.engine.cases import stage_rows

    pk = _benchmark("profile_kernels")
    assert stage_rows(np.array([0, 3, 1, 3], np.int8), (3,)).tolist() == [1, 3]
    starts = pk.kernel_map()
    assert any(label == "cases._stage_rows" for _address, label in starts)
    lines = pk.write_perf_map(123, starts, tmp_path).read_text().splitlines()
    assert len(lines) == len(starts)
    spans = [(int(a, 16), int(a, 16) + int(n, 16)) for a, n, _name in (line.split(" ", 2) for line in lines)]
    assert all(end <= nxt for (_s, end), (nxt, _e) in zip(spans, spans[1:], strict=False))
    assert all(0 < end - start <= 1 << 16 for start, end in spans)


def test_threads_by_day_alternates_and_restores(monkeypatch):
    """benchmarks/bench_threads_by_day.py steps days on 1 and 2 threads in ABBA order, as many of
    each, and leaves the process's thread count as it found it."""
    from sim.engine import split

    bench = _benchmark("bench_threads_by_day")
    seen: list[int] = []
    real = split.set_threads
    monkeypatch.setattr(split, "set_threads", lambda n: (seen.append(n), real(n))[1])
    r = bench.measure("town", 1.0, warmup=2, days=8)
    assert seen[:8] == [1, 2, 2, 1, 1, 2, 2, 1] and seen[8] == split.default_threads()
    assert r["days_each"] == 4 and r["ms_per_day_1_thread"] > 0 and r["ms_per_day_2_threads"] > 0
    assert split.threads() == split.default_threads()


def test_routing_kernel_has_one_signature():
    # every move (triage, referral, walk-in, review) lands through one compiled signature: a
    # read-only and a writable array are different types to numba, and each signature is one
    # more kernel to compile at install and to load in every process
    import sim
    from sim.engine.routing import _route_place
    from sim.model import CityModel
    from sim.precompile import WARM_DAYS, WARM_RUNS

    for overrides in WARM_RUNS:
        CityModel(sim.load_scenario("town", [f"{k}={v}" for k, v in overrides.items()]), rng=0).run(WARM_DAYS)
    assert len(_route_place.signatures) == 1
    level, t_ready = _route_place.signatures[0][1:3]
    assert not level.mutable and not t_ready.mutable


def test_scaling_figures_redraw_from_saved_results(tmp_path):
    import json

    scaling = _benchmark("bench_scaling")
    row = {"run_s": 3.5, "run_cpu_s": 3.4, "build_s": 0.8, "peak_rss_mb": 600.0, "cases": 569_460}
    saved = {"machine": {"nproc": 2, "cpu": "test CPU", "ram_gb": 1.0}, "days": 365,
             "rows": [{**row, "residents": 10**5}, {**row, "residents": 10**6}],
             "rate_rows": [{**row, "multiplier": 1.0}, {**row, "multiplier": 5.0}]}
    path = tmp_path / "scaling.json"
    path.write_text(json.dumps(saved))
    by_size, by_rate = tmp_path / "size.png", tmp_path / "rate.png"
    argv = ["--from-json", str(path), "--png", str(by_size), "--png-rates", str(by_rate)]
    assert scaling.main(argv) == 0
    assert by_size.read_bytes()[:4] == b"\x89PNG" and by_rate.read_bytes()[:4] == b"\x89PNG"
    by_rate.unlink()
    path.write_text(json.dumps({**saved, "rate_rows": []}))
    assert scaling.main(argv) == 0
    assert by_size.exists() and not by_rate.exists()  # no rates saved: no rate figure
