"""A learned forecaster, trained on simulated histories with scikit-learn (the ``warning`` extra).

Histories are ordinary runs (seeds apart from the ones it is evaluated on) with the model keeping
each week's feature matrix; every grid-week whose horizon has passed is one training row, its
label the simulated truth (:mod:`.target`). Nothing is persisted: training a model on ``town``
takes a few runs and a second of fitting, so it is trained when asked for.

Two learners: ``"logistic"`` (standardised features, L2-penalised logistic regression on
``log1p`` counts) and ``"boosting"`` (histogram gradient boosting, a few shallow trees).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from ..engine.streams import SeedLike

LEARNERS = ("logistic", "boosting")


class LearnedForecaster:
    """A fitted scikit-learn classifier; :meth:`score` is the predicted chance of a target event
    in the horizon."""

    def __init__(self, estimator: Any, method: str) -> None:
        self.estimator, self.method = estimator, method

    def score(self, x: np.ndarray) -> np.ndarray:
        """Chance of a target event per row of the feature matrix ``x``."""
        return np.asarray(self.estimator.predict_proba(x)[:, 1], dtype=np.float64)


def history(scenario: Any, seed: SeedLike, days: int, params: Mapping[str, Any] | None = None
            ) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels of every scored grid-week of one simulated run."""
    from ..model import CityModel
    from ..runner import build_scenario

    m = CityModel(build_scenario(scenario, params), rng=seed)
    m.warning.keep_features = True
    m.run(days)
    return m.warning.dataset(m.state)


def fit(x: np.ndarray, y: np.ndarray, method: str = "logistic") -> LearnedForecaster:
    """Fit a learner (one of :data:`LEARNERS`) to features ``x`` and 0/1 labels ``y``
    (:class:`~sim.extras.MissingExtra` without scikit-learn)."""
    from ..extras import require

    require("warning", "the learned early-warning forecaster")
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    if method == "logistic":
        est = make_pipeline(FunctionTransformer(np.log1p), StandardScaler(),
                            LogisticRegression(C=1.0, max_iter=2000))
    elif method == "boosting":
        est = HistGradientBoostingClassifier(max_iter=150, learning_rate=0.05, max_depth=3,
                                             l2_regularization=1.0, random_state=0)
    else:
        raise ValueError(f"learner {method!r}: must be one of {LEARNERS}")
    est.fit(x, y)
    return LearnedForecaster(est, method)


def train(scenario: Any = "town", seeds: Iterable[SeedLike] = (1001, 1002, 1003), days: int = 270,
          params: Mapping[str, Any] | None = None, method: str = "logistic") -> LearnedForecaster:
    """Simulate one history per seed, pool their grid-weeks and fit a learner."""
    xs, ys = zip(*(history(scenario, s, days, params) for s in seeds), strict=True)
    return fit(np.concatenate(xs), np.concatenate(ys), method)
