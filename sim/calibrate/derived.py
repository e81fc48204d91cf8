"""``sim.run`` plus the statistics calibration needs that the core's KPIs do not yet carry.

``run(scenario, params, seed, days)`` builds and runs the model exactly as :func:`sim.run`
does (``load_scenario`` -> ``CityModel`` -> ``run`` -> ``flatten_kpis(model.kpis())``) and adds:

* ``arrivals.per_day`` / ``weekly_var_mean`` — reported (detected) cases per day and the
  variance/mean of their 7-day block counts over the *arrival window*: the days before the
  first shock that stops all emergence (multiplier 0, all categories, all grids) — the
  scenario's way of letting the last cases be observed for 30 days, as the real extraction
  did — else the whole run; a trailing partial week is dropped;
* ``arrivals.month_multiplier.<m>`` — mean reported cases per day in calendar month ``m``
  (from ``world.start_day_of_year``, 365-day year) over the window's mean;
* ``proactive_share`` — share of detected cases found by patrol, screening or video;
* ``mediation_success`` — share of closed cases that entered at community (people's)
  mediation and were resolved there;
* ``resolved_by_tier.{village,township,county,court}`` — resolved shares by tier (grid +
  community, street, district + city, court);
* ``resolved_share_of_reported`` — resolved cases / detected cases (a hotline's resolution rate
  counts the requests it received, not disputes nobody reported).

It also accepts list-element keys in ``params``: ``"handling.mean_hours[3]" = 60`` sets one
element of a list field (validated by the core as a whole list).

When the core's KPIs include these, specs can name ``sim:run`` directly
(docs/calibration.md, "What the core lacks").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

_ELEM = re.compile(r"^(?P<key>[\w.]+)\[(?P<i>\d+)\]$")
_MONTH_START = np.cumsum([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30])


def split_params(params: Mapping[str, Any] | None) -> tuple[dict[str, Any], dict[str, dict[int, Any]]]:
    """Plain dotted keys, and list-element keys grouped as ``{key: {index: value}}``."""
    plain: dict[str, Any] = {}
    elems: dict[str, dict[int, Any]] = {}
    for k, v in (params or {}).items():
        m = _ELEM.match(k)
        if m:
            elems.setdefault(m["key"], {})[int(m["i"])] = v
        else:
            plain[k] = v
    return plain, elems


def build_scenario(scenario: Any, params: Mapping[str, Any] | None = None) -> Any:
    """The scenario with ``params`` applied (list-element keys included)."""
    from sim import ScenarioError, load_scenario

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


def arrival_window(data: Mapping[str, Any], days: int) -> int:
    """Days before the first shock that stops all emergence (else ``days``)."""
    stops = [s["start_day"] for s in data["world"]["shocks"]
             if s["multiplier"] == 0 and not s["category"] and s["share_of_grids"] >= 1]
    return int(min([days, *stops]))


def arrival_stats(daily: np.ndarray, start_day_of_year: int) -> dict[str, float]:
    """Per-day mean, weekly variance/mean and month multipliers of daily arrival counts."""
    daily = np.asarray(daily, dtype=float)
    out: dict[str, float] = {"arrivals.per_day": float(daily.mean()) if daily.size else np.nan}
    n_weeks = daily.size // 7
    weeks = daily[: 7 * n_weeks].reshape(n_weeks, 7).sum(axis=1)
    out["weekly_var_mean"] = (float(weeks.var(ddof=1) / weeks.mean())
                              if n_weeks >= 2 and weeks.mean() > 0 else np.nan)
    doy = (start_day_of_year + np.arange(daily.size)) % 365
    month = np.searchsorted(_MONTH_START, doy, side="right")  # 1..12
    mean = daily.mean() if daily.size else np.nan
    for m in np.unique(month):
        out[f"arrivals.month_multiplier.{int(m)}"] = float(daily[month == m].mean() / mean)
    return out


def case_stats(records: Mapping[str, np.ndarray], open_cases: Mapping[str, np.ndarray]
               ) -> dict[str, float]:
    """Proactive share, mediation success and resolved shares by tier from case records."""
    from sim.engine.cases import PROACTIVE_CHANNELS, Stage

    out: dict[str, float] = {}
    ch = np.concatenate([records["channel"], open_cases["channel"]])
    det = ch >= 0
    out["proactive_share"] = float(np.isin(ch[det], PROACTIVE_CHANNELS).mean()) if det.any() \
        else np.nan
    stage, level = records["stage"], records["level"]
    med = records["entry_level"] == 1
    closed_med = med & np.isin(stage, (Stage.RESOLVED, Stage.FAILED))
    ok = closed_med & (stage == Stage.RESOLVED) & (level == 1)
    out["mediation_success"] = float(ok.sum() / closed_med.sum()) if closed_med.any() else np.nan
    res = stage == Stage.RESOLVED
    n_res = int(res.sum())
    tiers = {"village": (0, 1), "township": (2,), "county": (3, 4), "court": (5,)}
    for name, lv in tiers.items():
        out[f"resolved_by_tier.{name}"] = float(np.isin(level[res], lv).sum() / n_res) if n_res \
            else np.nan
    return out


def run(scenario: Any, params: Mapping[str, Any] | None = None, seed: Any = 0,
        days: int | None = None) -> dict[str, float]:
    """``sim.run`` with the derived statistics of the module docstring added."""
    from sim import CityModel, flatten_kpis
    from sim.io.sinks import MemorySink

    scn = build_scenario(scenario, params)
    sink = MemorySink()
    model = CityModel(scn, rng=seed, case_sink=sink)
    model.run(days)
    out = flatten_kpis(model.kpis())
    ts = model.timeseries()
    window = arrival_window(scn.data, model.day)
    out.update(arrival_stats(ts["detected"].to_numpy()[:window],
                             scn.data["world"]["start_day_of_year"]))
    out.update(case_stats(sink.table(), {"channel": model.cases["channel"]}))
    reported = out["cases_total"] * out["detection_rate"]
    out["resolved_share_of_reported"] = out["cases_resolved"] / reported if reported else np.nan
    return out
