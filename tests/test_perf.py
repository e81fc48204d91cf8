"""The performance machinery: kernels compiled ahead of a run come from numba's cache."""

from __future__ import annotations

from sim.precompile import compile_kernels


def test_precompile_leaves_nothing_to_compile():
    compile_kernels()  # compiles what is missing from the cache (nothing after .ci/setup.sh)
    assert compile_kernels() == 0


def test_warm_worker_loads_the_model_once():
    from sim.sweep import task

    assert task.warm_worker("sim.run") == "sim.run"
    assert "sim.run" in task._WARM
    assert task.warm_worker("sim.run") == "sim.run"  # a no-op the second time
