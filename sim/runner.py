"""``run(scenario, params, seed, days) -> dict``: the one evaluator sweeps and calibration share.

``params`` are dotted scenario keys (``"levers.latency_hours_per_hop": 6``) or list elements
(``"handling.mean_hours[3]": 60`` sets one element; the core validates the whole list).
``stats`` names optional statistics computed after the run (:mod:`sim.stats`); without them the
result is the model's KPIs, flattened.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .config.scenario import Scenario, load_scenario
from .engine.streams import SeedLike

#: A list-element key, e.g. ``handling.success[3]``.
LIST_ELEMENT = re.compile(r"^(?P<key>[\w.]+)\[(?P<i>\d+)\]$")


def flatten_kpis(kpis: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """Flatten nested KPI dicts to ``{"by_department.x.cases": 3.0, ...}`` (numbers only)."""
    out: dict[str, float] = {}
    for key, val in kpis.items():
        path = f"{prefix}{key}"
        if isinstance(val, Mapping):
            if key == "provenance":
                continue
            out.update(flatten_kpis(val, path + "."))
        elif isinstance(val, bool | int | float | np.integer | np.floating):
            out[path] = float(val)
    return out


def split_params(params: Mapping[str, Any] | None
                 ) -> tuple[dict[str, Any], dict[str, dict[int, Any]]]:
    """Plain dotted keys, and list-element keys grouped as ``{key: {index: value}}``."""
    plain: dict[str, Any] = {}
    elems: dict[str, dict[int, Any]] = {}
    for k, v in (params or {}).items():
        m = LIST_ELEMENT.match(k)
        if m:
            elems.setdefault(m["key"], {})[int(m["i"])] = v
        else:
            plain[k] = v
    return plain, elems


def build_scenario(scenario: str | Scenario, params: Mapping[str, Any] | None = None
                   ) -> Scenario:
    """The scenario with ``params`` applied, list-element keys included (ScenarioError if a
    value or an index is out of range)."""
    from .config.params import ScenarioError

    plain, elems = split_params(params)
    scn = load_scenario(scenario, plain)
    if not elems:
        return scn
    lists = {}
    for key, items in elems.items():
        base = list(scn.get(key))
        for i, v in items.items():
            if i >= len(base):
                raise ScenarioError(f"{key}[{i}]: index out of range (the list has {len(base)})")
            base[i] = v
        lists[key] = base
    return scn.with_overrides(lists)


def run(scenario: str | Scenario, params: Mapping[str, Any] | None = None, seed: SeedLike = 0,
        days: int | None = None, stats: Sequence[str] = ()) -> dict[str, float]:
    """Build the scenario with ``params``, run it, return flat KPIs plus the ``stats`` asked
    for (names in :data:`sim.stats.STATS`; ValueError for an unknown one)."""
    from .model import CityModel

    scn = build_scenario(scenario, params)
    if not stats:
        model = CityModel(scn, rng=seed)
        model.run(days)
        return flatten_kpis(model.kpis())
    from .io.sinks import MemorySink
    from .stats import Finished, compute, needs_cases

    # case records are kept only when a statistic reads them (they cost memory)
    sink = MemorySink() if needs_cases(stats) else None
    model = CityModel(scn, rng=seed, case_sink=sink)
    model.run(days)
    out = flatten_kpis(model.kpis())
    out.update(compute(stats, Finished(model, scn, out, sink)))
    return out


@functools.cache
def outcome_names(scenario: str = "town") -> frozenset[str]:
    """Output names ``sim.run`` returns for ``scenario`` (flat KPI keys, e.g.
    ``escalated_share`` or ``by_category.cyber.cases``), read off a two-day run of a tiny city.

    The registry (:mod:`sim.outcomes.registry`) declares per-category and per-department
    outcomes as patterns (``by_category.*.cases``); a run gives the exact keys of *this*
    scenario's categories and departments, so a misspelt category is caught too.
    """
    from .model import CityModel

    model = CityModel(load_scenario(scenario, {"city.residents": 1000}), rng=0)
    model.run(2, progress=False)
    return frozenset(flatten_kpis(model.kpis()))
