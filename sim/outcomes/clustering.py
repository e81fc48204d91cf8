"""Clustering statistics of a run's events, in time and on the map (docs/ODD.md §7.16).

* :func:`dispersion_index` — variance/mean of counts per window (weekly sums of a daily series):
  1 for a Poisson process with a constant rate, more when events come in bursts — or when the
  rate drifts: :func:`detrended_dispersion_index` takes a straight-line trend out first;
* :func:`grid_dispersion_index` — the same per grid (weekly counts of each grid's events),
  averaged over grids weighted by their mean: bursts that stay local show here even when the
  city total smooths them out;
* :func:`morans_i` — Moran's I of a per-grid quantity with binary queen-contiguity weights
  (the 8 neighbouring cells of the map, the neighbourhood the model's own spatial terms use):
  ``I = (N / W) Σ_ij w_ij z_i z_j / Σ_i z_i²`` with ``z = x − mean(x)``; 0 (more exactly
  −1/(N − 1)) with no spatial autocorrelation, positive when neighbours are alike.
"""

from __future__ import annotations

import numpy as np

from ..engine.city import CityLayout
from ..engine.escalation import map_neighbourhood_sum


def weekly(daily: np.ndarray) -> np.ndarray:
    """Sums of whole 7-day blocks of a daily series (axis 0; a trailing part-week is dropped)."""
    daily = np.asarray(daily, dtype=np.float64)
    n = daily.shape[0] // 7 * 7
    return daily[:n].reshape(n // 7, 7, *daily.shape[1:]).sum(axis=1)


def dispersion_index(daily: np.ndarray) -> float:
    """Variance/mean of the weekly sums of ``daily`` (NaN without events)."""
    w = weekly(daily)
    return float(w.var(ddof=1) / w.mean()) if w.size > 1 and w.mean() > 0 else float("nan")


def detrended_dispersion_index(daily: np.ndarray) -> float:
    """Variance/mean of the weekly sums of ``daily`` around their least-squares line: a steady
    rise or fall (a queue filling up, say) is not counted as burstiness (NaN without events)."""
    w = weekly(daily)
    if w.size < 3 or w.mean() <= 0:
        return float("nan")
    x = np.arange(w.size, dtype=float)
    resid = w - np.polyval(np.polyfit(x, w, 1), x)
    return float((resid @ resid) / (w.size - 2) / w.mean())


def grid_dispersion_index(day: np.ndarray, grid: np.ndarray, n_grids: int, days: int) -> float:
    """Mean-weighted average over grids of the variance/mean of each grid's weekly counts of the
    events at (``day``, ``grid``)."""
    counts = np.zeros((days, n_grids))
    np.add.at(counts, (np.asarray(day, dtype=np.int64), np.asarray(grid, dtype=np.int64)), 1.0)
    w = weekly(counts)
    mean = w.mean(axis=0)
    var = w.var(axis=0, ddof=1)
    return float(var.sum() / mean.sum()) if mean.sum() > 0 else float("nan")


def morans_i(layout: CityLayout, values: np.ndarray) -> float:
    """Moran's I of ``values`` (one per grid) with queen-contiguity weights on the map."""
    z = np.asarray(values, dtype=np.float64) - float(np.mean(values))
    denom = float(np.sum(z * z))
    if denom == 0:
        return float("nan")
    around = map_neighbourhood_sum(layout, z) - z
    links = float(np.sum(map_neighbourhood_sum(layout, np.ones(z.size)) - 1.0))
    return float(z.size / links * np.sum(z * around) / denom)


def event_days(records: dict[str, np.ndarray], collective: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(day, grid) of every case in ``records``, or, with ``collective``, of every case that
    reached severity ≥ 2 — on the day it got there (emerged there, or ``t_severity2``)."""
    t = records["t_emerge"]
    keep = np.ones(t.size, dtype=bool)
    if collective:
        keep = records["severity"] >= 2
        t = np.where(records["severity0"] >= 2, t, records["t_severity2"])
    return (t[keep] // 24.0).astype(np.int64), records["grid"][keep].astype(np.int64)


def clustering_summary(layout: CityLayout, records: dict[str, np.ndarray], days: int,
                       warmup_days: int = 0) -> dict[str, float]:
    """City weekly dispersion, per-grid weekly dispersion and Moran's I (of counts per 1,000
    residents of each grid) of all emerged cases and of collective incidents (severity ≥ 2),
    over the days from ``warmup_days``."""
    out: dict[str, float] = {}
    for name, coll in (("emerged", False), ("collective", True)):
        day, grid = event_days(records, coll)
        ok = (day >= warmup_days) & (day < days)
        day, grid = day[ok] - warmup_days, grid[ok]
        span = days - warmup_days
        out[f"{name}_weekly_var_mean"] = dispersion_index(np.bincount(day, minlength=span))
        out[f"{name}_weekly_var_mean_detrended"] = detrended_dispersion_index(np.bincount(day, minlength=span))
        out[f"{name}_grid_weekly_var_mean"] = grid_dispersion_index(day, grid, layout.n_grids, span)
        per_grid = np.bincount(grid, minlength=layout.n_grids) / layout.residents_per_grid * 1000.0
        out[f"{name}_morans_i"] = morans_i(layout, per_grid)
        out[f"{name}_count"] = float(day.size)
    return out
