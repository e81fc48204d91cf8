"""Early warning (预测预警): forecast where risks will escalate from what a city can see, score the
forecast against the simulated truth, act on it, and index the city's risk-prevention capacity.

* :mod:`.observe`  — the observation layer (observable columns only) and the feature matrix;
* :mod:`.target`   — the truth a forecast is scored against (escalations, collective incidents);
* :mod:`.scoring`  — AUC, precision and recall at an inspection budget, lead time, calibration;
* :mod:`.response` — pre-emptive visits to flagged grids (``levers.warning_response_visits_per_week``);
* :mod:`.capacity` — the input-side capacity index beside the outcome-side safety index;
* :mod:`.system`   — the weekly stage that ties them together (``model.warning``);
* :mod:`.learn`    — a learned forecaster trained on simulated histories (scikit-learn, the
  ``warning`` extra).
"""
