"""Compile every numba kernel of the engine once and leave it in numba's cache.

The kernels are compiled on first use and cached on disk (``cache=True``: next to the sources in
``__pycache__``, or in ``NUMBA_CACHE_DIR``, or — where the package directory is read-only — in
the user's cache directory). Without this step the first run on a machine pays the compilation
(several seconds); ``.ci/setup.sh`` runs it after installing, so the first real run only loads
the cache::

    python -m sim.precompile          # prints the kernels compiled and the seconds it took

It compiles by running the real model on small cities — every kernel gets exactly the argument
types of a real run, with nothing to keep in step by hand — under both queue disciplines, both ways of
drawing residents and at high case rates, so that every stage's kernels (court, lapse, balancing across streets) run.
"""

from __future__ import annotations

import sys
import time

# small cities that between them call every compiled kernel with every argument type it gets
WARM_RUNS: tuple[dict[str, object], ...] = (
    {"city.residents": 5_000, "world.emergence_multiplier": 20},
    {"city.residents": 5_000, "world.emergence_multiplier": 20, "handling.queue_discipline": "priority",
     "city.resident_draws": "inversion"},
)
WARM_DAYS = 20


def compile_kernels(scenario: str = "town") -> int:
    """Run the warm-up cities; returns the number of kernel signatures numba compiled (0 when
    everything came from the cache)."""
    from numba.core import event

    from .model import CityModel

    compiled = []

    class _Count(event.Listener):
        def on_start(self, ev: event.Event) -> None:
            pass

        def on_end(self, ev: event.Event) -> None:
            compiled.append(ev.data["dispatcher"].py_func.__qualname__)

    listener = _Count()
    event.register("numba:compile", listener)
    try:
        for overrides in WARM_RUNS:
            CityModel(scenario, rng=0, overrides=dict(overrides)).run(WARM_DAYS)
        _warm_split_passes(scenario)
        # the early warning's feature matrix (trust survey, backlog) is built only when kept for
        # training or read by a learned forecaster: a week of it
        model = CityModel(scenario, rng=0, overrides=dict(WARM_RUNS[0]))
        model.warning.keep_features = True
        model.run(7)
    finally:
        event.unregister("numba:compile", listener)
    return len(compiled)


def _warm_split_passes(scenario: str) -> None:
    """A few days with every large pass split over two threads, as a large table's are
    (:mod:`sim.engine.split`): the kernels only those parts call (the compaction's column groups)."""
    from .engine import split
    from .model import CityModel

    old_min, old_threads = split.SPLIT_MIN_ROWS, split.threads()
    split.SPLIT_MIN_ROWS = 1
    split.set_threads(2)
    try:
        CityModel(scenario, rng=0, overrides=dict(WARM_RUNS[0])).run(5)
    finally:
        split.SPLIT_MIN_ROWS = old_min
        split.set_threads(old_threads)


def kernels_cached() -> bool:
    """Whether numba's cache holds the engine's kernels for these sources (a sentinel kernel's cache
    index is present and current); True when it cannot be told. ``cityrisk run`` uses it to say
    that a first run on a machine will compile for a while."""
    try:
        from .engine.case_kernels import fill_rows

        # numba's own index reader: empty when the index is missing or stale (the source changed)
        return bool(fill_rows._cache._cache_file._load_index())  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - a private numba API: if it moves, stay quiet
        return True


def main() -> int:
    """``python -m sim.precompile``."""
    tic = time.perf_counter()
    n = compile_kernels()
    print(f"cityrisk: {n} kernel signatures compiled in {time.perf_counter() - tic:.1f} s "
          f"({'now cached' if n else 'all were cached already'})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
