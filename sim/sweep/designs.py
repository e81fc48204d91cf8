"""Design points from a :class:`~sim.sweep.spec.DesignSpec`: grid, list, LHS, Sobol, Morris.

Sampled designs use SALib (``latin``, ``sobol`` with scrambling, ``morris``) with the spec's seed,
so the same spec always gives the same points in the same order; Sobol and Morris analyses rely
on that order. Integer parameters are rounded after sampling (``raw`` keeps the unrounded matrix).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .spec import DesignSpec

__all__ = ["Design", "build_design", "salib_problem"]


@dataclass(frozen=True)
class Design:
    """Design points: ``values[i, j]`` is parameter ``names[j]`` at point ``i``."""

    kind: str
    names: tuple[str, ...]
    integer: tuple[bool, ...]
    values: np.ndarray
    raw: np.ndarray

    @property
    def n_points(self) -> int:
        """Number of design points."""
        return int(self.values.shape[0])

    def point(self, i: int) -> dict[str, int | float]:
        """Parameter values of point ``i`` as plain Python numbers."""
        return {
            n: (int(v) if is_int else float(v))
            for n, v, is_int in zip(self.names, self.values[i], self.integer, strict=True)
        }

    def frame(self) -> pd.DataFrame:
        """The design as a DataFrame with a ``point_id`` column and one column per parameter."""
        cols: dict[str, Any] = {"point_id": np.arange(self.n_points, dtype=np.int64)}
        for j, (n, is_int) in enumerate(zip(self.names, self.integer, strict=True)):
            col = self.values[:, j]
            cols[n] = col.astype(np.int64) if is_int else col.astype(np.float64)
        return pd.DataFrame(cols)


def salib_problem(spec: DesignSpec) -> dict[str, Any]:
    """The SALib problem dict (names and bounds) of a sampled design."""
    return {
        "num_vars": len(spec.parameters),
        "names": [p.key for p in spec.parameters],
        "bounds": [[float(p.lo), float(p.hi)] for p in spec.parameters],
    }


def _round_ints(raw: np.ndarray, integer: tuple[bool, ...]) -> np.ndarray:
    vals = raw.astype(np.float64, copy=True)
    for j, is_int in enumerate(integer):
        if is_int:
            vals[:, j] = np.rint(vals[:, j])
    return vals


def build_design(spec: DesignSpec) -> Design:
    """Generate the design points of ``spec`` (deterministic for a given spec)."""
    names = spec.keys
    integer = tuple(p.integer for p in spec.parameters)
    if spec.kind == "grid":
        grids = [p.values or () for p in spec.parameters]
        raw = np.array(list(itertools.product(*grids)), dtype=np.float64).reshape(-1, len(names))
    elif spec.kind == "list":
        raw = np.array([[pt[n] for n in names] for pt in spec.points], dtype=np.float64)
    else:
        problem = salib_problem(spec)
        if spec.kind == "lhs":
            from SALib.sample import latin

            raw = latin.sample(problem, spec.samples, seed=spec.seed)
        elif spec.kind == "sobol":
            from SALib.sample import sobol

            raw = sobol.sample(problem, spec.samples, calc_second_order=spec.second_order,
                               scramble=True, seed=spec.seed)
        elif spec.kind == "morris":
            from SALib.sample import morris

            raw = morris.sample(problem, spec.samples, num_levels=spec.levels, seed=spec.seed)
        else:  # pragma: no cover - the spec parser rejects other kinds
            raise ValueError(f"unknown design kind {spec.kind!r}")
        raw = np.asarray(raw, dtype=np.float64)
    return Design(spec.kind, names, integer, _round_ints(raw, integer), raw)
