"""The performance machinery: kernels compiled ahead of a run come from numba's cache."""

from __future__ import annotations

from sim.precompile import compile_kernels


def test_precompile_leaves_nothing_to_compile():
    compile_kernels()  # compiles what is missing from the cache (nothing after .ci/setup.sh)
    assert compile_kernels() == 0
