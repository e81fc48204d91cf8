"""Local analysis around the best point: Jacobian by central differences, Gauss–Newton
(Levenberg–Marquardt) polishing steps, and the delta-method covariance.

All in unit-box coordinates (``fit.to_unit``: [0, 1] per parameter, log scale for ``log``
parameters). Differences are taken with the same seeds at every point (common random numbers),
so the simulator's noise mostly cancels in them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .spec import CalibrationSpec

Evaluate = Callable[[Sequence[Mapping[str, Any]], str], list[dict[str, float]]]


def _unit(spec: CalibrationSpec, params: Mapping[str, float]) -> np.ndarray:
    from .fit import to_unit

    return np.array([to_unit(p, params[p.key]) for p in spec.parameters])


def _params(spec: CalibrationSpec, u: np.ndarray, base: Mapping[str, float]) -> dict[str, float]:
    from .fit import from_unit

    out = dict(base)
    for j, p in enumerate(spec.parameters):
        out[p.key] = from_unit(p, float(u[j]))
    return out


def jacobian(spec: CalibrationSpec, best: Mapping[str, float], evaluate: Evaluate,
             h: float = 0.05) -> np.ndarray:
    """d(simulated fitted targets)/d(unit parameters) at ``best``, shape (targets, parameters)."""
    from .fit import to_unit

    keys = [t.key for t in spec.fitted_targets]
    u0 = _unit(spec, best)
    sets, steps = [], []
    for j, p in enumerate(spec.parameters):
        hj = max(h, 1.0 / (p.hi - p.lo)) if p.integer else h  # at least one integer step
        up, um = u0.copy(), u0.copy()
        up[j], um[j] = min(1.0, u0[j] + hj), max(0.0, u0[j] - hj)
        sp, sm = _params(spec, up, best), _params(spec, um, best)
        sets += [sp, sm]
        steps.append(to_unit(p, sp[p.key]) - to_unit(p, sm[p.key]))
    means = evaluate(sets, "uncertainty (central differences)")
    J = np.zeros((len(keys), len(spec.parameters)))
    for j, step in enumerate(steps):
        if step > 0:
            J[:, j] = [(means[2 * j][k] - means[2 * j + 1][k]) / step for k in keys]
    return np.nan_to_num(J)


def weights(spec: CalibrationSpec, sim_sd: Mapping[str, float], replications: int) -> np.ndarray:
    """w / (sd^2 + simulator variance of the mean) per fitted target."""
    return np.array([t.weight / (t.sd**2 + sim_sd.get(t.key, 0.0) ** 2 / replications)
                     for t in spec.fitted_targets])


def residual_vector(spec: CalibrationSpec, mean: Mapping[str, float]) -> np.ndarray:
    """Simulated minus target per fitted target (NaN -> 0: no information)."""
    return np.nan_to_num(np.array([mean.get(t.key, np.nan) - t.value for t in spec.fitted_targets]))


def lm_step(spec: CalibrationSpec, best: Mapping[str, float], J: np.ndarray, w: np.ndarray,
            r: np.ndarray, lam: float) -> dict[str, float]:
    """One Levenberg–Marquardt step from ``best``: minimise sum w (r + J d)^2 + lam d'Dd."""
    A = J.T @ (w[:, None] * J)
    d = np.diag(A).copy()
    d[d <= 0] = 1.0
    try:
        delta = -np.linalg.solve(A + lam * np.diag(d), J.T @ (w * r))
    except np.linalg.LinAlgError:
        return dict(best)
    return _params(spec, np.clip(_unit(spec, best) + delta, 0.0, 1.0), best)


def covariance(J: np.ndarray, w: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, float]:
    """Delta-method covariance s (J'WJ)^-1 with s = max(1, chi2/(n-k)); unidentified
    parameters (no information) get infinite variance."""
    n, k = J.shape
    chi2 = float(np.sum(w * r**2))
    scale = max(1.0, chi2 / (n - k)) if n > k else 1.0
    info = J.T @ (w[:, None] * J)
    cov = scale * np.linalg.pinv(info, rcond=1e-10)
    unident = np.diag(info) <= 1e-12 * max(1.0, float(np.max(np.diag(info), initial=0.0)))
    cov[unident, :] = 0.0
    cov[:, unident] = 0.0
    cov[unident, unident] = np.inf
    return cov, scale
