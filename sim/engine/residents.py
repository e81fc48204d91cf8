"""Residents held column-wise, with lazy tension.

A city of millions cannot afford a Python object, or even a random draw, per resident per day.
Each resident is one row of a few float32 columns; residents are sorted by grid, so grid ``g``
owns rows ``start[g]:start[g+1]`` and no per-resident grid column is needed. Tension fades
exponentially; it is stored with the time it last changed and relaxed in closed form when read.
Trust is ``own + grid shift``: a resident's own experience plus what the grid has heard from
neighbours (the shift relaxes back to zero).

Neighbourhoods and residents differ (docs/ODD.md §7.15) without a per-resident column: each
community has a deprivation index ``z ~ N(0, 1)``; a grid's residents report less
(``report_factor``, folded into their propensity at initialisation) and have more grievances
(``need_factor``, read by emergence) the more deprived their community. Residents differ in how
often they are party to a dispute through their *position* in their grid's rows: position
``x = j / size`` has dispute weight ``w(x) = F⁻¹(1 − x)`` for a gamma distribution of mean 1 and
variance ``world.repeat_disputant_dispersion``, so the first rows of a grid are its repeat
disputants (rows carry no other meaning: trust and propensity are drawn independently of it).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from .beta_inversion import QuantileTables, invert_uniforms, quantile_tables
from .city import CityLayout
from .resident_kernels import (
    _effective_trust,
    _logit_interp,
    _mean_trust_terms,
    _move_trust,
    _position_rows,
    _scale_clipped,
    _segment_sums,
    _tension_gather,
    _tension_scatter,
)


def _beta_parameters(mean: float, concentration: float = 8.0) -> tuple[float, float]:
    """``(a, b)`` of the Beta distribution of mean ``mean`` (kept within [0.001, 0.999]) and
    concentration ``a + b``."""
    mean = min(max(mean, 1e-3), 1 - 1e-3)
    return mean * concentration, (1 - mean) * concentration


def _beta_around(rng: np.random.Generator, mean: float, n: int, concentration: float = 8.0,
                 out: np.ndarray | None = None, chunk: int = 1 << 20) -> np.ndarray:
    """Beta draws around ``mean`` as float32 by numpy's ``Generator.beta`` (ratios of gammas);
    with ``out``, written in chunks (the same draws, without a float64 temporary of all ``n``).
    (numba's ``Generator.beta`` gives the same draws, 13% faster in a loop of its own, but loading
    its random-number support cost more than that.)"""
    a, b = _beta_parameters(mean, concentration)
    if out is None:
        return rng.beta(a, b, n).astype(np.float32)
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        out[lo:hi] = rng.beta(a, b, hi - lo)  # draws are sequential: chunking keeps the stream
    return out


def _position_table(k: float, n: int = 4097) -> tuple[np.ndarray, np.ndarray]:
    """``(logit u, log x)`` on a grid of ``logit u`` from −40 to 40: the position ``x`` in the
    grid of the resident a uniform ``u`` picks when dispute weights are gamma (shape ``k``, mean
    1). The picked resident's weight is size-biased, Gamma(k + 1, 1/k): ``v`` is its
    ``u``-quantile; the position is the share of residents with a larger weight,
    ``x = 1 − F_k(v)``."""
    z = np.linspace(-40.0, 40.0, n)
    u = special.expit(z)
    v = np.where(z < 0, special.gammaincinv(k + 1.0, u), special.gammainccinv(k + 1.0, special.expit(-z))) / k
    x = special.gammaincc(k, k * v)
    return z, np.log(np.maximum(x, 1e-300))


STATE_COLUMNS = ("trust", "propensity", "tension", "tension_t")


class ResidentTable:
    """Column store of residents: trust, reporting propensity, tension (lazy)."""

    # column views of the packed records (set by _set_views; not pickled, rebuilt on load)
    trust: np.ndarray  # own trust in government, float32
    propensity: np.ndarray  # propensity to report, float32
    tension: np.ndarray  # tension when last written, float32
    tension_t: np.ndarray  # hours when tension was last written, float32

    def __init__(self, layout: CityLayout, world: dict, rng: np.random.Generator,
                 index_rng: np.random.Generator | None = None, background: bool = False,
                 draws: str = "gamma_ratio") -> None:
        """``draws``: how the Beta draws are made (``city.resident_draws``, see :func:`_beta_around`).
        ``background``: draw trust and propensity in a thread (numpy releases the GIL while
        drawing), so the rest of the model's build runs meanwhile; :meth:`join` waits for them.
        The draws are the same either way (one generator, drawn in the same order)."""
        self.layout = layout
        self.start = layout.resident_start
        # One 16-byte record per resident (trust, propensity, tension, tension_t): the stages
        # that read a case's resident then touch one cache line, not four scattered ones. The
        # attributes below are column views of it.
        # (np.zeros: fresh pages, which numpy asks the kernel to back with transparent huge pages)
        self._state = np.zeros((layout.n_residents, len(STATE_COLUMNS)), dtype=np.float32)
        self._set_views()
        self.draws = draws
        self._neighbourhoods(world, index_rng)  # the grids' reporting factors: read by the draws
        self.trust_sum = np.zeros(layout.n_grids)  # set by _draw
        self._drawing: threading.Thread | None = None
        self._failed: BaseException | None = None
        # by inversion, the quantile tables are made here: in the thread, each numpy call would wait
        # for the building thread to hand back the GIL (up to 5 ms each)
        tables = None if draws == "gamma_ratio" else tuple(
            quantile_tables(*_beta_parameters(world[key])) for key in ("trust_initial", "report_propensity"))
        # the draws first (the longest part of a large city's build): all that follows overlaps them
        if background:
            self._drawing = threading.Thread(target=self._draw_or_keep_error, args=(world, rng, tables),
                                             name="cityrisk-residents", daemon=True)
            self._drawing.start()
        else:
            self._draw(world, rng, tables)
        # tension_t: hours when tension was last written
        self.relax_hours = float(world["tension_relaxation_days"]) * 24.0
        self.trust_shift = np.zeros(layout.n_grids)  # neighbour-driven shift of each grid's trust

    def _draw(self, world: dict, rng: np.random.Generator,
              tables: tuple[QuantileTables, ...] | None = None) -> None:
        """Initial trust and propensity (for 13 million residents 0.9 s by numpy's gamma ratios;
        0.1 s by inversion, through ``tables``), the reporting factor folded into the
        propensities, Σ own trust per grid."""
        if tables is None:
            _beta_around(rng, world["trust_initial"], self.layout.n_residents, out=self.trust)
            _beta_around(rng, world["report_propensity"], self.layout.n_residents, out=self.propensity)
        else:
            for column, table in zip((self.trust, self.propensity), tables, strict=True):
                invert_uniforms(rng, table, column)
        if float(world.get("neighbourhood_report_spread", 0)):
            # the reporting factor folded into each grid's residents' propensities (clipped to 1):
            # np.minimum(propensity * factor, 1) in float32, compiled and without the GIL
            _scale_clipped(self.propensity, self.start, self.report_factor.astype(np.float32))
        # Σ own trust per grid (every grid has residents, so reduceat's segments are non-empty)
        # (compiled, as np.add.reduceat(trust, start[:-1], dtype=float64) adds: each segment's first
        # value plus numpy's pairwise sum of the rest; reduceat cast all 13 million to a float64
        # temporary first, whose fresh pages cost 0.2 s)
        self.trust_sum = _segment_sums(self.trust, self.start)

    def _draw_or_keep_error(self, world: dict, rng: np.random.Generator,
                            tables: tuple[QuantileTables, ...] | None) -> None:
        try:
            self._draw(world, rng, tables)
        except BaseException as exc:  # re-raised by join() in the building thread
            self._failed = exc

    def join(self) -> None:
        """Wait for the draws of a ``background`` build (nothing to wait for otherwise)."""
        if self._drawing is not None:
            self._drawing.join()
            self._drawing = None
        if self._failed is not None:
            failed, self._failed = self._failed, None
            raise failed

    def _neighbourhoods(self, world: dict, rng: np.random.Generator | None) -> None:
        """The communities' deprivation index and the grids' factors derived from it (mean-one
        lognormals, so the city-wide mean rates stay those of the scenario)."""
        lay = self.layout
        rs, ns = float(world.get("neighbourhood_report_spread", 0)), float(world.get("neighbourhood_need_spread", 0))
        z = (rng or np.random.default_rng(0)).standard_normal(lay.n_communities) if rs or ns else \
            np.zeros(lay.n_communities)
        self.deprivation = z[lay.community_of]  # per grid
        self.need_factor = np.exp(ns * self.deprivation - ns * ns / 2.0)
        self.report_factor = np.exp(-rs * self.deprivation - rs * rs / 2.0)
        self.dispute_shape = 1.0 / world["repeat_disputant_dispersion"] if world.get(
            "repeat_disputant_dispersion", 0) > 0 else 0.0
        self._pick_table: tuple[np.ndarray, np.ndarray] | None = None

    def pick(self, u: np.ndarray, grid: np.ndarray) -> np.ndarray:
        """Resident of ``grid`` party to a new case, from the uniform ``u``: picked in proportion to
        the dispute weight of their position (uniformly when the dispersion is 0: ``start + u·size``)."""
        x = u
        if self.dispute_shape > 0 and u.size:
            # log x against logit u, tabulated once (the inverse gamma is slow per case)
            if self._pick_table is None:
                self._pick_table = _position_table(self.dispute_shape)
            z, log_x = self._pick_table
            # np.exp(np.interp(special.logit(u), z, log_x)): one compiled pass, then numpy's exp
            x = np.empty(u.size)
            _logit_interp(u, z, log_x, x)
            np.exp(x, out=x)
        out = np.empty(grid.size, np.int64)
        _position_rows(x, grid, self.layout.resident_start, self.layout.residents_per_grid, out)
        return out

    def dispute_weight(self, idx: np.ndarray) -> np.ndarray:
        """Relative rate (mean 1 over a grid) at which residents ``idx`` are party to new cases."""
        idx = np.asarray(idx, dtype=np.int64)
        if self.dispute_shape <= 0:
            return np.ones(idx.size)
        g = self.grid_of(idx)
        x = (idx - self.start[g] + 0.5) / self.layout.residents_per_grid[g]
        k = self.dispute_shape
        return special.gammainccinv(k, x) / k

    def _set_views(self) -> None:
        for j, name in enumerate(STATE_COLUMNS):
            setattr(self, name, self._state[:, j])

    def __getstate__(self) -> dict:
        self.join()
        return {k: v for k, v in self.__dict__.items() if k not in STATE_COLUMNS}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._set_views()

    def __len__(self) -> int:
        return int(self.start[-1])

    def grid_of(self, idx: np.ndarray) -> np.ndarray:
        """Grid of each resident index."""
        return np.searchsorted(self.start, idx, side="right") - 1

    def tension_at(self, idx: np.ndarray, now: float) -> np.ndarray:
        """Tension of residents ``idx`` at time ``now`` (hours), relaxed in closed form."""
        dt = np.maximum(now - self.tension_t[idx], 0.0)
        return self.tension[idx] * np.exp(-dt / self.relax_hours)

    def add_tension(self, idx: np.ndarray, amount: float, now: float) -> None:
        """Raise tension of residents ``idx`` (repeats allowed: last write wins)."""
        if idx.size == 0 or amount == 0:
            return
        # np.minimum(self.tension_at(idx, now) + amount, 1.0) in float32, as numpy computes it, in
        # two compiled passes around numpy's own float32 exp (every value read before any write)
        x, ten = np.empty(idx.size, np.float32), np.empty(idx.size, np.float32)
        _tension_gather(idx, self.tension_t, self.tension, np.float32(now), np.float32(self.relax_hours), x, ten)
        np.exp(x, out=x)
        _tension_scatter(idx, ten, x, np.float32(amount), np.float32(now), self.tension, self.tension_t)

    def trust_of(self, idx: np.ndarray, grid: np.ndarray | None = None) -> np.ndarray:
        """Effective trust (own + grid shift, clipped to [0, 1])."""
        grid = self.grid_of(idx) if grid is None else grid
        idx, grid = np.asarray(idx), np.asarray(grid)
        if idx.ndim == 1 and grid.shape == idx.shape:
            # compiled: a random read of a resident record per index, the next ones prefetched
            # (the weekly survey's 260,000 reads cost 15 ms as numpy's gather)
            return _effective_trust(idx.astype(np.int64, copy=False), grid.astype(np.int64, copy=False),
                                    self.trust, self.trust_shift)
        return np.clip(self.trust[idx] + self.trust_shift[grid], 0.0, 1.0)

    def move_trust(self, idx: np.ndarray, target: np.ndarray, rate: float) -> None:
        """Move own trust of ``idx`` toward ``target`` by fraction ``rate``; keep grid sums exact."""
        if idx.size == 0:
            return
        if type(rate) is float and isinstance(target, np.ndarray) and target.dtype == np.float64 \
                and target.shape == idx.shape and idx.ndim == 1:
            # the usual call (trust_feedback's): one compiled pass, as the numpy below computes it
            # (a Python float rate is weak: the arithmetic stays float32), without np.unique's
            # temporaries and np.add.at (0.2 ms a day)
            _move_trust(idx.astype(np.int64, copy=False), target, np.float32(rate), self.trust, self.trust_sum,
                        self.start)
            return
        idx, first = np.unique(idx, return_index=True)
        target = np.asarray(target, dtype=np.float32)[first] if np.ndim(target) else target
        old = self.trust[idx]
        new = np.clip(old + rate * (target - old), 0.0, 1.0).astype(np.float32)
        self.trust[idx] = new
        np.add.at(self.trust_sum, self.grid_of(idx), (new - old).astype(np.float64))

    def grid_mean_trust(self) -> np.ndarray:
        """Mean effective trust per grid (the shift is applied before clipping is ignored)."""
        return np.clip(self.trust_sum / np.maximum(self.layout.residents_per_grid, 1) + self.trust_shift, 0, 1)

    def mean_trust(self) -> float:
        """City mean trust, from per-grid sums (O(grids), not O(residents))."""
        # np.sum(self.grid_mean_trust() * w) / max(w.sum(), 1), w the residents per grid: the terms
        # and w.sum() in one compiled pass (the daily record's call: 45 µs as numpy, 13 µs so)
        terms, total = _mean_trust_terms(self.trust_sum, self.layout.residents_per_grid, self.trust_shift)
        return float(np.sum(terms) / max(total, 1))

    def view(self, index: int, now: float) -> Resident:
        """A read-only snapshot of one resident."""
        if not 0 <= index < len(self):
            raise IndexError(f"resident {index} out of range [0, {len(self)})")
        i = np.array([index])
        g = int(self.grid_of(i)[0])
        return Resident(index, g, float(self.trust_of(i, np.array([g]))[0]),
                        float(self.propensity[index]), float(self.tension_at(i, now)[0]))


@dataclass(frozen=True)
class Resident:
    """One resident's state: the row ``index`` of the resident table, read at one moment."""

    index: int
    grid: int
    trust: float
    report_propensity: float
    tension: float
    # their grievances: sim.engine.stories.StoryEntry, oldest first (filled by CityModel.resident)
    story: tuple[Any, ...] = ()
