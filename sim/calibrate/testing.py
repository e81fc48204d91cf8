"""A toy simulator with the signature of ``sim.run``, for tests and dry runs of the fitter.

``toy_run(scenario, params, seed, days)`` returns noisy outputs whose means depend smoothly on
three parameters (``toy.a`` in [0, 2], ``toy.b`` > 0 on a log scale, ``toy.c`` an integer), so
a fit can be checked against the values that generated the data (parameter recovery).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

TRUTH: dict[str, float] = {"toy.a": 0.7, "toy.b": 3.0, "toy.c": 6}
X = np.linspace(0.0, 1.0, 5)
NOISE_SD = 0.05


def toy_means(params: Mapping[str, Any]) -> dict[str, float]:
    """Noise-free outputs of the toy at ``params`` (defaults a=1, b=1, c=0)."""
    a = float(params.get("toy.a", 1.0))
    lb = math.log(float(params.get("toy.b", 1.0)))
    c = float(params.get("toy.c", 0))
    out: dict[str, float] = {f"y.{i}": a * x + lb * (1.0 - x) ** 2 for i, x in enumerate(X)}
    out["share"] = 1.0 / (1.0 + math.exp(-(a - 1.0) * 2.0))
    out["count"] = 0.1 * c + 0.2 * lb
    return out


def toy_run(scenario: Any, params: Mapping[str, Any] | None = None, seed: int = 0,
            days: int | None = None) -> dict[str, float]:
    """Toy outputs at ``params`` plus N(0, NOISE_SD) noise drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    means = toy_means(params or {})
    return {k: v + float(rng.normal(0.0, NOISE_SD)) for k, v in means.items()}


def toy_targets(params: Mapping[str, Any] = TRUTH, n: int = 20, seed: int = 12345
                ) -> dict[str, dict[str, float]]:
    """Target tables from ``n`` runs of the toy at ``params`` (sd = standard error)."""
    runs = [toy_run(None, params, seed + i) for i in range(n)]
    return {k: {"value": float(np.mean([r[k] for r in runs])), "sd": NOISE_SD / math.sqrt(n)}
            for k in runs[0]}
