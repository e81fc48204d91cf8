"""The performance machinery: kernels compiled ahead of a run come from numba's cache."""

from __future__ import annotations

import os
import subprocess
import sys

from sim.precompile import compile_kernels, kernels_cached


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
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "fingerprint.py"
    spec = importlib.util.spec_from_file_location("fingerprint", path)
    assert spec is not None and spec.loader is not None
    fp = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fp)
    small = {"city.residents": 5_000, "world.emergence_multiplier": 5}
    a = fp.fingerprint("town", 20, small)
    assert a == fp.fingerprint("town", 20, small)
    assert a["closed_cases"] > 0
    b = fp.fingerprint("town", 20, small, seed=1)
    assert a["cases"] != b["cases"] and a["kpis"] != b["kpis"]
