"""The capacity indicator system (风险防范能力指标体系): an input-side index, 0–100.

The safety index (:func:`sim.outcomes.accumulate.safety_index`) scores what a city *achieved*;
this one scores what it has *put in place* to prevent risk — the article's indicator design,
equipment and professional staff — from the levers and the early-warning system's measured
quality, never from outcomes::

    capacity index = 100 × (0.20 S + 0.15 M + 0.15 V + 0.15 I + 0.15 P + 0.20 W)

* S staff: grid workers per 1,000 residents over Zhejiang's 2020 ratio (330,000 grid workers
  for about 64.6 million residents, 5.11 per 1,000; data/china_stylised_facts.md), capped at 1;
* M training: ``levers.mediator_training`` (0–1);
* V video: ``levers.video_coverage`` (share of grids, 雪亮工程);
* I integration: ``levers.resource_integration`` (多网合一, shared platform);
* P platform speed: ``exp(−D / 168)`` with D the hours from detection to the platform
  (``hops_to_platform × latency_hours_per_hop + silo_penalty_hours × (1 − integration)``), the
  time scale of the safety index's detection term;
* W warning quality: ``2 × (AUC − 0.5)`` of the city's early-warning forecast, clipped to [0, 1]
  (0 until it has been scored).

The weights are a stated judgement (each of the article's three input groups — staff,
equipment and platform, prediction — gets about a third), not a fit.
"""

from __future__ import annotations

import math
from typing import Any

ZHEJIANG_GRID_WORKERS_PER_1000 = 330_000 / 64.6e6 * 1000  # data/china_stylised_facts.md (2020)
WEIGHTS = {"staff": 0.20, "training": 0.15, "video": 0.15, "integration": 0.15, "platform": 0.15,
           "warning": 0.20}


def capacity_components(levers: Any, handling: dict[str, Any], grids: int, residents: int,
                        warning_auc: float) -> dict[str, float]:
    """Each component of the index on [0, 1] (names as in :data:`WEIGHTS`)."""
    per_1000 = levers.grid_workers_per_grid * grids / max(residents, 1) * 1000.0
    delay = (handling["hops_to_platform"] * levers.latency_hours_per_hop
             + levers.silo_penalty_hours * (1.0 - levers.resource_integration))
    warn = 0.0 if not math.isfinite(warning_auc) else min(max(2.0 * (warning_auc - 0.5), 0.0), 1.0)
    return {"staff": min(per_1000 / ZHEJIANG_GRID_WORKERS_PER_1000, 1.0),
            "training": float(levers.mediator_training), "video": float(levers.video_coverage),
            "integration": float(levers.resource_integration),
            "platform": math.exp(-delay / 168.0), "warning": warn}


def capacity_index(levers: Any, handling: dict[str, Any], grids: int, residents: int,
                   warning_auc: float) -> float:
    """The capacity index, 0–100 (formula in the module docstring)."""
    c = capacity_components(levers, handling, grids, residents, warning_auc)
    return 100.0 * sum(WEIGHTS[k] * v for k, v in c.items())
