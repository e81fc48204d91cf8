"""Draws from a fit's parameter uncertainty, for conclusions under uncertainty.

``parameter_draws(fit_json, n, seed)`` returns ``n`` parameter sets (dotted scenario keys, as
``sim.run`` takes them) drawn from the fit's delta-method distribution: multivariate normal
around the fitted point in unit-box coordinates (log scale for ``log`` parameters) with the
covariance ``fit.json`` stores (``covariance_unit_box``), clipped to the bounds. A parameter
that is *not identified* — infinite variance, or fitted within 1 % of a bound (reported as such
in the fit's notes) — is drawn uniformly over its bounds instead: the data say nothing about
it, so a finding must hold across its whole range.

Re-running a policy comparison once per draw (paired seeds) and reporting the share of draws
in which the finding holds is the "conclusions under uncertainty" check of DESIGN.md §8.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from .fit import AT_BOUND


def _unit(p: dict[str, Any], x: float) -> float:
    lo, hi = p["bounds"]
    if p["log"]:
        return (math.log(x) - math.log(lo)) / (math.log(hi) - math.log(lo))
    return (x - lo) / (hi - lo)


def _value(p: dict[str, Any], u: float) -> float:
    lo, hi = p["bounds"]
    u = min(1.0, max(0.0, u))
    return math.exp(math.log(lo) + u * (math.log(hi) - math.log(lo))) if p["log"] \
        else lo + u * (hi - lo)


def parameter_draws(fit: str | Path | dict[str, Any], n: int, seed: int = 0
                    ) -> list[dict[str, float]]:
    """``n`` parameter sets drawn from a fit report (path to ``fit.json`` or its dict)."""
    rep = fit if isinstance(fit, dict) else json.loads(Path(fit).read_text(encoding="utf-8"))
    params: dict[str, dict[str, Any]] = rep["parameters"]
    keys = list(params)
    k = len(keys)
    u0 = np.array([_unit(params[key], float(params[key]["value"])) for key in keys])
    raw = rep.get("covariance_unit_box") or [[None] * k for _ in range(k)]
    cov = np.array([[math.inf if v is None else float(v) for v in row] for row in raw])
    free = np.array([math.isfinite(cov[j, j]) and AT_BOUND <= u0[j] <= 1 - AT_BOUND
                     for j in range(k)])
    rng = np.random.default_rng(seed)
    u = np.tile(u0, (n, 1))
    if free.any():
        sub = cov[np.ix_(free, free)]
        u[:, free] = rng.multivariate_normal(u0[free], sub, size=n, method="eigh")
    u[:, ~free] = rng.random((n, int((~free).sum())))
    return [{key: _value(params[key], float(u[i, j])) for j, key in enumerate(keys)}
            for i in range(n)]
