"""Compare mode: the current levers against the scenario's own, with common random numbers.

Both arms run the same scenario with the same seeds (replication ``i`` of each arm uses seed
``i``), so the paired difference of a KPI removes most of the chance variation between runs. For
each KPI we report the mean of each arm, the relative change of the means and a 90% interval for
it from the paired differences (Student t), and one sentence such as
"Escalated −18% (−24% to −11%)".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from ..outcomes import registry
from .i18n import kpi_name, kpi_unit, t

# Which KPIs the compare tab shows, in this order (labels, units and directions: the registry).
COMPARE_KPIS: tuple[str, ...] = (
    "escalated_share", "caused_escalation_share", "collective_incidents", "major_incidents", "safety_index", "mean_trust",
    "grassroots_resolution_share", "median_hours_to_resolution", "p90_hours_to_resolution",
    "mean_detection_delay_hours", "backlog", "misrouted_share", "staff_cost", "resolved_share",
    "cases_total",
)
LEVEL = 0.90
NEGLIGIBLE = 0.01  # a clear change whose whole interval is within ±1% is called negligible
MINUS = "\u2212"


@dataclass(frozen=True)
class KpiDiff:
    """One KPI's comparison (policy minus base) over paired replications."""

    key: str
    base: float
    policy: float
    diff: float
    diff_lo: float
    diff_hi: float
    rel: float | None  # relative change of the mean (None when the base mean is 0)
    rel_lo: float | None
    rel_hi: float | None
    n: int

    @property
    def clear(self) -> bool:
        """True when the interval excludes zero (a clear change)."""
        return self.n > 1 and (self.diff_lo > 0 or self.diff_hi < 0)

    def verdict(self) -> str:
        """"better", "worse", "changed_kpi" (no preferred direction), "negligible" (clear but
        every plausible effect is under 1%) or "unclear"."""
        if not self.clear:
            return "unclear"
        if self.rel_lo is not None and self.rel_hi is not None and \
                max(abs(self.rel_lo), abs(self.rel_hi)) < NEGLIGIBLE:
            return "negligible"
        good = registry.direction(self.key).sign
        if good == 0:
            return "changed_kpi"
        return "better" if (self.diff > 0) == (good > 0) else "worse"


def paired_interval(d: np.ndarray, level: float = LEVEL) -> tuple[float, float, float]:
    """Mean and ``level`` t-interval of paired differences ``d``."""
    n = len(d)
    m = float(np.mean(d)) if n else float("nan")
    if n < 2:
        return m, m, m
    se = float(np.std(d, ddof=1)) / math.sqrt(n)
    q = float(stats.t.ppf(0.5 + level / 2, n - 1))
    return m, m - q * se, m + q * se


def summarise(base: Sequence[Mapping[str, float]], policy: Sequence[Mapping[str, float]],
              keys: Sequence[str] = COMPARE_KPIS) -> list[KpiDiff]:
    """Paired comparison of two lists of KPI dicts (replication i of each used seed i)."""
    if len(base) != len(policy):
        raise ValueError("both arms need the same number of replications")
    out = []
    for key in keys:
        if not base or key not in base[0] or key not in policy[0]:
            continue
        b = np.array([float(r[key]) for r in base])
        p = np.array([float(r[key]) for r in policy])
        if not (np.all(np.isfinite(b)) and np.all(np.isfinite(p))):
            continue
        m, lo, hi = paired_interval(p - b)
        bm = float(b.mean())
        rel: float | None
        rlo: float | None
        rhi: float | None
        if abs(bm) > 1e-12:
            rel, rlo, rhi = m / abs(bm), lo / abs(bm), hi / abs(bm)
        else:
            rel = rlo = rhi = None
        out.append(KpiDiff(key, bm, float(p.mean()), m, lo, hi, rel, rlo, rhi, len(b)))
    return out


def _signed(x: float, digits: int = 0, suffix: str = "") -> str:
    s = f"{abs(x):.{digits}f}"
    if float(s) == 0:
        return f"0{suffix}"
    return f"{'+' if x > 0 else MINUS}{s}{suffix}"


def fmt_value(key: str, value: float, lang: str) -> str:
    """A KPI value for display (shares in per cent, cost in million yuan)."""
    unit = kpi_unit(key, lang)
    if unit == "%":
        return f"{value * 100:.1f}%"
    if registry.unit(key) == "yuan":
        return f"{value / 1e6:,.1f} {unit}"
    if abs(value) >= 100:
        return f"{value:,.0f}" + (f" {unit}" if unit else "")
    return f"{value:.1f}" + (f" {unit}" if unit else "")


SUMMARY_ORDER: tuple[str, ...] = (
    "escalated_share", "caused_escalation_share", "collective_incidents", "major_incidents", "safety_index", "mean_trust",
    "grassroots_resolution_share", "median_hours_to_resolution", "mean_detection_delay_hours",
    "backlog", "staff_cost",
)


def change_text(d: KpiDiff, lang: str) -> str:
    """The change with its interval, e.g. "−18% (−24% to −11%)"."""
    if d.rel is not None and d.rel_lo is not None and d.rel_hi is not None:
        biggest = max(abs(d.rel_lo), abs(d.rel_hi))
        digits = 0 if biggest >= 0.095 else (1 if biggest >= 0.0095 else 2)
        pct, lo, hi = (_signed(x * 100, digits, "%") for x in (d.rel, d.rel_lo, d.rel_hi))
    else:
        yuan = registry.unit(d.key) == "yuan"
        scale = 1e-6 if yuan else (100.0 if kpi_unit(d.key, "en") == "%" else 1.0)
        suffix = " pp" if kpi_unit(d.key, "en") == "%" else ""
        pct, lo, hi = (_signed(x * scale, 1, suffix) for x in (d.diff, d.diff_lo, d.diff_hi))
    if lo == hi:  # no spread between replications (e.g. staff cost)
        return pct
    return t("range", lang, pct=pct, lo=lo, hi=hi)


def sentence(d: KpiDiff, lang: str) -> str:
    """Plain-language change, e.g. "Escalated −18% (−24% to −11%)"."""
    return f"{kpi_name(d.key, lang)} {change_text(d, lang)}"


def summary(diffs: Sequence[KpiDiff], lang: str) -> list[tuple[str, str]]:
    """(text, verdict) lines in plain language, most important first.

    Clear changes of the headline KPIs get one sentence each; the headline KPIs without a clear
    change are named in one line; a line on the extra cost per avoided collective incident
    follows when that is meaningful.
    """
    by_key = {d.key: d for d in diffs}
    lines: list[tuple[str, str]] = []
    unclear: list[str] = []
    for key in SUMMARY_ORDER:
        d = by_key.get(key)
        if d is None:
            continue
        if d.verdict() in ("better", "worse", "changed_kpi"):
            lines.append((sentence(d, lang), d.verdict()))
        else:
            unclear.append(kpi_name(key, lang))
    if unclear:
        sep = "、" if lang == "zh" else ", "
        lines.append((t("no_clear", lang, names=sep.join(unclear)), "unclear"))
    esc, cost = by_key.get("collective_incidents"), by_key.get("staff_cost")
    if esc and cost and esc.clear and esc.diff < 0 and cost.diff > 0:
        per = cost.diff / -esc.diff / 1e6
        lines.append((t("cost_per", lang, v=f"{per:,.2f}"), "changed_kpi"))
    return lines


def run_compare(run: Callable[..., Mapping[str, float]], scenario: Any, params: Mapping[str, Any],
                days: int, replications: int,
                progress: Callable[[int, int], bool | None] | None = None,
                seed0: int = 0) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
    """Run both arms with seeds ``seed0 .. seed0+replications-1``.

    ``run`` is ``sim.run(scenario, params, seed, days)``. ``progress(done, total)`` is called
    after each run; returning False cancels (the runs done so far are returned, paired).
    """
    base: list[dict[str, float]] = []
    policy: list[dict[str, float]] = []
    total = 2 * replications
    for i in range(replications):
        seed = seed0 + i
        b = dict(run(scenario, params=None, seed=seed, days=days))
        if progress is not None and progress(2 * i + 1, total) is False:
            break
        p = dict(run(scenario, params=dict(params), seed=seed, days=days))
        base.append(b)
        policy.append(p)
        if progress is not None and progress(2 * i + 2, total) is False:
            break
    return base, policy


def run_policies(run: Callable[..., Mapping[str, float]], scenario: Any,
                 policies: Sequence[Mapping[str, Any]], days: int, replications: int,
                 progress: Callable[[int, int], bool | None] | None = None,
                 seed0: int = 0) -> tuple[list[dict[str, float]], list[list[dict[str, float]]]]:
    """The scenario and each policy with seeds ``seed0 ..`` (common random numbers: every arm
    of replication ``i`` uses seed ``seed0 + i``). Returns (base runs, runs per policy), paired;
    ``progress`` returning False cancels (complete replications so far are returned)."""
    base: list[dict[str, float]] = []
    arms: list[list[dict[str, float]]] = [[] for _ in policies]
    total = (1 + len(policies)) * replications
    done = 0
    for i in range(replications):
        seed = seed0 + i
        row = [dict(run(scenario, params=None, seed=seed, days=days))]
        done += 1
        stop = progress is not None and progress(done, total) is False
        for params in policies:
            if stop:
                break
            row.append(dict(run(scenario, params=dict(params), seed=seed, days=days)))
            done += 1
            stop = progress is not None and progress(done, total) is False
        if len(row) == 1 + len(policies):
            base.append(row[0])
            for arm, res in zip(arms, row[1:], strict=True):
                arm.append(res)
        if stop:
            break
    return base, arms


def to_rows(diffs: Sequence[KpiDiff], lang: str) -> list[dict[str, Any]]:
    """Table rows (display strings) for the page and the CSV export."""
    rows = []
    for d in diffs:
        rows.append({
            t("cmp_kpi", lang): kpi_name(d.key, lang),
            t("cmp_base", lang): fmt_value(d.key, d.base, lang),
            t("cmp_policy", lang): fmt_value(d.key, d.policy, lang),
            t("cmp_diff", lang): change_text(d, lang),
            t("cmp_verdict", lang): t(d.verdict(), lang),
        })
    return rows


def bar_option(diffs: Sequence[KpiDiff], lang: str) -> dict[str, Any]:
    """ECharts horizontal bars of relative change with 90% whiskers, coloured by verdict."""
    # rel, rel_lo and rel_hi are None together (a zero base mean)
    ds = [(d, d.rel, d.rel_lo, d.rel_hi) for d in diffs
          if d.rel is not None and d.rel_lo is not None and d.rel_hi is not None][::-1]
    colour = {"better": "#2e7d32", "worse": "#c62828", "unclear": "#9e9e9e",
              "negligible": "#9e9e9e", "changed_kpi": "#1565c0"}
    names = [kpi_name(d.key, lang) for d, *_ in ds]
    bars = [{"value": round(rel * 100, 2), "itemStyle": {"color": colour[d.verdict()]}}
            for d, rel, _, _ in ds]
    whiskers = [[round(lo * 100, 2), i, round(hi * 100, 2), i]
                for i, (_, _, lo, hi) in enumerate(ds)]
    return {
        "animation": False,
        "title": {"text": t("cmp_chart", lang), "left": 0, "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "grid": {"left": 10, "right": 30, "top": 40, "bottom": 30, "containLabel": True},
        "xAxis": {"type": "value", "axisLabel": {"formatter": "{value}%"}},
        "yAxis": {"type": "category", "data": names},
        "toolbox": {"right": 0, "feature": {"saveAsImage": {
            "title": t("save_png", lang), "name": "cityrisk-compare", "pixelRatio": 2}}},
        "series": [
            {"type": "bar", "data": bars, "barWidth": "55%", "name": t("cmp_diff", lang)},
            {"type": "lines", "coordinateSystem": "cartesian2d", "silent": True, "z": 5,
             "lineStyle": {"color": "#000", "width": 1.5},
             "data": [{"coords": [[w[0], w[1]], [w[2], w[3]]]} for w in whiskers]},
        ],
    }
